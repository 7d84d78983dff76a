"""The judge graph's own overhead per model call, with a zero-latency scripted model.

Overhead = (graph run time - the same model call and parsing done directly) / calls,
best of REPEATS batches of RUNS runs each, on asyncio's default loop and on uvloop
(which the CLI uses). Prints milliseconds per call (target <= 2 ms), and LangGraph's
own floor: a one-node graph that does nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypedDict

import _common  # noqa: F401
import uvloop
from langgraph.graph import END, START, StateGraph

from fellowship.graphs.judge import graph
from fellowship.models import register_model
from fellowship.nodes.asking import ask
from fellowship.nodes.judge import judge_messages
from fellowship.state.judge import JudgeContext
from tests.fakes import ScriptedChatModel

REPLY = "Both fine.\n### Score Assistant A: 7/10\n### Score Assistant B: 6/10"
PAIR = {"question": "q", "response_a": "a", "response_b": "b"}
RUNS, REPEATS = 300, 5


class _Empty(TypedDict):
    x: int


async def _noop(state: _Empty) -> dict:
    return {"x": 1}


FLOOR = StateGraph(_Empty).add_node("noop", _noop).add_edge(START, "noop").add_edge("noop", END).compile()


async def best(run: Callable[[], Awaitable[object]]) -> float:
    """Best per-run seconds over REPEATS batches (after a warm-up batch)."""
    for _ in range(50):
        await run()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(RUNS):
            await run()
        times.append((time.perf_counter() - started) / RUNS)
    return min(times)


async def measure(loop_name: str) -> None:
    model = ScriptedChatModel(script=lambda messages: REPLY)
    register_model("bench:zero", model)
    task = {"question": "q", "order": "AB", "part": "pair", "first": "a", "second": "b"}
    messages, parser, repair, fmt = judge_messages("combined-10", task)

    direct = await best(lambda: ask(model, messages, parser, repair, fmt))
    one = await best(lambda: graph.ainvoke(PAIR, context=JudgeContext(model="bench:zero")))
    two = await best(lambda: graph.ainvoke(PAIR, context=JudgeContext(model="bench:zero", swap=True)))
    floor = await best(lambda: FLOOR.ainvoke({"x": 0}))
    print(f"[{loop_name}] direct call + parse {direct * 1e3:.3f} ms · judge graph {one * 1e3:.3f} ms (1 call), "
          f"{two * 1e3:.3f} ms (2 calls, swap) · empty 1-node LangGraph {floor * 1e3:.3f} ms")
    print(f"[{loop_name}] overhead per model call: {(one - direct) * 1e3:.3f} ms (1 call), "
          f"{(two - 2 * direct) / 2 * 1e3:.3f} ms (swap)  (target <= 2 ms)")


if __name__ == "__main__":
    asyncio.run(measure("asyncio"))
    uvloop.run(measure("uvloop"))
