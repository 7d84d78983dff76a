"""Options, helpers and the shared input/output flow of the CLI commands."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fellowship.fileio.errors import InputError, OutputError
from fellowship.fileio.jsonl import write_jsonl
from fellowship.fileio.pairs import Pair, read_pairs
from fellowship.models.factory import BackendUnavailable
from fellowship.models.spec import ModelSpec, SpecError
from fellowship.runs.batch import ItemFailure, run_all
from fellowship.runs.threads import checkpointed_items
from fellowship.state.records import Evaluation, Usage

R = TypeVar("R", bound=BaseModel)
E = TypeVar("E", bound=Evaluation)  # a judge's, jury's or debate's verdict
T = TypeVar("T")

# No emoji codes: a model spec such as "openai:m:" is text.
err = Console(stderr=True, emoji=False)
out = Console(highlight=False, soft_wrap=True, emoji=False)


def fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def join_cluster(address: Optional[str], workers: Optional[int]) -> Optional[int]:
    """Join the Ray cluster of --ray (exit 2 without Ray or a cluster); the number of workers, or None to run here."""
    if address is None:
        if workers is not None:
            fail("--workers goes with --ray", 2)
        return None
    from fellowship.runs.cluster import ClusterUnavailable, connect

    try:
        resources = connect(address)
    except ClusterUnavailable as exc:
        fail(str(exc), 2)
    count = workers or max(1, int(resources.get("CPU", 1)))
    err.print(f"ray: {count} workers on a cluster of {int(resources.get('CPU', 0))} CPUs ({address})", highlight=False)
    return count


def check_spec(value: Any) -> Any:
    for spec in value if isinstance(value, list) else [value]:
        if spec is None:
            continue
        try:
            ModelSpec.parse(spec)
        except SpecError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


# Options shared by several commands (the option groups are in commands/options.py).
MODELS = "Model"
LOOP_PANEL = "Loop"
INPUTS = "Input and output"
Question = Annotated[Optional[str], typer.Option("--question", "-q", help="The user prompt both responses answer.", rich_help_panel=INPUTS)]
RespA = Annotated[Optional[str], typer.Option("--a", help="Response A.", rich_help_panel=INPUTS)]
RespB = Annotated[Optional[str], typer.Option("--b", help="Response B.", rich_help_panel=INPUTS)]
Pairs = Annotated[Optional[Path], typer.Option("--pairs", help="JSON Lines of pairs: question, response_a, response_b, optional id.", rich_help_panel=INPUTS)]
OutPath = Annotated[Optional[Path], typer.Option("--out", "-o", help="With --pairs: one JSON row per pair, written atomically. Default: rows on stdout.", rich_help_panel=INPUTS)]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object (with --pairs: JSON rows, and a JSON summary on stderr).", rich_help_panel=INPUTS)]
Concurrency = Annotated[Optional[int], typer.Option("--max-concurrency", min=1, show_default=False, help="Most items at once, and most parallel model calls within one graph run (LangGraph's max_concurrency). Default: 1 when every model is local or served by llama-cpp-python's server (they decode one request at a time, and interleaved requests defeat the prompt cache), else 4.")]
Thread = Annotated[Optional[str], typer.Option("--thread", help="Resume an interrupted single run by its thread id (printed when it started) and show its result.", rich_help_panel=INPUTS)]
Model = Annotated[str, typer.Option("--model", "-m", help="Model spec: local:smollm2 · local:PATH.gguf · openai:MODEL · hf:REPO|URL · hf-local:PATH|REPO.", callback=check_spec, rich_help_panel=MODELS)]
CLUSTER = "Cluster"


def auto_concurrency(value: Optional[int], *specs: Any, base_url: Optional[str] = None) -> int:
    """--max-concurrency, or its default: 1 when every model decodes one request at a time (the
    embedded model, a local transformers model, llama-cpp-python's server), else 4."""
    if value is not None:
        return value
    flat = [str(s) for spec in specs for s in (spec if isinstance(spec, (list, tuple)) else [spec]) if s]
    if all(s.startswith(("local:", "hf-local:")) for s in flat):
        return 1
    from fellowship.models.servers import decodes_one_at_a_time

    serial = all(s.startswith(("local:", "hf-local:", "openai:")) for s in flat)
    return 1 if serial and decodes_one_at_a_time(base_url or os.environ.get("OPENAI_BASE_URL")) else 4


async def checkpointed_run(make: Callable[[], Awaitable[R]]) -> R:
    """A single run under a new checkpoint thread, announced so that it can be resumed or inspected."""
    from fellowship.runs.threads import checkpointing

    async with checkpointing() as thread_id:
        err.print(f"thread {thread_id}", highlight=False)
        return await make()


def resume_run(graph: str, thread: str, show: Callable[[Console, Any], None], as_json: bool) -> None:
    from fellowship.runs.stepping import resume

    values = run_sync(resume(thread, graph), usage_errors=(LookupError,))
    if "verdict" not in values:
        fail(f"thread {thread} has no verdict", 1)
    result = values["verdict"]
    print(json.dumps(result.model_dump(), ensure_ascii=False)) if as_json else show(out, result)


def evaluate_pairs(
    run_one: Callable[[Pair], Awaitable[E]],
    show: Callable[[Console, E], None],
    *,
    question: Optional[str], a: Optional[str], b: Optional[str],
    pairs: Optional[Path], out_path: Optional[Path], as_json: bool, concurrency: int, label: str,
    graph: str = "", thread: Optional[str] = None,
) -> None:
    """The flow every evaluator command shares: one pair from flags (checkpointed), or a file of pairs."""
    if thread:
        resume_run(graph, thread, show, as_json)
        return
    if pairs is None:
        if out_path is not None:
            fail("--out is for --pairs runs", 2)
        given = {"--question": (question or "").strip(), "--a": (a or "").strip(), "--b": (b or "").strip()}
        if missing := [flag for flag, value in given.items() if not value]:
            fail(f"one pair needs --question, --a and --b (missing or empty: {', '.join(missing)}); or give --pairs FILE", 2)
        pair = Pair(id="1", question=question or "", response_a=a or "", response_b=b or "")
        result = run_sync(checkpointed_run(lambda: run_one(pair)))
        if as_json:
            print(json.dumps(result.model_dump(), ensure_ascii=False))
        else:
            show(out, result)
        return
    if question or a or b:
        fail("give either --pairs or --question/--a/--b, not both", 2)
    try:
        items = read_pairs(pairs)
    except InputError as exc:
        fail(str(exc), 2)
    evaluate_file(items, run_one, out_path, as_json, concurrency, label)


def run_sync(coro: Coroutine[Any, Any, T], usage_errors: tuple[type[Exception], ...] = ()) -> T:
    """Run a coroutine (on uvloop where installed); configuration errors exit 2, model failures exit 1."""
    usage: tuple[type[Exception], ...] = (SpecError, BackendUnavailable, *usage_errors)
    try:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - Windows
            return asyncio.run(coro)
        return uvloop.run(coro)
    except usage as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt as exc:
        terminated = type(exc).__name__ == "Terminated"  # SIGTERM (cli.py): 128 + 15, as a shell reports it
        fail(f"{'terminated' if terminated else 'interrupted'}; what finished is journalled: run the same command again to go on",
             143 if terminated else 130)
    except OutputError as exc:
        fail(f"{exc.strerror}; free space or fix the permission, then run the same command again to go on", 1)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        fail(f"model call failed: {type(exc).__name__}: {exc}", 1)


def progress_bar(label: str) -> Progress:
    """The progress bar every long command shows on stderr (a `note` field for running counts)."""
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[note]}"),
                    TimeElapsedColumn(), console=err)


def run_journalled(items: list[Any], job: Callable[[Any], Awaitable[Any]], results: Path, config: dict[str, Any],
                   label: str, base_row: Callable[[Any], dict[str, Any]], concurrency: int,
                   workers: Optional[int] = None) -> list[dict[str, Any]]:
    """Run the items that the results journal lacks, appending each row as it finishes.

    With `workers` the jobs run on the Ray cluster joined by `join_cluster` (`job` must pickle).
    Returns the finished rows, in item order. A journal from another configuration exits 2;
    no finished item at all exits 1.
    """
    from fellowship.runs.journal import Journal, input_hash

    if results.is_dir():
        fail(f"--results {results} is a folder: give a file", 2)
    if not results.parent.is_dir():
        fail(f"--results {results}: the folder {results.parent} does not exist; create it or give another path", 2)
    try:
        journal = Journal(results, json.loads(json.dumps(config)))
    except InputError as exc:
        fail(str(exc), 2)
    digests = {item.id: input_hash(item.model_dump_json()) for item in items}  # exactly what each item asks
    todo = [items[i] for i in journal.pending([(item.id, digests[item.id]) for item in items])]
    redone = sum(journal.changed(item.id, digests[item.id]) for item in items)
    if len(todo) < len(items):
        err.print(f"resuming: {len(items) - len(todo)} of {len(items)} items already in {results}", highlight=False)
    if redone:
        err.print(f"{redone} {'item' if redone == 1 else 'items'} changed since done: doing them again", highlight=False)
    failures = 0
    with progress_bar(label) as progress:
        task = progress.add_task(label, total=len(todo), note="")

        def done(index: int, result: Any) -> None:
            nonlocal failures
            row = {**base_row(todo[index]), "input_hash": digests[todo[index].id]}
            if isinstance(result, ItemFailure):
                failures += 1
                row.update(verdict=None, error=f"model call failed: {result}")
            else:
                row.update(result.model_dump() if isinstance(result, BaseModel) else result)
            journal.append(row)
            progress.update(task, advance=1, note=f"failed {failures}" if failures else "")

        try:
            if workers:
                from fellowship.runs.cluster import run_on_cluster

                run_sync(run_on_cluster(todo, job, workers=workers, concurrency=concurrency, command=label, on_done=done))
            else:
                run_sync(run_all(todo, job, concurrency=concurrency, on_done=done))
        finally:
            journal.close()
    finished = [journal.done[item.id] for item in items if item.id in journal.done and not journal.changed(item.id, digests[item.id])]
    if not finished:
        fail(f"no item finished ({failures} failed); see {results}", 1)
    return finished


def evaluate_file(items: list[Pair], run_one: Callable[[Pair], Awaitable[E]], out_path: Optional[Path], as_json: bool, concurrency: int, label: str) -> None:
    counts = {"A": 0, "B": 0, "tie": 0, "invalid": 0, "failed": 0}
    flagged = ruled = 0
    with progress_bar(label) as progress:
        task = progress.add_task(label, total=len(items), note="")

        def done(index: int, result: Any) -> None:
            nonlocal flagged, ruled
            if isinstance(result, ItemFailure):
                counts["failed"] += 1
            else:
                counts[result.verdict] += 1
                flagged += bool(result.flags)
                ruled += result.ruled is not None
            progress.update(task, advance=1, note=" ".join(f"{k} {v}" for k, v in counts.items() if v))

        batch = str(uuid.uuid4())
        err.print(f"threads {batch}-<id> (one per pair; resume one with --thread)", highlight=False)
        results = run_sync(checkpointed_items(items, run_one, lambda pair: pair.id, batch, concurrency=concurrency, on_done=done))
    rows = [
        {"id": pair.id, "verdict": None, "error": f"model call failed: {result}"}
        if isinstance(result, ItemFailure) else {"id": pair.id, **result.model_dump()}
        for pair, result in zip(items, results)
    ]
    if out_path is None:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        try:
            write_jsonl(out_path, rows)
        except OutputError as exc:
            fail(str(exc.strerror), 1)
    usage = Usage.total(result for result in results if not isinstance(result, ItemFailure))
    labels = _pair_labels(items, results)
    summary = {"pairs": len(items), **counts, "flagged": flagged, "ruled": ruled, **usage.model_dump(), "labels": labels,
               "out": str(out_path) if out_path else None}
    if as_json:
        err.print(json.dumps(summary), highlight=False, soft_wrap=True)
    else:
        where = f" → {out_path}" if out_path else ""
        err.print(
            f"{len(items)} pairs{where}: A {counts['A']} · B {counts['B']} · tie {counts['tie']} · invalid {counts['invalid']}"
            f" · failed {counts['failed']} · {usage.input_tokens} in / {usage.output_tokens} out tokens", highlight=False,
        )
        from fellowship.preference.card import label_lines

        for line in label_lines(labels)[:2] + [f"warning: {w}" for w in labels["warnings"]]:
            err.print(line, highlight=False)
        if flagged:
            err.print(f"{flagged} pairs hold a response flagged as aimed at the evaluator or degenerate ({ruled} decided by rule, "
                      "no model asked); each row's `flags` says which", highlight=False)
    if counts["failed"]:
        fail(f"{counts['failed']} of {len(items)} pairs failed; their rows hold the error", 1)


def _pair_labels(items: list[Pair], results: list[Any]) -> dict[str, Any]:
    """Position and length diagnostics of a pairs file's verdicts (each pair shown as given: A first)."""
    from fellowship.metrics.labels import Decision, label_report

    done = [(pair, r) for pair, r in zip(items, results) if not isinstance(r, ItemFailure)]
    decisions = [Decision("single", "a", "b", r.verdict, consistent=r.consistent) for _, r in done]
    kept = [(p.response_a, p.response_b) if r.verdict == "A" else (p.response_b, p.response_a) for p, r in done if r.verdict in ("A", "B")]
    report = label_report(decisions, kept, {}, [])
    del report["sources"], report["self_preference"]  # the two sides of a pairs file are not sources
    return report


def read_prompt_file(path: Path) -> list[Any]:
    from fellowship.fileio.prompts import read_prompts

    try:
        return read_prompts(path)
    except InputError as exc:
        fail(str(exc), 2)
