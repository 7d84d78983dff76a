"""The `fellowship` command: parse options, build the run context, invoke a graph, render.

Exit codes: 0 done, 1 a runtime failure (a model call that failed after retries),
2 bad usage or input (the message names the file, line and field).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional, TypeVar

import typer
from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import write_jsonl
from fellowship.fileio.pairs import Pair, read_pairs
from fellowship.models.factory import BackendUnavailable, set_rate_limit
from fellowship.models.spec import ModelSpec, SpecError
from fellowship.prompts.debate import PERSONAS
from fellowship.runs.batch import ItemFailure, run_all
from fellowship.runs.evaluation import debate_pair, judge_pair, jury_pair
from fellowship.state.debate import DebateContext
from fellowship.state.judge import STRATEGIES, JudgeContext
from fellowship.state.jury import JuryContext
from fellowship.views.verdicts import show_debate, show_jury, show_verdict
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(
    help="Build preference datasets with LLM judges, juries, debates and feedback loops.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)
err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)

R = TypeVar("R", bound=BaseModel)
StrategyName = Enum("StrategyName", {s.replace("-", "_"): s for s in STRATEGIES}, type=str)  # type: ignore[misc]


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Build preference datasets with LLM judges, juries, debates and feedback loops.

    Every graph run is traced to ./.fellowship/traces.sqlite (FELLOWSHIP_HOME moves it, FELLOWSHIP_LOCAL_TRACES=0 turns it off; see `fellowship traces`), and to LangSmith when the LANGSMITH_* variables are set.
    """
    from fellowship.tracing.local import enable

    if ctx.invoked_subcommand not in ("traces", "graph"):
        enable(ctx.invoked_subcommand or "")


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _check_spec(value: Any) -> Any:
    for spec in value if isinstance(value, list) else [value]:
        if spec is None:
            continue
        try:
            ModelSpec.parse(spec)
        except SpecError as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


# Options shared by every evaluator command.
MODELS, INPUTS = "Model", "Input and output"
Question = Annotated[Optional[str], typer.Option("--question", "-q", help="The user prompt both responses answer.", rich_help_panel=INPUTS)]
RespA = Annotated[Optional[str], typer.Option("--a", help="Response A.", rich_help_panel=INPUTS)]
RespB = Annotated[Optional[str], typer.Option("--b", help="Response B.", rich_help_panel=INPUTS)]
Pairs = Annotated[Optional[Path], typer.Option("--pairs", help="JSON Lines of pairs: question, response_a, response_b, optional id.", rich_help_panel=INPUTS)]
OutPath = Annotated[Optional[Path], typer.Option("--out", "-o", help="With --pairs: one JSON row per pair, written atomically. Default: rows on stdout.", rich_help_panel=INPUTS)]
AsJson = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object (with --pairs: JSON rows, and a JSON summary on stderr).", rich_help_panel=INPUTS)]
Concurrency = Annotated[Optional[int], typer.Option("--max-concurrency", min=1, show_default=False, help="Most items at once, and most parallel model calls within one graph run (LangGraph's max_concurrency). Default: 1 when every model is local (llama.cpp decodes one request at a time, and interleaved requests defeat its prompt cache), else 4.")]
Thread = Annotated[Optional[str], typer.Option("--thread", help="Resume an interrupted single run by its thread id (printed when it started) and show its result.", rich_help_panel=INPUTS)]
Swap = Annotated[bool, typer.Option("--swap", help="Judge both presentation orders; the same winner twice wins, otherwise tie.")]
Strategy = Annotated[StrategyName, typer.Option(help="direct: A/B/tie · independent: each response scored /10 alone · combined-N: both scored /N in one call.")]
Model = Annotated[str, typer.Option("--model", "-m", help="Model spec: local:smollm2 · local:PATH.gguf · openai:MODEL · hf:REPO|URL · hf-local:PATH|REPO.", callback=_check_spec, rich_help_panel=MODELS)]
Temperature = Annotated[float, typer.Option(min=0.0, max=2.0, help="Sampling temperature (0 = greedy).", rich_help_panel=MODELS)]
MaxTokens = Annotated[int, typer.Option(min=1, help="Most tokens a model may write per reply.", rich_help_panel=MODELS)]
Seed = Annotated[Optional[int], typer.Option(help="Sampling seed, where the backend takes one.", rich_help_panel=MODELS)]
Timeout = Annotated[float, typer.Option(min=0.1, help="Seconds per remote request; 429, 5xx and timeouts are retried with backoff.", rich_help_panel=MODELS)]
BaseUrl = Annotated[Optional[str], typer.Option(help="Base URL of an OpenAI-compatible server for openai: specs (default: OPENAI_BASE_URL).", rich_help_panel=MODELS)]


def _auto_concurrency(value: Optional[int], *specs: Any) -> int:
    if value is not None:
        return value
    flat = [s for spec in specs for s in (spec if isinstance(spec, (list, tuple)) else [spec]) if s]
    return 1 if all(str(s).startswith(("local:", "hf-local:")) for s in flat) else 4


def _settings(**kw: Any) -> dict[str, Any]:
    return {k: kw[k] for k in ("temperature", "max_tokens", "seed", "timeout", "base_url")}


async def _checkpointed(make: Callable[[], Awaitable[R]]) -> R:
    """A single run under a new checkpoint thread, announced so that it can be resumed or inspected."""
    from fellowship.runs.threads import checkpointing

    async with checkpointing() as thread_id:
        err.print(f"thread {thread_id}", highlight=False)
        return await make()


def _resume(graph: str, thread: str, show: Callable[[Console, Any], None], as_json: bool) -> None:
    from fellowship.runs.stepping import resume

    values = _run(resume(thread, graph), usage_errors=(LookupError,))
    if "verdict" not in values:
        _fail(f"thread {thread} has no verdict", 1)
    result = values["verdict"]
    print(json.dumps(result.model_dump(), ensure_ascii=False)) if as_json else show(out, result)


def _evaluate(
    run_one: Callable[[Pair], Awaitable[R]],
    show: Callable[[Console, R], None],
    *,
    question: Optional[str], a: Optional[str], b: Optional[str],
    pairs: Optional[Path], out_path: Optional[Path], as_json: bool, concurrency: int, label: str,
    graph: str = "", thread: Optional[str] = None,
) -> None:
    """The flow every evaluator command shares: one pair from flags (checkpointed), or a file of pairs."""
    if thread:
        _resume(graph, thread, show, as_json)
        return
    if pairs is None:
        if out_path is not None:
            _fail("--out is for --pairs runs", 2)
        missing = [flag for flag, value in (("--question", question), ("--a", a), ("--b", b)) if not (value and value.strip())]
        if missing:
            _fail(f"one pair needs --question, --a and --b (missing or empty: {', '.join(missing)}); or give --pairs FILE", 2)
        pair = Pair(id="1", question=question, response_a=a, response_b=b)  # type: ignore[arg-type]
        result = _run(_checkpointed(lambda: run_one(pair)))
        if as_json:
            print(json.dumps(result.model_dump(), ensure_ascii=False))
        else:
            show(out, result)
        return
    if question or a or b:
        _fail("give either --pairs or --question/--a/--b, not both", 2)
    try:
        items = read_pairs(pairs)
    except InputError as exc:
        _fail(str(exc), 2)
    _evaluate_file(items, run_one, out_path, as_json, concurrency, label)


def _run(coro: Awaitable[R], usage_errors: tuple[type[Exception], ...] = ()) -> R:
    """Run a coroutine (on uvloop where installed); configuration errors exit 2, model failures exit 1."""
    try:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - Windows
            return asyncio.run(coro)  # type: ignore[arg-type]
        return uvloop.run(coro)  # type: ignore[arg-type]
    except (SpecError, BackendUnavailable, *usage_errors) as exc:
        _fail(str(exc), 2)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        _fail(f"model call failed: {type(exc).__name__}: {exc}", 1)


def _evaluate_file(items: list[Pair], run_one: Callable[[Pair], Awaitable[R]], out_path: Optional[Path], as_json: bool, concurrency: int, label: str) -> None:
    counts = {"A": 0, "B": 0, "tie": 0, "invalid": 0, "failed": 0}
    tokens = [0, 0]
    progress = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[note]}"), TimeElapsedColumn(),
        console=err,
    )
    with progress:
        task = progress.add_task(label, total=len(items), note="")

        def done(index: int, result: Any) -> None:
            if isinstance(result, ItemFailure):
                counts["failed"] += 1
            else:
                counts[result.verdict] += 1
                tokens[0] += result.input_tokens
                tokens[1] += result.output_tokens
            progress.update(task, advance=1, note=" ".join(f"{k} {v}" for k, v in counts.items() if v))

        results = _run(run_all(items, run_one, concurrency=concurrency, on_done=done))
    rows = [
        {"id": pair.id, "verdict": None, "error": f"model call failed: {result}"}
        if isinstance(result, ItemFailure) else {"id": pair.id, **result.model_dump()}
        for pair, result in zip(items, results)
    ]
    if out_path is None:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        write_jsonl(out_path, rows)
    summary = {"pairs": len(items), **counts, "input_tokens": tokens[0], "output_tokens": tokens[1], "out": str(out_path) if out_path else None}
    if as_json:
        err.print(json.dumps(summary), highlight=False, soft_wrap=True)
    else:
        where = f" → {out_path}" if out_path else ""
        err.print(
            f"{len(items)} pairs{where}: A {counts['A']} · B {counts['B']} · tie {counts['tie']} · invalid {counts['invalid']}"
            f" · failed {counts['failed']} · {tokens[0]} in / {tokens[1]} out tokens", highlight=False,
        )
    if counts["failed"]:
        _fail(f"{counts['failed']} of {len(items)} pairs failed; their rows hold the error", 1)


@app.command()
def judge(
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    model: Model = "local:smollm2",
    strategy: Strategy = StrategyName.combined_10,  # type: ignore[attr-defined]
    swap: Swap = False, as_json: AsJson = False, concurrency: Concurrency = None, thread: Thread = None,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """Judge which of two responses is better: one model, one of the paper's prompting strategies (LLM-as-a-Judge).

    Verdicts are A, B, tie or invalid. A reply without a readable answer gets one repair turn in the same conversation; if that fails too the verdict is [bold]invalid[/] and the raw text is kept. Scores outside the scale are invalid, never clipped. With [bold]--swap[/] and the independent strategy nothing changes: each response is scored alone.
    """
    ctx = JudgeContext(model=model, strategy=strategy.value, swap=swap, **_settings(**locals()))
    concurrency = _auto_concurrency(concurrency, model)
    _evaluate(lambda pair: judge_pair(pair, ctx, concurrency), show_verdict, question=question, a=a, b=b,
              pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="judging",
              graph="judge", thread=thread)


@app.command()
def jury(
    member: Annotated[list[str], typer.Option("--member", help="A jury member's model spec; repeat for each member (repeats allowed).", callback=_check_spec, rich_help_panel=MODELS)],
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    strategy: Strategy = StrategyName.combined_10,  # type: ignore[attr-defined]
    swap: Annotated[bool, typer.Option("--swap", help="Each member judges both orders; its vote is the same winner twice, otherwise tie.")] = False,
    shuffle: Annotated[bool, typer.Option("--shuffle", help="Show a seeded half of the members B first, so position bias does not line up across the panel.")] = False,
    shuffle_seed: Annotated[int, typer.Option(help="Seed of --shuffle.")] = 0,
    as_json: AsJson = False, concurrency: Concurrency = None, thread: Thread = None,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """Let several models judge the pair independently and concurrently; the plurality decides (LLMs-as-a-Jury).

    Each member votes A, B or tie with the judge and its strategy. When two or more labels share the top count the verdict is a tie. Invalid votes are left out of the count and reported; when every vote is invalid the verdict is [bold]invalid[/]. The scores shown are the means of the members' scores.
    """
    if len(member) < 2 and not thread:
        _fail("a jury needs at least two --member options", 2)
    ctx = JuryContext(members=tuple(member), strategy=strategy.value, swap=swap, shuffle=shuffle, shuffle_seed=shuffle_seed, **_settings(**locals()))
    concurrency = _auto_concurrency(concurrency, member)
    _evaluate(lambda pair: jury_pair(pair, ctx, concurrency), show_jury, question=question, a=a, b=b,
              pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="jury",
              graph="jury", thread=thread)


@app.command()
def debate(
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    model: Model = "local:smollm2",
    referee_model: Annotated[Optional[list[str]], typer.Option("--referee-model", help=f"One model spec per referee, in order ({', '.join(PERSONAS)}); default: --model for all.", callback=_check_spec, rich_help_panel=MODELS)] = None,
    rounds: Annotated[int, typer.Option(min=0, help="Discussion rounds before the closing scores.")] = 2,
    swap: Annotated[bool, typer.Option("--swap", help="Run a second debate with B shown as Assistant 1; the same winner twice wins, otherwise tie.")] = False,
    as_json: AsJson = False, concurrency: Concurrency = None, thread: Thread = None,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """Let three referees (General Public, Psychologist, Critic) discuss the pair, then score it each on their own (LLM Debate).

    Within a round the referees speak in that order and each sees the whole discussion so far. After the rounds every referee, concurrently, explains and scores both responses /10. Each response's score is the mean over the referees whose scores could be read (one repair turn each); the higher mean wins, equal means tie, none readable is [bold]invalid[/].
    """
    if referee_model and len(referee_model) != len(PERSONAS):
        _fail(f"--referee-model must be given once per referee ({len(PERSONAS)}), or not at all", 2)
    ctx = DebateContext(model=model, referee_models=tuple(referee_model or ()), rounds=rounds, **_settings(**locals()))
    concurrency = _auto_concurrency(concurrency, model, referee_model)
    _evaluate(lambda pair: debate_pair(pair, ctx, swap, concurrency), show_debate, question=question, a=a, b=b,
              pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="debate",
              graph="debate", thread=thread)


class EvaluatorName(str, Enum):
    judge = "judge"
    jury = "jury"
    debate = "debate"


class RecordedKind(str, Enum):
    judge = "judge"
    debate = "debate"


LIVE, RECORDED = "Live run", "Recorded outputs"


@app.command()
def agreement(
    dataset: Annotated[str, typer.Option(help="Human-labelled pairs: a local file (PandaLM, FairEval, LLMBar, Auto-J, LLMEval2, items.jsonl) or a Hub dataset id with conversation_a/conversation_b/winner.", rich_help_panel=INPUTS)],
    fmt: Annotated[Optional[str], typer.Option("--format", help="Dataset format when it cannot be detected: pandalm, faireval, llmbar, autoj, llmeval2, items, arena.", rich_help_panel=INPUTS)] = None,
    split: Annotated[str, typer.Option(help="Split of a Hub dataset.", rich_help_panel=INPUTS)] = "test",
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N items.", rich_help_panel=INPUTS)] = None,
    recorded: Annotated[Optional[list[Path]], typer.Option("--recorded", help="A file of recorded evaluator replies (paper-outputs format, one record per item, dataset order). Several judge files form a jury.", rich_help_panel=RECORDED)] = None,
    kind: Annotated[RecordedKind, typer.Option(help="What the recorded files hold: judge replies ('response') or debates ('response_1..3').", rich_help_panel=RECORDED)] = RecordedKind.judge,
    every_jury: Annotated[bool, typer.Option("--all-juries", help="Rank every jury of two or more of the recorded judges.", rich_help_panel=RECORDED)] = False,
    as_authors: Annotated[bool, typer.Option("--as-authors", help="Score recorded texts as the paper's authors did: where their parser failed (score -1) their recorded scores are compared as they are, a judge text ours cannot read is a tie, an unreadable debate final counts 0/0. Default: unreadable texts are invalid.", rich_help_panel=RECORDED)] = False,
    evaluator: Annotated[EvaluatorName, typer.Option(help="Live: which evaluator graph to run.", rich_help_panel=LIVE)] = EvaluatorName.judge,
    model: Model = "local:smollm2",
    member: Annotated[Optional[list[str]], typer.Option("--member", help="Live jury: a member's model spec (repeat).", callback=_check_spec, rich_help_panel=LIVE)] = None,
    referee_model: Annotated[Optional[list[str]], typer.Option("--referee-model", help="Live debate: one model spec per referee.", callback=_check_spec, rich_help_panel=LIVE)] = None,
    strategy: Strategy = StrategyName.combined_10,  # type: ignore[attr-defined]
    rounds: Annotated[int, typer.Option(min=0, help="Live debate: discussion rounds.", rich_help_panel=LIVE)] = 2,
    swap: Swap = False,
    results: Annotated[Path, typer.Option(help="Live: per-item results with raw texts; also the resume journal (rerun the same command to continue).", rich_help_panel=LIVE)] = Path("agreement-results.jsonl"),
    concurrency: Concurrency = None,
    bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for the kappa interval (0 = none).")] = 1000,
    as_json: AsJson = False,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """How well an evaluator agrees with human labels: Cohen's kappa (unweighted, 3 classes) with a bootstrap 95% interval, accuracy, confusion matrix, tie rates, invalid count, position consistency and length preference.

    [bold]Recorded[/]: parse evaluator replies recorded elsewhere (--recorded) with this project's parsers. [bold]Live[/]: run the judge, jury or debate over the dataset, concurrently and resumably.

    Invalid verdicts (replies that could not be read) stay in the count as a class of their own, which never agrees with a human label; the report counts them. --as-authors reproduces the paper's own treatment instead.
    """
    from fellowship.readers.labelled import read_labelled
    from fellowship.runs import agreement as ag
    from fellowship.views.agreement import show_juries, show_report

    try:
        pairs = read_labelled(dataset, fmt, split)
    except InputError as exc:
        _fail(str(exc), 2)
    pairs = pairs[:limit] if limit else pairs
    if recorded:
        try:
            members = ag.recorded_labels(pairs, recorded, kind.value, as_authors)
        except InputError as exc:
            _fail(str(exc), 2)
        if len(members) != len(recorded):
            _fail("two --recorded files share a file name; the name identifies the member", 2)
        name = next(iter(members)) if len(members) == 1 else "jury of " + " + ".join(members)
        labels = next(iter(members.values())) if len(members) == 1 else ag.jury_labels(members, list(members))
        result = ag.report(f"{kind.value} {name}" if len(members) == 1 else name, pairs, labels, ci_rounds=bootstrap)
        if every_jury:
            if len(members) < 2:
                _fail("--all-juries needs at least two --recorded judge files", 2)
            result["juries"] = ag.all_juries(pairs, members)
        if as_json:
            print(json.dumps(result))
        else:
            show_report(out, result)
            if every_jury:
                show_juries(out, result["juries"])
        return
    concurrency = _auto_concurrency(concurrency, model, member, referee_model)
    result = _live_agreement(pairs, evaluator.value, locals(), results, concurrency, bootstrap)
    if as_json:
        print(json.dumps(result))
    else:
        show_report(out, result)


def _live_agreement(pairs: list[Any], evaluator: str, opts: dict[str, Any], results: Path, concurrency: int, bootstrap: int) -> dict[str, Any]:
    from fellowship.runs import agreement as ag
    from fellowship.runs.journal import Journal

    settings = _settings(**opts)
    if evaluator == "judge":
        ctx: Any = JudgeContext(model=opts["model"], strategy=opts["strategy"].value, swap=opts["swap"], **settings)
        run_one: Any = lambda pair: judge_pair(pair, ctx, concurrency)  # noqa: E731
    elif evaluator == "jury":
        if not opts["member"] or len(opts["member"]) < 2:
            _fail("a live jury needs at least two --member options", 2)
        ctx = JuryContext(members=tuple(opts["member"]), strategy=opts["strategy"].value, swap=opts["swap"], **settings)
        run_one = lambda pair: jury_pair(pair, ctx, concurrency)  # noqa: E731
    else:
        if opts["referee_model"] and len(opts["referee_model"]) != len(PERSONAS):
            _fail(f"--referee-model must be given once per referee ({len(PERSONAS)}), or not at all", 2)
        ctx = DebateContext(model=opts["model"], referee_models=tuple(opts["referee_model"] or ()), rounds=opts["rounds"], **settings)
        run_one = lambda pair: debate_pair(pair, ctx, opts["swap"], concurrency)  # noqa: E731
    config = {"evaluator": evaluator, "context": {k: v for k, v in vars(ctx).items()}, "swap": opts["swap"], "dataset": opts["dataset"]}
    try:
        journal = Journal(results, json.loads(json.dumps(config)))
    except InputError as exc:
        _fail(str(exc), 2)
    todo = [p for p in pairs if p.id not in journal.done]
    if len(todo) < len(pairs):
        err.print(f"resuming: {len(pairs) - len(todo)} of {len(pairs)} items already in {results}", highlight=False)

    def record(pair: Any, result: Any) -> None:
        row = {"id": pair.id, "human": pair.human}
        row.update({"verdict": None, "error": f"model call failed: {result}"} if isinstance(result, ItemFailure) else result.model_dump())
        journal.append(row)

    failures = 0
    progress = Progress(TextColumn(evaluator), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=err)
    with progress:
        task = progress.add_task(evaluator, total=len(todo), note="")

        def done(index: int, result: Any) -> None:
            nonlocal failures
            failures += isinstance(result, ItemFailure)
            record(todo[index], result)
            progress.update(task, advance=1, note=f"failed {failures}" if failures else "")

        from fellowship.fileio.pairs import Pair as PlainPair

        plain = [PlainPair(id=p.id, question=p.question, response_a=p.response_a, response_b=p.response_b) for p in todo]
        try:
            _run(run_all(plain, run_one, concurrency=concurrency, on_done=done))
        finally:
            journal.close()
    finished = [p for p in pairs if p.id in journal.done]
    if not finished:
        _fail(f"no item finished ({failures} failed); see {results}", 1)
    rows = [journal.done[p.id] for p in finished]
    name = f"{evaluator} " + (", ".join(opts["member"]) if evaluator == "jury" else opts["model"])
    result = ag.report(name, finished, [r["verdict"] for r in rows], consistency=ag.consistency_of(rows), ci_rounds=bootstrap)
    result["results"] = str(results)
    result["failed"] = len(pairs) - len(finished)
    if result["failed"]:
        err.print(f"{result['failed']} items failed and are left out of the report; rerun the command to retry them", highlight=False)
    return result


EVALUATOR = "Evaluator (knockout and win rate)"
LOOP = "Loop"
Generator = Annotated[str, typer.Option("--generator", help="The generator's model spec.", callback=_check_spec, rich_help_panel=LOOP)]
Reviewers = Annotated[Optional[list[str]], typer.Option("--reviewer", help="A reviewer's model spec; repeat for several (default: one local:smollm2).", callback=_check_spec, rich_help_panel=LOOP)]
Iterations = Annotated[int, typer.Option(min=1, help="Responses the generator writes (the paper's 3).", rich_help_panel=LOOP)]
StopAt = Annotated[Optional[float], typer.Option(min=0, max=10, help="Stop early once every reviewer scores the latest response at or above this (off by default).", rich_help_panel=LOOP)]
EvalKind = Annotated[EvaluatorName, typer.Option("--evaluator", help="Who picks the best response and compares with the baseline.", rich_help_panel=EVALUATOR)]
JudgeModel = Annotated[str, typer.Option("--judge-model", help="The judge's (or all referees') model spec.", callback=_check_spec, rich_help_panel=EVALUATOR)]
Members = Annotated[Optional[list[str]], typer.Option("--member", help="With --evaluator jury: a member's spec (repeat).", callback=_check_spec, rich_help_panel=EVALUATOR)]
RefModels = Annotated[Optional[list[str]], typer.Option("--referee-model", help="With --evaluator debate: one spec per referee.", callback=_check_spec, rich_help_panel=EVALUATOR)]
EvalStrategy = Annotated[StrategyName, typer.Option("--strategy", help="The judge's (and jurors') strategy.", rich_help_panel=EVALUATOR)]
EvalSwap = Annotated[bool, typer.Option("--swap", help="The evaluator judges both orders (same winner twice, else tie).", rich_help_panel=EVALUATOR)]
EvalRounds = Annotated[int, typer.Option("--rounds", min=0, help="With --evaluator debate: discussion rounds.", rich_help_panel=EVALUATOR)]


def _evaluator_config(kind: EvaluatorName, judge_model: str, member: Optional[list[str]], referee_model: Optional[list[str]],
                      strategy: Any, swap: bool, rounds: int, settings: dict[str, Any]) -> Any:
    from fellowship.runs.evaluation import EvaluatorConfig

    if kind is EvaluatorName.jury and (not member or len(member) < 2):
        _fail("--evaluator jury needs at least two --member options", 2)
    if referee_model and len(referee_model) != len(PERSONAS):
        _fail(f"--referee-model must be given once per referee ({len(PERSONAS)}), or not at all", 2)
    return EvaluatorConfig(kind=kind.value, model=judge_model, members=tuple(member or ()), referee_models=tuple(referee_model or ()),
                           strategy=strategy.value, swap=swap, rounds=rounds, **settings)


def _loop_context(generator: str, reviewer: Optional[list[str]], iterations: int, stop_at: Optional[float], evaluator: Any, settings: dict[str, Any]) -> Any:
    from fellowship.state.loop import LoopContext

    return LoopContext(generator=generator, reviewers=tuple(reviewer or ("local:smollm2",)), iterations=iterations,
                       stop_at=stop_at, evaluator=evaluator, **settings)


def _read_prompts(path: Path) -> list[Any]:
    from fellowship.fileio.prompts import read_prompts

    try:
        return read_prompts(path)
    except InputError as exc:
        _fail(str(exc), 2)


@app.command()
def refine(
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="One prompt to answer.", rich_help_panel=INPUTS)] = None,
    prompts: Annotated[Optional[Path], typer.Option("--prompts", help="Many prompts: JSON Lines with 'prompt' (optional 'id'), or text with one per line.", rich_help_panel=INPUTS)] = None,
    out_path: Annotated[Optional[Path], typer.Option("--out", "-o", help="With --prompts: one JSON row per prompt, written atomically. Default: rows on stdout.", rich_help_panel=INPUTS)] = None,
    generator: Generator = "local:smollm2", reviewer: Reviewers = None, iterations: Iterations = 3, stop_at: StopAt = None,
    evaluator: EvalKind = EvaluatorName.judge, judge_model: JudgeModel = "local:smollm2", member: Members = None,
    referee_model: RefModels = None, strategy: EvalStrategy = StrategyName.combined_10, swap: EvalSwap = False,  # type: ignore[attr-defined]
    rounds: EvalRounds = 2, as_json: AsJson = False, concurrency: Concurrency = None,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """Improve a response with the LLM Feedback Loop: a generator writes, reviewers critique, the generator revises.

    Each role keeps its own conversation. Reviewers answer with an evaluation, [bold]Overall Score: X/10[/] and feedback (one repair turn when the score cannot be read; a failing reviewer is left out). After the last response the evaluator picks the best in a knockout: 1 vs 2, the winner vs 3; a tie or an invalid verdict carries the later response forward.
    """
    from fellowship.fileio.prompts import PromptItem
    from fellowship.runs.winrate import refine as run_refine
    from fellowship.views.loop import show_loop

    settings = _settings(**locals())
    ctx = _loop_context(generator, reviewer, iterations, stop_at,
                        _evaluator_config(evaluator, judge_model, member, referee_model, strategy, swap, rounds, settings), settings)
    concurrency = _auto_concurrency(concurrency, generator, reviewer, judge_model, member, referee_model)
    if prompts is None:
        if not prompt or not prompt.strip():
            _fail("give --prompt TEXT or --prompts FILE", 2)
        if out_path is not None:
            _fail("--out is for --prompts runs", 2)
        result = _run(_checkpointed(lambda: run_refine(PromptItem(id="1", prompt=prompt), ctx, concurrency)))
        print(json.dumps(result.model_dump(), ensure_ascii=False)) if as_json else show_loop(out, result)
        return
    if prompt:
        _fail("give either --prompt or --prompts, not both", 2)
    items = _read_prompts(prompts)
    failed = 0
    with Progress(TextColumn("refine"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task("refine", total=len(items))
        results = _run(run_all(items, lambda item: run_refine(item, ctx, concurrency), concurrency=concurrency,
                               on_done=lambda i, r: progress.update(task, advance=1)))
    rows = []
    for item, result in zip(items, results):
        if isinstance(result, ItemFailure):
            failed += 1
            rows.append({"id": item.id, "prompt": item.prompt, "error": f"model call failed: {result}"})
        else:
            rows.append({"id": item.id, **result.model_dump()})
    if out_path:
        write_jsonl(out_path, rows)
    else:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    err.print(f"{len(items)} prompts{' → ' + str(out_path) if out_path else ''}: {len(items) - failed} refined, {failed} failed", highlight=False)
    if failed:
        _fail(f"{failed} of {len(items)} prompts failed; their rows hold the error", 1)


@app.command()
def winrate(
    prompts: Annotated[Optional[Path], typer.Option("--prompts", help="Live: prompts (JSON Lines with 'prompt', or one per line).", rich_help_panel=INPUTS)] = None,
    recorded: Annotated[Optional[list[Path]], typer.Option("--recorded", help="Recorded comparisons (paper-outputs capybara-winrate format: evaluator text with Assistant A = the loop's output); repeat for a table.", rich_help_panel=INPUTS)] = None,
    baseline: Annotated[str, typer.Option(help="Live: the single model whose one answer is the baseline (B).", callback=_check_spec, rich_help_panel=LOOP)] = "local:smollm2",
    generator: Generator = "local:smollm2", reviewer: Reviewers = None, iterations: Iterations = 3, stop_at: StopAt = None,
    evaluator: EvalKind = EvaluatorName.judge, judge_model: JudgeModel = "local:smollm2", member: Members = None,
    referee_model: RefModels = None, strategy: EvalStrategy = StrategyName.combined_10, swap: EvalSwap = False,  # type: ignore[attr-defined]
    rounds: EvalRounds = 2,
    results: Annotated[Path, typer.Option(help="Live: per-prompt results; also the resume journal (rerun the same command to continue).", rich_help_panel=INPUTS)] = Path("winrate-results.jsonl"),
    as_json: AsJson = False, concurrency: Concurrency = None,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """Win rate of the feedback loop's output (A) against a single model's answer (B), judged by the evaluator.

    A win is an A verdict; ties and invalid verdicts are not wins (the paper's rule), and every prompt counts. Also shown: the win rate counting ties as half, and a 95% Wilson interval. [bold]--recorded[/] reads comparisons recorded elsewhere instead of running models.
    """
    from fellowship.metrics.winrate import win_report
    from fellowship.runs.journal import Journal
    from fellowship.runs.winrate import compare_with_baseline, recorded_winrate
    from fellowship.views.loop import show_winrates

    if recorded:
        if prompts:
            _fail("give either --prompts (live) or --recorded, not both", 2)
        try:
            reports = [recorded_winrate(path) for path in recorded]
        except InputError as exc:
            _fail(str(exc), 2)
        print(json.dumps(reports if len(reports) > 1 else reports[0])) if as_json else show_winrates(out, reports)
        return
    if prompts is None:
        _fail("give --prompts FILE for a live run, or --recorded FILE", 2)
    items = _read_prompts(prompts)
    settings = _settings(**locals())
    judge_cfg = _evaluator_config(evaluator, judge_model, member, referee_model, strategy, swap, rounds, settings)
    ctx = _loop_context(generator, reviewer, iterations, stop_at, judge_cfg, settings)
    concurrency = _auto_concurrency(concurrency, generator, reviewer, judge_model, member, referee_model, baseline)
    config = json.loads(json.dumps({"prompts": str(prompts), "baseline": baseline, "loop": {k: v for k, v in vars(ctx).items() if k != "evaluator"},
                                    "evaluator": vars(judge_cfg)}))
    try:
        journal = Journal(results, config)
    except InputError as exc:
        _fail(str(exc), 2)
    todo = [item for item in items if item.id not in journal.done]
    if len(todo) < len(items):
        err.print(f"resuming: {len(items) - len(todo)} of {len(items)} prompts already in {results}", highlight=False)
    with Progress(TextColumn("winrate"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err) as progress:
        task = progress.add_task("winrate", total=len(todo))

        def done(index: int, result: Any) -> None:
            item = todo[index]
            row = {"id": item.id, "prompt": item.prompt}
            row.update({"verdict": None, "error": f"model call failed: {result}"} if isinstance(result, ItemFailure) else result)
            journal.append(row)
            progress.update(task, advance=1)

        try:
            _run(run_all(todo, lambda item: compare_with_baseline(item, ctx, baseline, judge_cfg, concurrency), concurrency=concurrency, on_done=done))
        finally:
            journal.close()
    finished = [journal.done[item.id] for item in items if item.id in journal.done]
    if not finished:
        _fail(f"no prompt finished; see {results}", 1)
    report = {"name": f"loop {generator} → {', '.join(ctx.reviewers)} vs {baseline}", "evaluator": judge_cfg.describe(),
              **win_report([row["verdict"] for row in finished]), "failed": len(items) - len(finished), "results": str(results)}
    if as_json:
        print(json.dumps(report))
    else:
        show_winrates(out, [report])
        err.print(f"evaluator: {report['evaluator']} · results in {results}", highlight=False)
    if report["failed"]:
        _fail(f"{report['failed']} prompts failed and are left out; rerun the command to retry them", 1)


class PairingName(str, Enum):
    all = "all"
    knockout = "knockout"


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


DATASET = "Dataset"


def _named(values: list[str], flag: str) -> list[tuple[str, list[str]]]:
    """NAME=SPEC[,SPEC...] options; every spec is checked."""
    named = []
    for value in values:
        name, sep, specs = value.partition("=")
        if not sep or not name.strip() or not specs.strip():
            _fail(f"{flag} {value!r}: expected NAME=SPEC" + ("[,REVIEWER-SPEC...]" if flag == "--loop" else ""), 2)
        parts = [p.strip() for p in specs.split(",")]
        for spec in parts:
            try:
                ModelSpec.parse(spec)
            except SpecError as exc:
                _fail(f"{flag} {value!r}: {exc}", 2)
        named.append((name.strip(), parts))
    return named


def _load_prompt_source(source: str, field: str, split: str) -> list[Any]:
    """A local prompts file, or a Hugging Face dataset id (online) with a `field` column."""
    from fellowship.fileio.prompts import PromptItem

    path = Path(source)
    if path.exists() or "/" not in source or source.startswith((".", "/")):
        return _read_prompts(path)
    try:
        import datasets  # type: ignore[import-not-found]

        rows = datasets.load_dataset(source, split=split)
    except ImportError:
        _fail(f"{source!r} is not a local file, and Hub datasets need: pip install datasets", 2)
    except Exception as exc:  # noqa: BLE001 - offline or unknown: say which
        _fail(f"{source!r} is not a local file and the Hugging Face Hub cannot provide it ({type(exc).__name__}: {exc})", 2)
    if field not in rows.column_names:
        _fail(f"{source}: no column {field!r} (columns: {', '.join(rows.column_names)}); name it with --prompt-field", 2)
    return [PromptItem(id=str(i), prompt=str(r[field])) for i, r in enumerate(rows) if str(r[field]).strip()]


@app.command()
def generate(
    prompts: Annotated[str, typer.Option("--prompts", help="Prompts: JSON Lines with 'prompt' (optional 'id'), a text file with one per line, or a Hugging Face dataset id (online).", rich_help_panel=INPUTS)],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder: <kind>_dpo, <kind>_kto, summary.json, and the resume journal.", rich_help_panel=INPUTS)],
    prompt_field: Annotated[str, typer.Option(help="Column of the prompts in a Hub dataset.", rich_help_panel=INPUTS)] = "prompt",
    split: Annotated[str, typer.Option(help="Split of a Hub dataset.", rich_help_panel=INPUTS)] = "train",
    candidate: Annotated[Optional[list[str]], typer.Option("--candidate", help="A single-model source: NAME=SPEC (repeat).", rich_help_panel=LOOP)] = None,
    loop: Annotated[Optional[list[str]], typer.Option("--loop", help="A feedback-loop source: NAME=GENERATOR,REVIEWER[,REVIEWER...] (repeat).", rich_help_panel=LOOP)] = None,
    iterations: Iterations = 3,
    pairing: Annotated[PairingName, typer.Option(help="With more than two sources: compare every pair (all), or a knockout in the given order (each winner meets the next; a tie or invalid verdict carries the later one).", rich_help_panel=EVALUATOR)] = PairingName.all,
    evaluator: EvalKind = EvaluatorName.judge, judge_model: JudgeModel = "local:smollm2", member: Members = None,
    referee_model: RefModels = None, strategy: EvalStrategy = StrategyName.combined_10, swap: EvalSwap = False,  # type: ignore[attr-defined]
    rounds: EvalRounds = 2,
    kind: Annotated[Optional[list[str]], typer.Option("--kind", help="Which datasets: single (single-model improvement) and/or workflow (the loops' revisions and reviewer feedback). Default both.", rich_help_panel=DATASET)] = None,
    min_margin: Annotated[float, typer.Option(min=0, help="Drop pairs whose score margin is below this (pairs without scores too, when above 0).", rich_help_panel=DATASET)] = 0.0,
    conversational: Annotated[bool, typer.Option("--conversational", help="Message lists instead of plain strings (TRL's conversational form).", rich_help_panel=DATASET)] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="jsonl, or parquet (needs pyarrow; provenance as a JSON string).", rich_help_panel=DATASET)] = OutputFormat.jsonl,
    concurrency: Concurrency = None,
    requests_per_second: Annotated[Optional[float], typer.Option(min=0.01, help="Rate limit of remote model requests, per model.", rich_help_panel=MODELS)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """Turn prompts into DPO and KTO preference datasets, with provenance on every row (the main job).

    For each prompt every source answers (single models, and feedback loops whose best response counts), the evaluator compares the answers, and decisive comparisons become rows. Ties, invalid verdicts, orders that disagree under --swap, small margins and identical responses are dropped and counted. The run is resumable: each finished prompt is journalled in --out, and running the same command again continues without redoing it; a prompt that failed is retried. Output files are rebuilt from the journal and written atomically.
    """
    from fellowship.preference.rows import KINDS, RowRules
    from fellowship.runs.generate import Generation
    from fellowship.state.generate import CandidateConfig, GenerateContext

    kinds = tuple(kind or KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        _fail(f"unknown --kind {', '.join(unknown)} (choose from {', '.join(KINDS)})", 2)
    sources = [CandidateConfig(name, "single", (specs[0],)) for name, specs in _named(candidate or [], "--candidate")]
    for name, specs in _named(loop or [], "--loop"):
        if len(specs) < 2:
            _fail(f"--loop {name}: give a generator and at least one reviewer: NAME=GEN,REVIEWER", 2)
        sources.append(CandidateConfig(name, "loop", tuple(specs)))
    if not sources:
        sources = [CandidateConfig("single", "single", ("local:smollm2",)), CandidateConfig("loop", "loop", ("local:smollm2", "local:smollm2"))]
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        _fail(f"source names must differ: {', '.join(names)}", 2)
    if len(sources) < 2 and "single" in kinds:
        _fail("the single-model dataset compares sources: give at least two (or --kind workflow with a loop)", 2)
    if fmt is OutputFormat.parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            _fail("--format parquet needs pyarrow: pip install pyarrow", 2)
    settings = _settings(**locals())
    judge_cfg = _evaluator_config(evaluator, judge_model, member, referee_model, strategy, swap, rounds, settings)
    ctx = GenerateContext(candidates=tuple(sources), pairing=pairing.value, iterations=iterations, evaluator=judge_cfg, **settings)
    set_rate_limit(requests_per_second)
    concurrency = _auto_concurrency(concurrency, [m for c in sources for m in c.models], judge_model, member, referee_model)
    rules = RowRules(kinds=kinds, min_margin=min_margin, conversational=conversational)
    items = _load_prompt_source(prompts, prompt_field, split)
    try:
        run = Generation(out_dir, ctx, rules, prompts, fmt.value)
    except InputError as exc:
        _fail(f"{exc}\n--out {out_dir} holds a run with other options: rerun with the same options to resume it, "
              "or choose another --out (or delete that folder) to start anew", 2)
    todo = run.pending(items)
    if len(todo) < len(items):
        err.print(f"resuming: {len(items) - len(todo)} of {len(items)} prompts already done in {out_dir}", highlight=False)
    started = time.perf_counter()
    counts = {"rows": 0, "failed": 0}
    progress = Progress(TextColumn("generate"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[note]}"),
                        TimeElapsedColumn(), console=err)
    with progress:
        task = progress.add_task("generate", total=len(todo), note="")

        def done(row: Any, rows: int) -> None:
            counts["rows"] += rows
            counts["failed"] += row is None
            progress.update(task, advance=1, note=f"rows {counts['rows']} · failed {counts['failed']}")

        _run(run.run(items, concurrency, done))
    summary = run.write(items, time.perf_counter() - started)
    if as_json:
        print(json.dumps(summary))
    else:
        from fellowship.views.generate import show_summary

        show_summary(out, summary)
    if summary["failed"]:
        _fail(f"{summary['failed']} of {summary['prompts']} prompts failed (see {out_dir / 'journal.jsonl'}); run the same command again to retry them", 1)


graph_app = typer.Typer(help="List and draw the workflow graphs (offline).", no_args_is_help=True)
app.add_typer(graph_app, name="graph")


class DrawFormat(str, Enum):
    mermaid = "mermaid"
    ascii = "ascii"


@graph_app.command("list")
def graph_list() -> None:
    """The graphs, their nodes, and the graphs that run inside their nodes."""
    from fellowship.graphs.registry import DESCRIPTIONS, NESTED, graphs

    for name, compiled in graphs().items():
        nodes = [n for n in compiled.get_graph().nodes if not n.startswith("__")]
        out.print(f"[bold]{name}[/]  {DESCRIPTIONS[name]}", highlight=False)
        out.print(f"  nodes: {', '.join(nodes)}", highlight=False)
        for node, inner in NESTED[name].items():
            out.print(f"  {node} runs: {' | '.join(inner)}", highlight=False)


def _ascii(drawing: Any) -> str:
    """grandalf's layout, or, where it cannot place a self-loop, the edges one per line."""
    try:
        return drawing.draw_ascii()
    except ValueError:
        edges = [f"  {e.source} {'-.->' if e.conditional else '-->'} {e.target}" for e in drawing.edges]
        return "(no box layout for graphs with self-loops; edges, -.-> conditional)\n" + "\n".join(edges)


@graph_app.command("draw")
def graph_draw(
    name: Annotated[str, typer.Argument(help="judge, jury, debate, loop or generate.")],
    fmt: Annotated[DrawFormat, typer.Option("--format", help="mermaid (paste into any Mermaid viewer) or ascii (terminal).")] = DrawFormat.mermaid,
    nested: Annotated[bool, typer.Option("--nested/--no-nested", help="Also draw the graphs that run inside its nodes.")] = True,
) -> None:
    """Draw a graph, offline."""
    from fellowship.graphs.registry import NESTED, graphs

    known = graphs()
    if name not in known:
        _fail(f"unknown graph {name!r} (known: {', '.join(known)})", 2)
    order = [name]
    for inner in NESTED[name].values() if nested else ():
        for other in inner:
            for deeper in [other, *(g for v in NESTED[other].values() for g in v)]:
                if deeper not in order:
                    order.append(deeper)
    for index, current in enumerate(order):
        drawing = known[current].get_graph()
        if index:
            out.print(f"\n{'%% ' if fmt is DrawFormat.mermaid else ''}inside {name}: {current}", highlight=False)
        print(drawing.draw_mermaid() if fmt is DrawFormat.mermaid else _ascii(drawing))


STEP = "Stepping"


def _step_context(graph: str, model: str, member: Optional[list[str]], strategy: Any, swap: bool, rounds: int,
                  iterations: int, settings: dict[str, Any]) -> Any:
    from fellowship.runs.evaluation import EvaluatorConfig
    from fellowship.state.generate import CandidateConfig, GenerateContext
    from fellowship.state.loop import LoopContext

    judge_cfg = EvaluatorConfig(model=model, strategy=strategy.value, swap=swap, **settings)
    return {
        "judge": lambda: JudgeContext(model=model, strategy=strategy.value, swap=swap, **settings),
        "jury": lambda: JuryContext(members=tuple(member or (model,) * 3), strategy=strategy.value, swap=swap, **settings),
        "debate": lambda: DebateContext(model=model, rounds=rounds, **settings),
        "loop": lambda: LoopContext(generator=model, reviewers=(model,), iterations=iterations, evaluator=judge_cfg, **settings),
        "generate": lambda: GenerateContext(candidates=(CandidateConfig("single", "single", (model,)), CandidateConfig("loop", "loop", (model, model))),
                                            iterations=iterations, evaluator=judge_cfg, **settings),
    }[graph]()


@app.command()
def step(
    graph: Annotated[str, typer.Argument(help="judge, jury, debate, loop or generate.")],
    question: Question = None, a: RespA = None, b: RespB = None,
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="loop and generate: the prompt.", rich_help_panel=INPUTS)] = None,
    breakpoints: Annotated[Optional[list[str]], typer.Option("--break", help="Stop only before these nodes (repeat); default: before every node.", rich_help_panel=STEP)] = None,
    thread: Annotated[Optional[str], typer.Option("--thread", help="Resume a thread stopped earlier (its graph, inputs and options are kept).", rich_help_panel=STEP)] = None,
    model: Model = "local:smollm2",
    member: Annotated[Optional[list[str]], typer.Option("--member", help="jury: a member's spec (repeat; default three of --model).", callback=_check_spec, rich_help_panel=MODELS)] = None,
    strategy: Strategy = StrategyName.combined_10,  # type: ignore[attr-defined]
    swap: Swap = False,
    rounds: Annotated[int, typer.Option(min=0, help="debate: rounds.")] = 2,
    iterations: Annotated[int, typer.Option(min=1, help="loop and generate: responses per loop.")] = 3,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """Run a graph one node at a time: before each node it stops, shows the step, the next node(s) and what changed in the state, and takes a command.

    Commands: Enter or [bold]c[/] continue to the next stop · [bold]r[/] run to the end · [bold]s[/] [FIELD] show the state (or one field) · [bold]e[/] FIELD=VALUE edit the state (JSON values) · [bold]q[/] quit, keeping the thread resumable with --thread. Works in a terminal and with commands piped on stdin (end of input quits). Checkpoints live in .fellowship/checkpoints.sqlite (FELLOWSHIP_HOME moves it).
    """
    from fellowship.graphs.registry import graphs
    from fellowship.runs import stepping

    if thread:
        origin = _run(stepping.thread_origin(thread), usage_errors=(ValueError,))
        if origin is None:
            _fail(f"no checkpoints for thread {thread!r}", 2)
        if origin[0] != graph:
            _fail(f"thread {thread} ran the {origin[0]} graph, not {graph}", 2)
        context, inputs, thread_id = origin[1], None, thread
    else:
        if graph not in graphs():
            _fail(f"unknown graph {graph!r} (known: {', '.join(graphs())})", 2)
        if graph in ("loop", "generate"):
            if not prompt:
                _fail(f"the {graph} graph needs --prompt", 2)
            inputs = {"prompt": prompt} if graph == "loop" else {"id": "1", "prompt": prompt}
        else:
            missing = [f for f, v in (("--question", question), ("--a", a), ("--b", b)) if not v]
            if missing:
                _fail(f"the {graph} graph needs --question, --a and --b (missing: {', '.join(missing)})", 2)
            inputs = {"question": question, "response_a": a, "response_b": b}
        context = _step_context(graph, model, member, strategy, swap, rounds, iterations, _settings(**locals()))
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

    _run(stepping.step_session(graph, context, inputs, thread_id, breakpoints, ask, lambda t: out.print(t, markup=False, highlight=False)),
         usage_errors=(ValueError,))


@app.command()
def history(thread: Annotated[str, typer.Option("--thread", help="The thread id (printed by step and other runs).")], as_json: AsJson = False) -> None:
    """A thread's checkpoints, oldest first: step, node(s) that ran, next node(s), time, checkpoint id."""
    from fellowship.runs import stepping

    name, rows = _run(stepping.history(thread), usage_errors=(LookupError,))
    if as_json:
        print(json.dumps({"graph": name, "checkpoints": rows}))
        return
    out.print(f"{name} thread {thread}", highlight=False)
    for row in rows:
        out.print(f"  step {row['step']:>3}  {row['created_at'][11:19]}  ran {', '.join(row['ran']) or '-':<28} next {', '.join(row['next']) or '(end)':<24} {row['checkpoint_id']}", highlight=False)


@app.command()
def fork(
    thread: Annotated[str, typer.Option("--thread", help="The thread to go back in.")],
    checkpoint: Annotated[str, typer.Option("--checkpoint", help="The checkpoint id to continue from (see `history`).")],
    assignments: Annotated[Optional[list[str]], typer.Option("--set", help="Change a state field first: FIELD=VALUE (JSON values; repeat).")] = None,
    as_json: AsJson = False,
) -> None:
    """Time travel: continue a thread from an earlier checkpoint, optionally with changed fields, and run it to the end."""
    from fellowship.runs import stepping

    name, final_id, values = _run(stepping.fork(thread, checkpoint, assignments or []), usage_errors=(LookupError, ValueError))
    if as_json:
        print(json.dumps({"graph": name, "thread": thread, "checkpoint_id": final_id, "values": values}))
        return
    out.print(f"forked {name} thread {thread} from {checkpoint}; now at {final_id}", highlight=False)
    out.print(json.dumps({k: values[k] for k in ("verdict", "result") if k in values} or values, indent=2, ensure_ascii=False)[:4000], markup=False, highlight=False)


traces_app = typer.Typer(help="Local traces of past runs (names, timings, tokens, inputs, outputs, errors).", no_args_is_help=True)
app.add_typer(traces_app, name="traces")


@traces_app.command("list")
def traces_list(limit: Annotated[int, typer.Option(min=1, help="How many recent runs.")] = 20,
                as_json: AsJson = False) -> None:
    """Recent runs: id, command, graph, status, duration, tokens."""
    from fellowship.tracing.local import recent
    from fellowship.views.traces import show_runs

    runs = recent(limit=limit)
    if as_json:
        print(json.dumps(runs))
    elif not runs:
        err.print("no traces yet (they are written to .fellowship/traces.sqlite as graphs run)", highlight=False)
    else:
        show_runs(out, runs)


@traces_app.command("show")
def traces_show(run_id: Annotated[str, typer.Argument(help="A run id, its first or last characters (see `traces list`); 'last' for the latest.")],
                full: Annotated[bool, typer.Option("--full", help="Do not truncate inputs and outputs; show them for every run.")] = False,
                as_json: AsJson = False) -> None:
    """One run's tree: graph, nodes and model calls, with timings and token usage."""
    from fellowship.tracing.local import load, recent
    from fellowship.views.traces import show_tree

    if run_id == "last":
        latest = recent(limit=1)
        run_id = latest[0]["id"] if latest else ""
    tree = load(run_id) if run_id else None
    if tree is None:
        _fail(f"no single trace matches {run_id!r}; see `fellowship traces list`", 2)
    if as_json:
        print(json.dumps(tree))
    else:
        show_tree(out, tree, full)


if __name__ == "__main__":  # pragma: no cover
    app()
