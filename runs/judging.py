"""Judge one pair or a file of pairs with the judge graph."""

from __future__ import annotations

import time

from fellowship.fileio.pairs import Pair
from fellowship.graphs.judge import graph as judge_graph
from fellowship.state.judge import JudgeContext
from fellowship.state.records import Verdict


async def judge_pair(pair: Pair, context: JudgeContext) -> Verdict:
    """The verdict on one pair; `seconds` is the wall time of the whole graph run."""
    started = time.perf_counter()
    out = await judge_graph.ainvoke(
        {"question": pair.question, "response_a": pair.response_a, "response_b": pair.response_b},
        context=context,
        config={"run_name": "judge", "tags": ["graph:judge", f"strategy:{context.strategy}", f"model:{context.model}"],
                "metadata": {"item_id": pair.id}},
    )
    verdict: Verdict = out["verdict"]
    return verdict.model_copy(update={"seconds": round(time.perf_counter() - started, 3)})
