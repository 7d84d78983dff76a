"""`refine` and `winrate`: the feedback loop and its win rate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from fellowship.commands.common import (
    INPUTS,
    LOOP_PANEL,
    AsJson,
    Concurrency,
    Thread,
    auto_concurrency,
    batch,
    check_spec,
    err,
    fail,
    out,
    read_prompt_file,
    resume_run,
    run_into_file,
    run_single,
    run_sync,
    write_rows,
)
from fellowship.commands.costs import CostFlags, show_dry_run
from fellowship.commands.options import EVALUATOR_FLAGS, LOOP_FLAGS, PREFLIGHT, ClusterFlags, Preflight, evaluator_for, grouped
from fellowship.fileio.errors import InputError
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.loop import LoopContext

if TYPE_CHECKING:
    from fellowship.fileio.prompts import PromptItem


@grouped(loop=LOOP_FLAGS, judging=EVALUATOR_FLAGS, pre=PREFLIGHT)
def refine(
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="One prompt to answer.", rich_help_panel=INPUTS)] = None,
    prompts: Annotated[Optional[Path], typer.Option(
        "--prompts", help="Many prompts: JSON Lines with 'prompt' (optional 'id'), or text with one per line.",
        rich_help_panel=INPUTS)] = None,
    out_path: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="With --prompts: one JSON row per prompt, written atomically. Default: rows on stdout.",
        rich_help_panel=INPUTS)] = None,
    as_json: AsJson = False, concurrency: Concurrency = None, thread: Thread = None,
    *, loop: LoopContext, judging: EvaluatorConfig, pre: Preflight,
) -> None:
    """Improve a response with the LLM Feedback Loop: a generator writes, reviewers critique, the generator revises.

    Each role keeps its own conversation. Reviewers answer with an evaluation, [bold]Overall Score: X/10[/] and feedback
    (one repair turn when the score cannot be read; a failing reviewer is left out). After the last response the
    evaluator picks the best in a knockout: 1 vs 2, the winner vs 3; a tie or an invalid verdict carries the later
    response forward.
    """
    from fellowship.fileio.prompts import PromptItem
    from fellowship.runs.winrate import refine as run_refine
    from fellowship.runs.winrate import refine_prompts
    from fellowship.views.loop import show_loop

    if thread:
        resume_run("loop", thread, show_loop, as_json, key="result")
        return
    ctx = loop.model_copy(update={"evaluator": evaluator_for(judging, loop)})
    pre.check(ctx, ctx.specs(), ctx.evaluator.specs())
    concurrency = auto_concurrency(concurrency, ctx.specs(), ctx.evaluator.specs(), base_url=ctx.base_url)
    if prompts is None:
        if not prompt or not prompt.strip():
            fail("give --prompt TEXT or --prompts FILE", 2)
        if out_path is not None:
            fail("--out is for --prompts runs", 2)
        result = run_single(lambda: run_refine(PromptItem(id="1", prompt=prompt), ctx, concurrency))
        print(json.dumps(result.model_dump(), ensure_ascii=False)) if as_json else show_loop(out, result)
        return
    if prompt:
        fail("give either --prompt or --prompts, not both", 2)
    items = read_prompt_file(prompts)
    rows, failed = run_sync(refine_prompts(items, ctx, batch("refine", concurrency)))
    write_rows(rows, out_path)
    err.print(f"{len(items)} prompts{' → ' + str(out_path) if out_path else ''}: {len(items) - failed} refined, {failed} failed",
              highlight=False)
    if failed:
        fail(f"{failed} of {len(items)} prompts failed; their rows hold the error", 1)


@grouped(loop=LOOP_FLAGS, judging=EVALUATOR_FLAGS, pre=PREFLIGHT, cluster=ClusterFlags, cost=CostFlags)
def winrate(
    prompts: Annotated[Optional[Path], typer.Option(
        "--prompts", help="Live: prompts (JSON Lines with 'prompt', or one per line).", rich_help_panel=INPUTS)] = None,
    recorded: Annotated[Optional[list[Path]], typer.Option(
        "--recorded",
        help="Recorded comparisons (paper-outputs capybara-winrate format: evaluator text with Assistant A = the loop's "
             "output); repeat for a table.",
        rich_help_panel=INPUTS)] = None,
    baseline: Annotated[str, typer.Option(
        help="Live: the single model whose one answer is the baseline (B).", callback=check_spec,
        rich_help_panel=LOOP_PANEL)] = LoopContext().generator,
    results: Annotated[Path, typer.Option(
        help="Live: per-prompt results; also the resume journal (rerun the same command to continue).",
        rich_help_panel=INPUTS)] = Path("winrate-results.jsonl"),
    as_json: AsJson = False, concurrency: Concurrency = None,
    *, loop: LoopContext, judging: EvaluatorConfig, pre: Preflight, cluster: ClusterFlags, cost: CostFlags,
) -> None:
    """Win rate of the feedback loop's output (A) against a single model's answer (B), judged by the evaluator.

    A win is an A verdict; ties and invalid verdicts are not wins (the paper's rule), and every prompt counts. Also
    shown: the win rate counting ties as half, and a 95% Wilson interval. [bold]--recorded[/] reads comparisons recorded
    elsewhere instead of running models.
    """
    from fellowship.data.store import DataMissing
    from fellowship.metrics.winrate import win_report
    from fellowship.readers.named import recorded_path
    from fellowship.runs.winrate import live_winrate, recorded_winrate
    from fellowship.views.loop import show_winrates

    if recorded:
        if prompts:
            fail("give either --prompts (live) or --recorded, not both", 2)
        try:
            reports = [recorded_winrate(recorded_path(path)) for path in recorded]
        except (InputError, DataMissing) as exc:
            fail(str(exc), 2)
        print(json.dumps(reports if len(reports) > 1 else reports[0])) if as_json else show_winrates(out, reports)
        return
    if prompts is None:
        fail("give --prompts FILE for a live run, or --recorded FILE", 2)
    items = read_prompt_file(prompts)
    judge_cfg = evaluator_for(judging, loop)
    ctx = loop.model_copy(update={"evaluator": judge_cfg})
    if cost.dry_run:
        _dry_run(items, ctx, baseline, results, cost, as_json)
        return
    pre.check(ctx, ctx.specs(), judge_cfg.specs(), baseline)
    concurrency = auto_concurrency(concurrency, ctx.specs(), judge_cfg.specs(), baseline, base_url=ctx.base_url)
    run = live_winrate(items, ctx, baseline, str(prompts), results, batch("winrate", concurrency, cluster.join()))
    finished = run_into_file(run, results, len(items))
    report = {"name": f"loop {ctx.generator} → {', '.join(ctx.reviewers)} vs {baseline}", "evaluator": judge_cfg.describe(),
              **win_report([row["verdict"] for row in finished]), "failed": len(items) - len(finished), "results": str(results)}
    if as_json:
        print(json.dumps(report))
    else:
        show_winrates(out, [report])
        err.print(f"evaluator: {report['evaluator']} · results in {results}", highlight=False)
    if report["failed"]:
        fail(f"{report['failed']} prompts failed and are left out; rerun the command to retry them", 1)


def _dry_run(items: list[PromptItem], ctx: LoopContext, baseline: str, results: Path, cost: CostFlags, as_json: bool) -> None:
    """The estimate for the prompts --results does not hold done: each is a loop and a baseline answer, then one
    comparison, as `generate` would lay them out."""
    from fellowship.runs.estimate import estimate
    from fellowship.runs.journal import pending_in
    from fellowship.runs.runner import hash_of
    from fellowship.state.generate import CandidateConfig, GenerateContext
    from fellowship.state.loop import LoopSettings

    left = [items[i] for i in pending_in(results, [(item.id, hash_of(item)) for item in items])]
    sources = (CandidateConfig(name="loop", kind="loop", models=(ctx.generator, *ctx.reviewers)),
               CandidateConfig(name="baseline", kind="single", models=(baseline,)))
    plan = GenerateContext(**ctx.model_dump(include=set(LoopSettings.model_fields)), candidates=sources, evaluator=ctx.evaluator)
    early = [f"--stop-at {ctx.stop_at}: a loop that stops early makes fewer calls than planned"] if ctx.stop_at is not None else []
    show_dry_run(lambda: {**estimate(left, plan, cost.prices(ctx.base_url), cost.named_tokenizers()), "notes": early},
                 len(items) - len(left), as_json)
