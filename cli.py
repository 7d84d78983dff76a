"""The `fellowship` command: parse options, build the run context, invoke a graph, render."""

from __future__ import annotations

import asyncio
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import atomic_writer
from fellowship.fileio.pairs import Pair, read_pairs
from fellowship.models.factory import BackendUnavailable
from fellowship.models.spec import ModelSpec, SpecError
from fellowship.runs.batch import ItemFailure, run_all
from fellowship.runs.judging import judge_pair
from fellowship.state.judge import STRATEGIES, JudgeContext
from fellowship.state.records import Verdict

app = typer.Typer(
    help="Build preference datasets with LLM judges, juries, debates and feedback loops.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)
err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)

StrategyName = Enum("StrategyName", {s.replace("-", "_"): s for s in STRATEGIES}, type=str)  # type: ignore[misc]


@app.callback()
def _root() -> None:
    """Build preference datasets with LLM judges, juries, debates and feedback loops."""


def _check_spec(value: str) -> str:
    try:
        ModelSpec.parse(value)
    except SpecError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


MODELS = "Model"
INPUTS = "Input and output"
Model = Annotated[str, typer.Option("--model", "-m", help="Model spec, e.g. local:smollm2, openai:gpt-4o, hf:REPO, hf-local:PATH.", callback=_check_spec, rich_help_panel=MODELS)]
Temperature = Annotated[float, typer.Option(min=0.0, max=2.0, help="Sampling temperature (0 = greedy).", rich_help_panel=MODELS)]
MaxTokens = Annotated[int, typer.Option(min=1, help="Most tokens a model may write per reply.", rich_help_panel=MODELS)]
Seed = Annotated[Optional[int], typer.Option(help="Sampling seed, where the backend takes one.", rich_help_panel=MODELS)]
Timeout = Annotated[float, typer.Option(min=0.1, help="Seconds per remote request (retried on 429, 5xx, timeouts).", rich_help_panel=MODELS)]
BaseUrl = Annotated[Optional[str], typer.Option(help="Base URL of an OpenAI-compatible server for openai: specs (or OPENAI_BASE_URL).", rich_help_panel=MODELS)]


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def _render_verdict(v: Verdict) -> None:
    scores = "" if v.score_a is None else f"   A {v.score_a:g} · B {v.score_b:g}"
    out.print(f"[bold]verdict: {v.verdict}[/]{scores}")
    if v.swap:
        orders = ", ".join(f"{o.order} → {o.verdict}" for o in v.orders)
        out.print(f"swap: {orders} ({'consistent' if v.consistent else 'inconsistent'})")
    if v.error:
        out.print(f"[red]invalid:[/] {v.error}")
    out.print(f"[dim]{v.model} · {v.strategy} · {v.input_tokens} in / {v.output_tokens} out tokens · {v.seconds:.1f} s[/]")
    if v.explanation:
        out.print(f"\n{v.explanation}", markup=False)
    elif v.raw:
        out.print("\nraw reply:\n" + v.raw[0], markup=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=err, transient=False,
    )


def _single_pair(question: Optional[str], a: Optional[str], b: Optional[str]) -> Pair:
    missing = [flag for flag, value in (("--question", question), ("--a", a), ("--b", b)) if not value or not value.strip()]
    if missing:
        _fail(f"one pair needs --question, --a and --b (missing or empty: {', '.join(missing)}), or give --pairs FILE", 2)
    return Pair(id="1", question=question, response_a=a, response_b=b)  # type: ignore[arg-type]


@app.command()
def judge(
    question: Annotated[Optional[str], typer.Option("--question", "-q", help="The user prompt both responses answer.", rich_help_panel=INPUTS)] = None,
    a: Annotated[Optional[str], typer.Option("--a", help="Response A.", rich_help_panel=INPUTS)] = None,
    b: Annotated[Optional[str], typer.Option("--b", help="Response B.", rich_help_panel=INPUTS)] = None,
    pairs: Annotated[Optional[Path], typer.Option("--pairs", help="JSON Lines of pairs: question, response_a, response_b, optional id.", rich_help_panel=INPUTS)] = None,
    out_path: Annotated[Optional[Path], typer.Option("--out", "-o", help="With --pairs: write one JSON row per pair here (atomically). Default: rows on stdout.", rich_help_panel=INPUTS)] = None,
    model: Model = "local:smollm2",
    strategy: Annotated[StrategyName, typer.Option(help="direct: A/B/tie · independent: each response scored /10 alone · combined-N: both scored /N in one call.")] = StrategyName.combined_10,  # type: ignore[attr-defined]
    swap: Annotated[bool, typer.Option("--swap", help="Judge both orders; the same winner twice wins, otherwise tie. No effect on independent.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout (with --pairs: JSON rows and a JSON summary on stderr).")] = False,
    concurrency: Annotated[int, typer.Option("--max-concurrency", min=1, help="Pairs judged at once with --pairs.")] = 4,
    temperature: Temperature = 0.0,
    max_tokens: MaxTokens = 512,
    seed: Seed = 0,
    timeout: Timeout = 120.0,
    base_url: BaseUrl = None,
) -> None:
    """Judge which of two responses is better (LLM-as-a-Judge).

    Verdicts are A, B, tie or invalid. A reply without a readable answer gets one repair turn; if that fails too the verdict is [bold]invalid[/] and the raw text is kept. Scores outside the scale are invalid, never clipped.
    """
    context = JudgeContext(
        model=model, strategy=strategy.value, swap=swap, temperature=temperature,
        max_tokens=max_tokens, seed=seed, timeout=timeout, base_url=base_url,
    )
    if pairs is None:
        if out_path is not None:
            _fail("--out is for --pairs runs", 2)
        pair = _single_pair(question, a, b)
        verdict = _run(judge_pair(pair, context))
        if as_json:
            print(json.dumps(verdict.model_dump(), ensure_ascii=False))
        else:
            _render_verdict(verdict)
        return
    if question or a or b:
        _fail("give either --pairs or --question/--a/--b, not both", 2)
    items = _load(lambda: read_pairs(pairs))
    _judge_file(items, context, out_path, concurrency, as_json)


def _load(reader):  # type: ignore[no-untyped-def]
    try:
        return reader()
    except InputError as exc:
        _fail(str(exc), 2)


def _run(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine; configuration errors exit 2, model failures exit 1."""
    try:
        return asyncio.run(coro)
    except (SpecError, BackendUnavailable) as exc:
        _fail(str(exc), 2)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        _fail(f"model call failed: {type(exc).__name__}: {exc}", 1)


def _judge_file(items: list[Pair], context: JudgeContext, out_path: Optional[Path], concurrency: int, as_json: bool) -> None:
    counts = {"A": 0, "B": 0, "tie": 0, "invalid": 0, "failed": 0}
    tokens = [0, 0]
    with _progress() as bar:
        task = bar.add_task("judging", total=len(items), note="")

        def done(index: int, result: Verdict | ItemFailure) -> None:
            if isinstance(result, ItemFailure):
                counts["failed"] += 1
            else:
                counts[result.verdict] += 1
                tokens[0] += result.input_tokens
                tokens[1] += result.output_tokens
            note = " ".join(f"{k} {v}" for k, v in counts.items() if v)
            bar.update(task, advance=1, note=note)

        results = _run(run_all(items, lambda pair: judge_pair(pair, context), concurrency=concurrency, on_done=done))

    rows = []
    for pair, result in zip(items, results):
        if isinstance(result, ItemFailure):
            rows.append({"id": pair.id, "verdict": None, "error": f"model call failed: {result}", "model": context.model, "strategy": context.strategy})
        else:
            rows.append({"id": pair.id, **result.model_dump()})
    if out_path is None:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    else:
        with atomic_writer(out_path) as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary = {"pairs": len(items), **counts, "input_tokens": tokens[0], "output_tokens": tokens[1], "out": str(out_path) if out_path else None}
    if as_json:
        err.print(json.dumps(summary), highlight=False, soft_wrap=True)
    else:
        where = f" → {out_path}" if out_path else ""
        err.print(
            f"{len(items)} pairs{where}: A {counts['A']} · B {counts['B']} · tie {counts['tie']} · "
            f"invalid {counts['invalid']} · failed {counts['failed']} · {tokens[0]} in / {tokens[1]} out tokens",
            highlight=False,
        )
    if counts["failed"]:
        _fail(f"{counts['failed']} of {len(items)} pairs failed (their rows hold the error)", 1)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
