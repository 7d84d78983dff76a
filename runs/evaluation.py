"""Run the evaluator graphs on one pair: judge, jury or debate."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from langchain_core.runnables import RunnableConfig

from fellowship.fileio.pairs import Pair
from fellowship.graphs.debate import graph as debate_graph
from fellowship.graphs.judge import graph as judge_graph
from fellowship.graphs.jury import graph as jury_graph
from fellowship.nodes.judge import agree, mean_known
from fellowship.state.debate import DebateContext
from fellowship.state.judge import JudgeContext
from fellowship.state.jury import JuryContext
from fellowship.state.records import DebateVerdict, JuryVerdict, OrderVerdict, Verdict


def run_config(graph: str, item_id: str, tags: list[str], max_concurrency: int | None = None) -> RunnableConfig:
    """Names, tags and metadata every traced run carries."""
    config: RunnableConfig = {"run_name": graph, "tags": [f"graph:{graph}", *tags], "metadata": {"item_id": item_id}}
    if max_concurrency:
        config["max_concurrency"] = max_concurrency
    return config


def _inputs(pair: Pair, flipped: bool = False) -> dict[str, Any]:
    a, b = (pair.response_b, pair.response_a) if flipped else (pair.response_a, pair.response_b)
    return {"question": pair.question, "response_a": a, "response_b": b}


def _timed(started: float) -> float:
    return round(time.perf_counter() - started, 3)


async def judge_pair(pair: Pair, ctx: JudgeContext, max_concurrency: int | None = None) -> Verdict:
    started = time.perf_counter()
    config = run_config("judge", pair.id, [f"strategy:{ctx.strategy}", f"model:{ctx.model}"], max_concurrency)
    out = await judge_graph.ainvoke(_inputs(pair), context=ctx, config=config)
    return out["verdict"].model_copy(update={"seconds": _timed(started)})


async def jury_pair(pair: Pair, ctx: JuryContext, max_concurrency: int | None = None) -> JuryVerdict:
    started = time.perf_counter()
    tags = [f"strategy:{ctx.strategy}", *(f"model:{m}" for m in dict.fromkeys(ctx.members))]
    out = await jury_graph.ainvoke(_inputs(pair), context=ctx, config=run_config("jury", pair.id, tags, max_concurrency))
    return out["verdict"].model_copy(update={"seconds": _timed(started)})


async def debate_pair(pair: Pair, ctx: DebateContext, swap: bool = False, max_concurrency: int | None = None) -> DebateVerdict:
    """One debate; under `swap` a second debate with B shown first, run concurrently."""
    started = time.perf_counter()
    tags = [f"rounds:{ctx.rounds}", *(f"model:{m}" for m in dict.fromkeys(ctx.referee_models or (ctx.model,)))]
    config = run_config("debate", pair.id, tags, max_concurrency)
    flips = (False, True) if swap else (False,)
    outs = await asyncio.gather(*(debate_graph.ainvoke(_inputs(pair, f), context=ctx, config=config) for f in flips))
    first: DebateVerdict = outs[0]["verdict"]
    if not swap:
        return first.model_copy(update={"seconds": _timed(started)})
    second: DebateVerdict = outs[1]["verdict"]
    flip = {"A": "B", "B": "A", "tie": "tie", "invalid": "invalid"}
    orders = [
        OrderVerdict(order="AB", verdict=first.verdict, score_a=first.score_a, score_b=first.score_b),
        OrderVerdict(order="BA", verdict=flip[second.verdict], score_a=second.score_b, score_b=second.score_a),  # type: ignore[arg-type]
    ]
    label, consistent = agree(orders)
    return first.model_copy(update={
        "verdict": label,
        "score_a": None if label == "invalid" else mean_known([o.score_a for o in orders]),
        "score_b": None if label == "invalid" else mean_known([o.score_b for o in orders]),
        "error": first.error or second.error,
        "swap": True, "consistent": consistent, "orders": orders, "reversed_debate": second,
        "input_tokens": first.input_tokens + second.input_tokens,
        "output_tokens": first.output_tokens + second.output_tokens,
        "seconds": _timed(started),
    })
