"""The `fellowship` command: parse options, build the run context, invoke a graph, render.

Exit codes: 0 done, 1 a runtime failure (a model call that failed after retries),
2 bad usage or input (the message names the file, line and field).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import write_jsonl
from fellowship.fileio.pairs import Pair, read_pairs
from fellowship.models.factory import BackendUnavailable
from fellowship.models.spec import ModelSpec, SpecError
from fellowship.prompts.debate import PERSONAS
from fellowship.runs.batch import ItemFailure, run_all
from fellowship.runs.evaluation import debate_pair, judge_pair, jury_pair
from fellowship.state.debate import DebateContext
from fellowship.state.judge import STRATEGIES, JudgeContext
from fellowship.state.jury import JuryContext
from fellowship.views.verdicts import show_debate, show_jury, show_verdict

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
def _root() -> None:
    """Build preference datasets with LLM judges, juries, debates and feedback loops."""


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
Concurrency = Annotated[int, typer.Option("--max-concurrency", min=1, help="Most pairs at once, and most parallel model calls within one graph run (LangGraph's max_concurrency).")]
Swap = Annotated[bool, typer.Option("--swap", help="Judge both presentation orders; the same winner twice wins, otherwise tie.")]
Strategy = Annotated[StrategyName, typer.Option(help="direct: A/B/tie · independent: each response scored /10 alone · combined-N: both scored /N in one call.")]
Model = Annotated[str, typer.Option("--model", "-m", help="Model spec: local:smollm2 · local:PATH.gguf · openai:MODEL · hf:REPO|URL · hf-local:PATH|REPO.", callback=_check_spec, rich_help_panel=MODELS)]
Temperature = Annotated[float, typer.Option(min=0.0, max=2.0, help="Sampling temperature (0 = greedy).", rich_help_panel=MODELS)]
MaxTokens = Annotated[int, typer.Option(min=1, help="Most tokens a model may write per reply.", rich_help_panel=MODELS)]
Seed = Annotated[Optional[int], typer.Option(help="Sampling seed, where the backend takes one.", rich_help_panel=MODELS)]
Timeout = Annotated[float, typer.Option(min=0.1, help="Seconds per remote request; 429, 5xx and timeouts are retried with backoff.", rich_help_panel=MODELS)]
BaseUrl = Annotated[Optional[str], typer.Option(help="Base URL of an OpenAI-compatible server for openai: specs (default: OPENAI_BASE_URL).", rich_help_panel=MODELS)]


def _settings(**kw: Any) -> dict[str, Any]:
    return {k: kw[k] for k in ("temperature", "max_tokens", "seed", "timeout", "base_url")}


def _evaluate(
    run_one: Callable[[Pair], Awaitable[R]],
    show: Callable[[Console, R], None],
    *,
    question: Optional[str], a: Optional[str], b: Optional[str],
    pairs: Optional[Path], out_path: Optional[Path], as_json: bool, concurrency: int, label: str,
) -> None:
    """The flow every evaluator command shares: one pair from flags, or a file of pairs."""
    if pairs is None:
        if out_path is not None:
            _fail("--out is for --pairs runs", 2)
        missing = [flag for flag, value in (("--question", question), ("--a", a), ("--b", b)) if not (value and value.strip())]
        if missing:
            _fail(f"one pair needs --question, --a and --b (missing or empty: {', '.join(missing)}); or give --pairs FILE", 2)
        result = _run(run_one(Pair(id="1", question=question, response_a=a, response_b=b)))  # type: ignore[arg-type]
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


def _run(coro: Awaitable[R]) -> R:
    """Run a coroutine; configuration errors exit 2, model failures exit 1."""
    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except (SpecError, BackendUnavailable) as exc:
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
    swap: Swap = False, as_json: AsJson = False, concurrency: Concurrency = 4,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """Judge which of two responses is better: one model, one of the paper's prompting strategies (LLM-as-a-Judge).

    Verdicts are A, B, tie or invalid. A reply without a readable answer gets one repair turn in the same conversation; if that fails too the verdict is [bold]invalid[/] and the raw text is kept. Scores outside the scale are invalid, never clipped. With [bold]--swap[/] and the independent strategy nothing changes: each response is scored alone.
    """
    ctx = JudgeContext(model=model, strategy=strategy.value, swap=swap, **_settings(**locals()))
    _evaluate(lambda pair: judge_pair(pair, ctx, concurrency), show_verdict, question=question, a=a, b=b,
              pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="judging")


@app.command()
def jury(
    member: Annotated[list[str], typer.Option("--member", help="A jury member's model spec; repeat for each member (repeats allowed).", callback=_check_spec, rich_help_panel=MODELS)],
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    strategy: Strategy = StrategyName.combined_10,  # type: ignore[attr-defined]
    swap: Annotated[bool, typer.Option("--swap", help="Each member judges both orders; its vote is the same winner twice, otherwise tie.")] = False,
    shuffle: Annotated[bool, typer.Option("--shuffle", help="Show a seeded half of the members B first, so position bias does not line up across the panel.")] = False,
    shuffle_seed: Annotated[int, typer.Option(help="Seed of --shuffle.")] = 0,
    as_json: AsJson = False, concurrency: Concurrency = 4,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """Let several models judge the pair independently and concurrently; the plurality decides (LLMs-as-a-Jury).

    Each member votes A, B or tie with the judge and its strategy. When two or more labels share the top count the verdict is a tie. Invalid votes are left out of the count and reported; when every vote is invalid the verdict is [bold]invalid[/]. The scores shown are the means of the members' scores.
    """
    if len(member) < 2:
        _fail("a jury needs at least two --member options", 2)
    ctx = JuryContext(members=tuple(member), strategy=strategy.value, swap=swap, shuffle=shuffle, shuffle_seed=shuffle_seed, **_settings(**locals()))
    _evaluate(lambda pair: jury_pair(pair, ctx, concurrency), show_jury, question=question, a=a, b=b,
              pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="jury")


@app.command()
def debate(
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    model: Model = "local:smollm2",
    referee_model: Annotated[Optional[list[str]], typer.Option("--referee-model", help=f"One model spec per referee, in order ({', '.join(PERSONAS)}); default: --model for all.", callback=_check_spec, rich_help_panel=MODELS)] = None,
    rounds: Annotated[int, typer.Option(min=0, help="Discussion rounds before the closing scores.")] = 2,
    swap: Annotated[bool, typer.Option("--swap", help="Run a second debate with B shown as Assistant 1; the same winner twice wins, otherwise tie.")] = False,
    as_json: AsJson = False, concurrency: Concurrency = 4,
    temperature: Temperature = 0.0, max_tokens: MaxTokens = 512, seed: Seed = 0, timeout: Timeout = 120.0, base_url: BaseUrl = None,
) -> None:
    """Let three referees (General Public, Psychologist, Critic) discuss the pair, then score it each on their own (LLM Debate).

    Within a round the referees speak in that order and each sees the whole discussion so far. After the rounds every referee, concurrently, explains and scores both responses /10. Each response's score is the mean over the referees whose scores could be read (one repair turn each); the higher mean wins, equal means tie, none readable is [bold]invalid[/].
    """
    if referee_model and len(referee_model) != len(PERSONAS):
        _fail(f"--referee-model must be given once per referee ({len(PERSONAS)}), or not at all", 2)
    ctx = DebateContext(model=model, referee_models=tuple(referee_model or ()), rounds=rounds, **_settings(**locals()))
    _evaluate(lambda pair: debate_pair(pair, ctx, swap, concurrency), show_debate, question=question, a=a, b=b,
              pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="debate")


if __name__ == "__main__":  # pragma: no cover
    app()
