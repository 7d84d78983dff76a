"""Concurrency gain of the jury fan-out and the debate's closing phase.

Wall time of the graph (members / referees in parallel via `Send`) vs the same calls
made one after another, against
  1. a scripted async model that waits LATENCY seconds per call, and
  2. the real llama.cpp OpenAI-compatible server (started here on 127.0.0.1).
Prints the ratios sequential / concurrent (target >= 2.5 for 3 jurors with the waiting fake).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
import urllib.request
from functools import partial

import _common  # noqa: F401
from langchain_core.messages import HumanMessage

from fellowship.fileio.pairs import Pair
from fellowship.graphs.debate import graph as debate_graph
from fellowship.graphs.jury import graph as jury_graph
from fellowship.models import ModelSettings, load_chat_model, register_model
from fellowship.models.llamacpp import smollm2_path
from fellowship.nodes.asking import ask
from fellowship.nodes.debate import referee_messages
from fellowship.nodes.judge import judge_messages
from fellowship.parsing.formats import pair_scores_format
from fellowship.parsing.scores import parse_pair_scores
from fellowship.prompts import debate as debate_prompts
from fellowship.state.debate import DebateContext
from fellowship.state.jury import JuryContext
from tests.fakes import ScriptedChatModel

LATENCY = 0.5
PAIR = Pair(id="1", question="What is the boiling point of water at sea level?",
            response_a="100 degrees Celsius (212 °F).", response_b="About 50 degrees.")
INPUTS = {"question": PAIR.question, "response_a": PAIR.response_a, "response_b": PAIR.response_b}
JUDGE_REPLY = "A is right.\n### Score Assistant A: 9/10\n### Score Assistant B: 2/10"
FINAL_REPLY = "A is right.\nScore Assistant 1: 9/10\nScore Assistant 2: 2/10"


async def sequential_jury(specs: tuple[str, ...], settings: ModelSettings) -> None:
    """The members' judge conversations (repair turns included), one after another."""
    task = {"question": PAIR.question, "order": "AB", "part": "pair", "first": PAIR.response_a, "second": PAIR.response_b}
    messages, parser, repair, fmt = judge_messages("combined-10", task)
    for spec in specs:
        await ask(load_chat_model(spec, settings), messages, parser, repair, fmt)


async def sequential_finals(ctx: DebateContext) -> None:
    """The referees' closing conversations (repair turns included), one after another."""
    parser = partial(parse_pair_scores, scale=10, labels=("1", "2"))
    for seat in range(len(ctx.referees)):
        messages = referee_messages(ctx, seat, INPUTS, [], debate_prompts.FINAL)
        await ask(load_chat_model(ctx.model_of(seat), ctx.settings()), messages, parser, debate_prompts.FINAL_REPAIR,
                  pair_scores_format(10, ("1", "2")))


async def timed(coro) -> float:
    started = time.perf_counter()
    await coro
    return time.perf_counter() - started


async def measure(label: str, members: tuple[str, ...], debate_ctx: DebateContext, settings: ModelSettings) -> None:
    jury_ctx = JuryContext(members=members, max_tokens=settings.max_tokens, base_url=settings.base_url)
    seq = await timed(sequential_jury(members, settings))
    par = await timed(jury_graph.ainvoke(INPUTS, context=jury_ctx))
    print(f"[{label}] jury of {len(members)}: sequential {seq:.2f} s, graph {par:.2f} s, ratio {seq / par:.2f}")
    seq = await timed(sequential_finals(debate_ctx))
    par = await timed(debate_graph.ainvoke(INPUTS, context=debate_ctx))
    print(f"[{label}] debate closing phase (3 referees, 0 rounds): sequential {seq:.2f} s, graph {par:.2f} s, ratio {seq / par:.2f}")


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_path()), "--model_alias", "smollm2",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--n_threads", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("llama.cpp server did not start")


async def main(with_server: bool) -> None:
    fake = ScriptedChatModel(
        script=lambda m: FINAL_REPLY if "The discussion is over" in m[-1].text else JUDGE_REPLY, latency=LATENCY
    )
    for name in ("bench:j1", "bench:j2", "bench:j3"):
        register_model(name, fake)
    print(f"scripted async model, {LATENCY:.1f} s per call")
    await measure("fake", ("bench:j1", "bench:j2", "bench:j3"), DebateContext(model="bench:j1", rounds=0), ModelSettings())
    if not with_server:
        return
    proc, url = start_server()
    try:
        settings = ModelSettings(max_tokens=64, base_url=url)
        await load_chat_model("openai:smollm2", settings).ainvoke([HumanMessage("warm up")])
        print(f"llama.cpp OpenAI-compatible server on 127.0.0.1, max_tokens {settings.max_tokens}")
        await measure("llama.cpp server", ("openai:smollm2",) * 3,
                      DebateContext(model="openai:smollm2", rounds=0, max_tokens=64, base_url=url), settings)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-server", action="store_true", help="only the scripted model")
    asyncio.run(main(with_server=not parser.parse_args().no_server))
