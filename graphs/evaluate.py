"""Run an evaluator graph on one pair: the judge, the jury or the debate (twice under swap).

These are the entry points the CLI, the runs and the workflows' nodes share: each names
and tags its run for the traces, and keeps checkpoints when a CLI task asked for them.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fellowship.fileio.pairs import Pair
from fellowship.graphs import debate, judge, jury
from fellowship.graphs.running import compiled, current_thread, run_config
from fellowship.state.debate import DebateContext
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.judge import JudgeContext
from fellowship.state.jury import JuryContext
from fellowship.state.records import DebateVerdict, Evaluation, JuryVerdict, OrderVerdict, Usage, Verdict
from fellowship.state.verdicts import agree, flip, mean_known


def _inputs(pair: Pair, flipped: bool = False) -> dict[str, Any]:
    a, b = (pair.response_b, pair.response_a) if flipped else (pair.response_a, pair.response_b)
    return {"question": pair.question, "response_a": a, "response_b": b}


def _timed(started: float) -> float:
    return round(time.perf_counter() - started, 3)


async def judge_pair(pair: Pair, ctx: JudgeContext, max_concurrency: int | None = None) -> Verdict:
    started = time.perf_counter()
    config = run_config("judge", pair.id, [f"strategy:{ctx.strategy}", f"model:{ctx.model}"], max_concurrency, current_thread(), ctx)
    out = await compiled(judge.build_judge, judge.graph).ainvoke(_inputs(pair), context=ctx, config=config)
    verdict: Verdict = out["verdict"]
    return verdict.model_copy(update={"seconds": _timed(started)})


async def jury_pair(pair: Pair, ctx: JuryContext, max_concurrency: int | None = None) -> JuryVerdict:
    started = time.perf_counter()
    tags = [f"strategy:{ctx.strategy}", *(f"model:{m}" for m in dict.fromkeys(ctx.members))]
    config = run_config("jury", pair.id, tags, max_concurrency, current_thread(), ctx)
    out = await compiled(jury.build_jury, jury.graph).ainvoke(_inputs(pair), context=ctx, config=config)
    verdict: JuryVerdict = out["verdict"]
    return verdict.model_copy(update={"seconds": _timed(started)})


async def debate_pair(pair: Pair, ctx: DebateContext, swap: bool = False, max_concurrency: int | None = None,
                      thread_id: str | None = None) -> DebateVerdict:
    """One debate; under `swap` a second debate with B shown first, run concurrently."""
    started = time.perf_counter()
    tags = [f"rounds:{ctx.rounds}", *(f"model:{m}" for m in dict.fromkeys(ctx.referee_models or (ctx.model,)))]
    flips = (False, True) if swap else (False,)
    graph = compiled(debate.build_debate, debate.graph)
    outs = await asyncio.gather(*(
        graph.ainvoke(_inputs(pair, f), context=ctx,
                      config=run_config("debate", pair.id, tags, max_concurrency,
                                        thread_id or current_thread("-swapped" if f else ""), ctx))
        for f in flips
    ))
    first: DebateVerdict = outs[0]["verdict"]
    if not swap:
        return first.model_copy(update={"seconds": _timed(started)})
    return swapped(first, outs[1]["verdict"]).model_copy(update={"seconds": _timed(started)})


def swapped(first: DebateVerdict, second: DebateVerdict) -> DebateVerdict:
    """Two debates, the second with B shown as Assistant 1, as one verdict: the same winner twice wins, else tie."""
    orders = [
        OrderVerdict(order="AB", verdict=first.verdict, score_a=first.score_a, score_b=first.score_b),
        OrderVerdict(order="BA", verdict=flip(second.verdict), score_a=second.score_b, score_b=second.score_a),
    ]
    label, consistent = agree([o.verdict for o in orders])
    return first.model_copy(update={
        "verdict": label,
        "score_a": None if label == "invalid" else mean_known(o.score_a for o in orders),
        "score_b": None if label == "invalid" else mean_known(o.score_b for o in orders),
        "error": first.error or second.error,
        "swap": True, "consistent": consistent, "orders": orders, "reversed_debate": second,
        **Usage.total([first, second]).model_dump(),
    })


async def evaluate(pair: Pair, config: EvaluatorConfig, max_concurrency: int | None = None) -> Evaluation:
    """The configured evaluator's verdict on the pair."""
    if config.kind == "jury":
        return await jury_pair(pair, config.jury_context(), max_concurrency)
    if config.kind == "debate":
        return await debate_pair(pair, config.debate_context(), config.swap, max_concurrency)
    return await judge_pair(pair, config.judge_context(), max_concurrency)
