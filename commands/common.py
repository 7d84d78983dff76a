"""Options, helpers and the shared input/output flow of the CLI commands."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from fellowship.fileio.errors import InputError, OutputError
from fellowship.fileio.jsonl import write_jsonl
from fellowship.fileio.lock import RunLocked
from fellowship.fileio.pairs import Pair, read_pairs
from fellowship.models.spec import BackendUnavailable, ModelSpec, SpecError
from fellowship.state.records import Evaluation
from fellowship.tracing.local import flush as flush_traces

if TYPE_CHECKING:
    from fellowship.runs.runner import Batch

R = TypeVar("R", bound=BaseModel)
E = TypeVar("E", bound=Evaluation)  # a judge's, jury's or debate's verdict
T = TypeVar("T")

# No emoji codes: a model spec such as "openai:m:" is text.
err = Console(stderr=True, emoji=False)
out = Console(highlight=False, soft_wrap=True, emoji=False)


def fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


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
Pairs = Annotated[Optional[Path], typer.Option(
    "--pairs", help="JSON Lines of pairs: question, response_a, response_b, optional id.", rich_help_panel=INPUTS)]
OutPath = Annotated[Optional[Path], typer.Option(
    "--out", "-o", help="With --pairs: one JSON row per pair, written atomically. Default: rows on stdout.",
    rich_help_panel=INPUTS)]
AsJson = Annotated[bool, typer.Option(
    "--json", help="Print the result as one JSON object (with --pairs: JSON rows, and a JSON summary on stderr).",
    rich_help_panel=INPUTS)]
Concurrency = Annotated[Optional[int], typer.Option(
    "--max-concurrency", min=1, show_default=False,
    help="Most items at once, and most parallel model calls within one graph run (LangGraph's max_concurrency). Default: 1 "
         "when every model is local or served by llama-cpp-python's server (they decode one request at a time, and interleaved "
         "requests defeat the prompt cache), else 4.")]
Thread = Annotated[Optional[str], typer.Option(
    "--thread", help="Resume an interrupted single run by its thread id (printed when it started) and show its result.",
    rich_help_panel=INPUTS)]
Model = Annotated[str, typer.Option(
    "--model", "-m", help="Model spec: local:smollm2 · local:PATH.gguf · openai:MODEL · hf:REPO|URL · hf-local:PATH|REPO.",
    callback=check_spec, rich_help_panel=MODELS)]
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


def resume_run(graph: str, thread: str, show: Callable[[Console, Any], None], as_json: bool, key: str = "verdict") -> None:
    """Finish an interrupted single run (its checkpoint thread) and show its result."""
    from fellowship.runs.stepping import resume

    values = run_sync(resume(thread, graph), usage_errors=(LookupError,))
    if key not in values:
        fail(f"thread {thread} has no {key}", 1)
    result = values[key]
    print(json.dumps(result.model_dump(), ensure_ascii=False)) if as_json else show(out, result)


def run_single(make: Callable[[], Awaitable[R]]) -> R:
    """One run under a new checkpoint thread, announced so that it can be resumed (--thread) or inspected."""
    from fellowship.runs.threads import checkpointed_one

    return run_sync(checkpointed_one(make, lambda thread_id: err.print(f"thread {thread_id}", highlight=False)))


def batch(label: str, concurrency: int, workers: Optional[int] = None, noun: str = "items") -> Batch:
    """A batch with a progress bar on stderr."""
    from fellowship.runs.runner import Batch
    from fellowship.views.progress import Bar

    return Batch(label, concurrency, workers, Bar(err), noun)


def run_into_file(run: Coroutine[Any, Any, list[dict[str, Any]]], results: Path, items: int) -> list[dict[str, Any]]:
    """A batch journalled in a results file: a bad or busy file exits 2, no item finished exits 1."""
    rows = run_sync(run, usage_errors=(InputError, RunLocked))
    if not rows:
        fail(f"no item finished ({items} failed); see {results}", 1)
    return rows


def evaluate_pairs(
    run_one: Callable[[Pair], Awaitable[E]],
    show: Callable[[Console, E], None],
    *,
    question: Optional[str], a: Optional[str], b: Optional[str],
    pairs: Optional[Path], out_path: Optional[Path], as_json: bool, concurrency: int, label: str,
    graph: str = "", thread: Optional[str] = None, dry_run: Callable[[list[Pair]], None] | None = None,
) -> None:
    """The flow every evaluator command shares: one pair from flags (checkpointed), or a file of pairs; `dry_run`
    estimates instead of running."""
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
        if dry_run:
            dry_run([pair])
            return
        result = run_single(lambda: run_one(pair))
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
    if dry_run:
        dry_run(items)
        return
    from fellowship.runs.pairs import evaluate_pairs as evaluate_many

    rows, summary = run_sync(evaluate_many(items, run_one, batch(label, concurrency)))
    write_rows(rows, out_path)
    summary["out"] = str(out_path) if out_path else None
    if as_json:
        err.print(json.dumps(summary), highlight=False, soft_wrap=True)
    else:
        from fellowship.views.verdicts import show_pairs_summary

        show_pairs_summary(err, summary)
    if summary["failed"]:
        fail(f"{summary['failed']} of {len(items)} pairs failed; their rows hold the error", 1)


def write_rows(rows: list[dict[str, Any]], out_path: Optional[Path]) -> None:
    """JSON rows into `out_path`, atomically (exit 1 when it cannot be written), or on stdout."""
    if out_path is None:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    try:
        write_jsonl(out_path, rows)
    except OutputError as exc:
        fail(str(exc.strerror), 1)


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
    finally:
        flush_traces()  # the local traces of what ran, in the file before the command says it is done


def read_prompt_file(path: Path) -> list[Any]:
    from fellowship.fileio.prompts import read_prompts

    try:
        return read_prompts(path)
    except InputError as exc:
        fail(str(exc), 2)
