"""The judge graph's own overhead per model call, with a zero-latency scripted model.

Overhead = (graph run time - the same model calls and parsing done directly) / calls.
Prints milliseconds per call (target <= 2 ms).
"""

from __future__ import annotations

import asyncio
import time

import _common  # noqa: F401
from langchain_core.messages import HumanMessage, SystemMessage

from fellowship.graphs.judge import graph
from fellowship.models import register_model
from fellowship.parsing.scores import parse_pair_scores
from fellowship.state.judge import JudgeContext
from tests.fakes import ScriptedChatModel

REPLY = "Both fine.\n### Score Assistant A: 7/10\n### Score Assistant B: 6/10"
PAIR = {"question": "q", "response_a": "a", "response_b": "b"}
RUNS = 400


async def main() -> None:
    model = ScriptedChatModel(script=lambda messages: REPLY)
    register_model("bench:zero", model)
    ctx = JudgeContext(model="bench:zero")
    messages = [SystemMessage("s"), HumanMessage("u")]
    for _ in range(50):  # warm up both paths
        await graph.ainvoke(PAIR, context=ctx)
        await model.ainvoke(messages)

    started = time.perf_counter()
    for _ in range(RUNS):
        parse_pair_scores((await model.ainvoke(messages)).text, 10)
    direct = (time.perf_counter() - started) / RUNS

    started = time.perf_counter()
    for _ in range(RUNS):
        await graph.ainvoke(PAIR, context=ctx)
    through_graph = (time.perf_counter() - started) / RUNS

    swapped = JudgeContext(model="bench:zero", swap=True)
    started = time.perf_counter()
    for _ in range(RUNS):
        await graph.ainvoke(PAIR, context=swapped)
    swap_graph = (time.perf_counter() - started) / RUNS

    print(f"direct model call + parse : {direct * 1e3:.3f} ms")
    print(f"judge graph, 1 call       : {through_graph * 1e3:.3f} ms")
    print(f"judge graph, 2 calls (swap): {swap_graph * 1e3:.3f} ms")
    print(f"graph overhead per model call: {(through_graph - direct) * 1e3:.3f} ms (target <= 2 ms)")
    print(f"graph overhead per model call, swap: {(swap_graph - 2 * direct) / 2 * 1e3:.3f} ms")


if __name__ == "__main__":
    asyncio.run(main())
