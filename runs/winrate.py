"""Win rate of the feedback loop against a single model: live, or from recorded comparisons."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage

from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import read_json
from fellowship.fileio.pairs import Pair
from fellowship.fileio.prompts import PromptItem
from fellowship.graphs import loop
from fellowship.graphs.evaluate import evaluate
from fellowship.graphs.running import compiled, current_thread, run_config
from fellowship.metrics.winrate import win_report
from fellowship.models import load_chat_model
from fellowship.models.settings import derive_seed
from fellowship.parsing.scores import ParseError, parse_pair_scores
from fellowship.runs.batch import ItemFailure
from fellowship.runs.runner import Batch
from fellowship.state.evaluator import EvaluatorConfig, as_shown, shown_flipped
from fellowship.state.loop import LoopContext
from fellowship.state.records import LoopResult
from fellowship.state.verdicts import Label, flip, label_of


async def refine(item: PromptItem, ctx: LoopContext, max_concurrency: int | None = None) -> LoopResult:
    """Run the feedback loop on one prompt."""
    started = time.perf_counter()
    tags = [f"generator:{ctx.generator}", *(f"reviewer:{r}" for r in ctx.reviewers)]
    config = run_config("loop", item.id, tags, max_concurrency, current_thread(), ctx)
    out = await compiled(loop.build_loop, loop.graph).ainvoke({"prompt": item.prompt}, context=ctx, config=config)
    result: LoopResult = out["result"]
    return result.model_copy(update={"seconds": round(time.perf_counter() - started, 3)})


async def refine_prompts(items: list[PromptItem], ctx: LoopContext, batch: Batch) -> tuple[list[dict[str, Any]], int]:
    """(one row per prompt, in file order; how many failed): each prompt's loop checkpointed under a thread of its own."""
    results = await batch.checkpointed(items, lambda item: refine(item, ctx, batch.concurrency), item_id=lambda item: item.id)
    rows = [{"id": item.id, "prompt": item.prompt, "error": f"model call failed: {result}"} if isinstance(result, ItemFailure)
            else {"id": item.id, **result.model_dump()} for item, result in zip(items, results)]
    return rows, sum(isinstance(result, ItemFailure) for result in results)


async def compare_with_baseline(item: PromptItem, ctx: LoopContext, baseline: str, evaluator: EvaluatorConfig,
                                max_concurrency: int | None = None) -> dict[str, Any]:
    """The loop's output (A) against the baseline model's single answer (B), judged by the evaluator
    (which is shown first is drawn per prompt, unless the evaluator's `fixed_order`).

    The loop and the baseline sample with seeds of their own (see `derive_seed`), so one model
    on both sides does not write the same first answer twice at temperature > 0.
    """
    loop_ctx = ctx.model_copy(update={"seed": derive_seed(ctx.seed, "loop", item.prompt)})
    refined, single = await asyncio.gather(
        refine(item, loop_ctx, max_concurrency),
        load_chat_model(baseline, ctx.settings(seed=derive_seed(ctx.seed, "baseline", item.prompt))).ainvoke([HumanMessage(item.prompt)]),
    )
    pair = Pair(id=item.id, question=item.prompt, response_a=refined.best_response, response_b=single.text)
    flipped = shown_flipped(pair, evaluator)  # drawn per prompt, so the evaluator's position bias favours neither side
    verdict = await evaluate(as_shown(pair, flipped), evaluator, max_concurrency)
    label, score_a, score_b = ((flip(verdict.verdict), verdict.score_b, verdict.score_a) if flipped
                               else (verdict.verdict, verdict.score_a, verdict.score_b))
    return {"verdict": label, "score_a": score_a, "score_b": score_b, "flipped": flipped,
            "loop": refined.model_dump(), "baseline": baseline, "baseline_response": single.text,
            "evaluation": verdict.model_dump()}


async def live_winrate(items: list[PromptItem], ctx: LoopContext, baseline: str, prompts: str, results: Path,
                       batch: Batch) -> list[dict[str, Any]]:
    """Each prompt's comparison of the loop with the baseline, journalled in `results`."""
    config = {"prompts": prompts, "baseline": baseline, "loop": ctx.model_dump(mode="json", exclude={"evaluator"}),
              "evaluator": ctx.evaluator.model_dump(mode="json")}
    job = partial(compare_with_baseline, ctx=ctx, baseline=baseline, evaluator=ctx.evaluator, max_concurrency=batch.concurrency)
    return await batch.into_file(results, config, items, job, key=lambda item: {"id": item.id, "prompt": item.prompt})


def recorded_winrate(path: Path) -> dict[str, Any]:
    """The report from recorded evaluator texts comparing the loop's output (Assistant A) with a baseline (B).

    A record without a text, or whose scores cannot be read, is invalid: not a win.
    """
    records = read_json(path)
    if not isinstance(records, list) or not records:
        raise InputError("expected a non-empty JSON list of records with 'response'", path)
    labels: list[Label] = []
    for record in records:
        text = record.get("response") if isinstance(record, dict) else None
        try:
            labels.append(label_of(*parse_pair_scores(text, 10)) if isinstance(text, str) else "invalid")
        except ParseError:
            labels.append("invalid")
    return {"file": path.name, **win_report(labels)}
