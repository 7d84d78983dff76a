"""Development tools: `graph`, `step`, `history`, `fork`, `traces`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from fellowship.commands.common import (
    INPUTS,
    MODELS,
    AsJson,
    Model,
    Question,
    RespA,
    RespB,
    check_spec,
    err,
    fail,
    out,
    run_sync,
)
from fellowship.commands.options import From, grouped
from fellowship.models.settings import ModelOptions
from fellowship.state.debate import DebateContext
from fellowship.state.judge import JudgeContext, JudgeSettings
from fellowship.state.loop import LoopContext

if TYPE_CHECKING:
    from langchain_core.runnables.graph import Graph as DrawableGraph

graph_app = typer.Typer(help="List and draw the workflow graphs (offline).", no_args_is_help=True)


class DrawFormat(str, Enum):
    mermaid = "mermaid"
    ascii = "ascii"


@graph_app.command("list")
def graph_list() -> None:
    """The graphs, their nodes, and the graphs that run inside their nodes."""
    from fellowship.graphs.registry import WORKFLOWS, inner_graphs

    for name, workflow in WORKFLOWS.items():
        nodes = [n for n in workflow.graph.get_graph().nodes if not n.startswith("__")]
        out.print(f"[bold]{name}[/]  {workflow.description}", highlight=False)
        out.print(f"  nodes: {', '.join(nodes)}", highlight=False)
        for node, inner in inner_graphs(name).items():
            out.print(f"  {node} runs: {' | '.join(inner)}", highlight=False)


def _ascii(drawing: DrawableGraph) -> str:
    """grandalf's layout, or, where it cannot place a self-loop, the edges one per line."""
    try:
        return str(drawing.draw_ascii())
    except ValueError:
        edges = [f"  {e.source} {'-.->' if e.conditional else '-->'} {e.target}" for e in drawing.edges]
        return "(no box layout for graphs with self-loops; edges, -.-> conditional)\n" + "\n".join(edges)


@graph_app.command("draw")
def graph_draw(
    name: Annotated[str, typer.Argument(help="judge, jury, debate, loop or generate.")],
    fmt: Annotated[DrawFormat, typer.Option(
        "--format", help="mermaid (paste into any Mermaid viewer) or ascii (terminal).")] = DrawFormat.mermaid,
    nested: Annotated[bool, typer.Option("--nested/--no-nested", help="Also draw the graphs that run inside its nodes.")] = True,
) -> None:
    """Draw a graph, offline."""
    from fellowship.graphs.registry import WORKFLOWS, inner_graphs

    if name not in WORKFLOWS:
        fail(f"unknown graph {name!r} (known: {', '.join(WORKFLOWS)})", 2)
    order = [name]
    for current in order if nested else ():  # breadth first: the graphs inside, then the graphs inside those
        order += [g for g in dict.fromkeys(g for inner in inner_graphs(current).values() for g in inner) if g not in order]
    for index, current in enumerate(order):
        drawing = WORKFLOWS[current].graph.get_graph()
        if index:
            out.print(f"\n{'%% ' if fmt is DrawFormat.mermaid else ''}inside {name}: {current}", highlight=False)
        print(drawing.draw_mermaid() if fmt is DrawFormat.mermaid else _ascii(drawing))


STEP = "Stepping"


def _step_context(graph: str, model: str, member: Optional[list[str]], rounds: int, iterations: int,
                  given: dict[str, Any]) -> ModelOptions:
    """The graph's context: its own defaults, with the options given."""
    from fellowship.state.evaluator import EvaluatorConfig
    from fellowship.state.generate import CandidateConfig, GenerateContext
    from fellowship.state.jury import JuryContext

    settings = {k: v for k, v in given.items() if k in ModelOptions.model_fields}
    judge_cfg = EvaluatorConfig(model=model, **given)
    sources = (CandidateConfig(name="single", kind="single", models=(model,)),
               CandidateConfig(name="loop", kind="loop", models=(model, model)))
    contexts: dict[str, Callable[[], ModelOptions]] = {
        "judge": lambda: JudgeContext(model=model, **given),
        "jury": lambda: JuryContext(members=tuple(member or (model,) * 3), **given),
        "debate": lambda: DebateContext(model=model, rounds=rounds, **settings),
        "loop": lambda: LoopContext(generator=model, reviewers=(model,), iterations=iterations, evaluator=judge_cfg, **settings),
        "generate": lambda: GenerateContext(candidates=sources, iterations=iterations, evaluator=judge_cfg, **settings),
    }
    return contexts[graph]()


@grouped(given=From(JudgeSettings, given_only=True))
def step(
    graph: Annotated[str, typer.Argument(help="judge, jury, debate, loop or generate.")],
    question: Question = None, a: RespA = None, b: RespB = None,
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="loop and generate: the prompt.", rich_help_panel=INPUTS)] = None,
    breakpoints: Annotated[Optional[list[str]], typer.Option(
        "--break", help="Stop only before these nodes (repeat); default: before every node.", rich_help_panel=STEP)] = None,
    thread: Annotated[Optional[str], typer.Option(
        "--thread", help="Resume a thread stopped earlier (its graph, inputs and options are kept).", rich_help_panel=STEP)] = None,
    model: Model = JudgeContext().model,
    member: Annotated[Optional[list[str]], typer.Option(
        "--member", help="jury: a member's spec (repeat; default three of --model).", callback=check_spec,
        rich_help_panel=MODELS)] = None,
    rounds: Annotated[int, typer.Option(min=0, help="debate: rounds.")] = DebateContext().rounds,
    iterations: Annotated[int, typer.Option(min=1, help="loop and generate: responses per loop.")] = LoopContext().iterations,
    *, given: dict[str, Any],
) -> None:
    """Run a graph one node at a time: before each node it stops, shows the step, the next node(s) and what changed in
    the state, and takes a command.

    Commands: Enter or [bold]c[/] continue to the next stop · [bold]r[/] run to the end · [bold]s[/] [FIELD] show the
    state (or one field) · [bold]e[/] FIELD=VALUE edit the state (JSON values) · [bold]q[/] quit, keeping the thread
    resumable with --thread. Works in a terminal and with commands piped on stdin (end of input quits). Checkpoints live
    in .fellowship/checkpoints.sqlite (FELLOWSHIP_HOME moves it).
    """
    from fellowship.graphs.registry import WORKFLOWS
    from fellowship.runs import stepping

    if thread:
        origin = run_sync(stepping.thread_origin(thread), usage_errors=(ValueError,))
        if origin is None:
            fail(f"no checkpoints for thread {thread!r}", 2)
        if origin[0] != graph:
            fail(f"thread {thread} ran the {origin[0]} graph, not {graph}", 2)
        context, inputs, thread_id = origin[1], None, thread
    else:
        if graph not in WORKFLOWS:
            fail(f"unknown graph {graph!r} (known: {', '.join(WORKFLOWS)})", 2)
        if graph in ("loop", "generate"):
            if not prompt:
                fail(f"the {graph} graph needs --prompt", 2)
            inputs = {"prompt": prompt} if graph == "loop" else {"id": "1", "prompt": prompt}
        else:
            missing = [f for f, v in (("--question", question), ("--a", a), ("--b", b)) if not v]
            if missing:
                fail(f"the {graph} graph needs --question, --a and --b (missing: {', '.join(missing)})", 2)
            inputs = {"question": question or "", "response_a": a or "", "response_b": b or ""}
        context = _step_context(graph, model, member, rounds, iterations, given)
        thread_id = stepping.new_thread()
    err.print(f"thread {thread_id}", highlight=False)
    interactive = sys.stdin.isatty()

    def ask(text: str) -> Optional[str]:
        if interactive:
            try:
                return input(text)
            except EOFError:
                return None
        line = sys.stdin.readline()
        return None if line == "" else line.rstrip("\n")

    run_sync(stepping.step_session(graph, context, inputs, thread_id, breakpoints, ask, lambda t: out.print(t, markup=False,
                                   highlight=False)),
         usage_errors=(ValueError,))


def history(thread: Annotated[str, typer.Option("--thread", help="The thread id (printed by step and other runs).")],
            as_json: AsJson = False) -> None:
    """A thread's checkpoints, oldest first: step, node(s) that ran, next node(s), time, checkpoint id."""
    from fellowship.runs import stepping

    name, rows = run_sync(stepping.history(thread), usage_errors=(LookupError,))
    if as_json:
        print(json.dumps({"graph": name, "checkpoints": rows}))
        return
    out.print(f"{name} thread {thread}", highlight=False)
    for row in rows:
        out.print(f"  step {row['step']:>3}  {row['created_at'][11:19]}  ran {', '.join(row['ran']) or '-':<28} next "
                  f"{', '.join(row['next']) or '(end)':<24} {row['checkpoint_id']}", highlight=False)


def fork(
    thread: Annotated[str, typer.Option("--thread", help="The thread to go back in.")],
    checkpoint: Annotated[str, typer.Option("--checkpoint", help="The checkpoint id to continue from (see `history`).")],
    assignments: Annotated[Optional[list[str]], typer.Option(
        "--set", help="Change a state field first: FIELD=VALUE (JSON values; repeat).")] = None,
    as_json: AsJson = False,
) -> None:
    """Time travel: continue a thread from an earlier checkpoint, optionally with changed fields, and run it to the end."""
    from fellowship.runs import stepping

    name, final_id, values = run_sync(stepping.fork(thread, checkpoint, assignments or []), usage_errors=(LookupError, ValueError))
    if as_json:
        print(json.dumps({"graph": name, "thread": thread, "checkpoint_id": final_id, "values": values}))
        return
    out.print(f"forked {name} thread {thread} from {checkpoint}; now at {final_id}", highlight=False)
    out.print(json.dumps({k: values[k] for k in ("verdict", "result") if k in values} or values, indent=2, ensure_ascii=False)[:4000],
              markup=False, highlight=False)


traces_app = typer.Typer(help="Local traces of past runs (names, timings, tokens, inputs, outputs, errors).", no_args_is_help=True)


@traces_app.command("list")
def traces_list(limit: Annotated[int, typer.Option(min=1, help="How many recent runs.")] = 20,
                as_json: AsJson = False) -> None:
    """Recent runs: id, command, graph, status, duration, tokens."""
    from fellowship.tracing.store import recent
    from fellowship.views.traces import show_runs

    runs = recent(limit=limit)
    if as_json:
        print(json.dumps(runs))
    elif not runs:
        err.print("no traces yet (they are written to .fellowship/traces.sqlite as graphs run)", highlight=False)
    else:
        show_runs(out, runs)


@traces_app.command("show")
def traces_show(run_id: Annotated[str, typer.Argument(help="A run id, its first or last characters (see `traces list`); 'last' for the "
                                                           "latest.")],
                full: Annotated[bool, typer.Option("--full", help="Do not truncate inputs and outputs; show them for every run.")] = False,
                as_json: AsJson = False) -> None:
    """One run's tree: graph, nodes and model calls, with timings and token usage."""
    from fellowship.tracing.store import load, recent
    from fellowship.views.traces import show_tree

    if run_id == "last":
        latest = recent(limit=1)
        run_id = latest[0]["id"] if latest else ""
    tree = load(run_id) if run_id else None
    if tree is None:
        fail(f"no single trace matches {run_id!r}; see `fellowship traces list`", 2)
    if as_json:
        print(json.dumps(tree))
    else:
        show_tree(out, tree, full)
