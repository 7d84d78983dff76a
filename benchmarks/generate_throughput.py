"""Throughput of `generate`: prompts per minute at --max-concurrency 1 vs 4, and the share of
wall time spent outside model calls with the embedded model (target < 5%).

Backends: a scripted async model that waits LATENCY seconds per call; the real llama.cpp
OpenAI-compatible server (started here on 127.0.0.1); the embedded model in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401
from fanout import start_server

from fellowship.fileio.prompts import PromptItem
from fellowship.models import register_model
from fellowship.models.factory import load_chat_model
from fellowship.models.llamacpp import LlamaCppChat
from fellowship.models.settings import ModelSettings
from fellowship.preference.rows import RowRules
from fellowship.runs.generation import Generation
from fellowship.runs.runner import Batch
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.generate import CandidateConfig, GenerateContext
from tests.fakes import ScriptedChatModel

LATENCY = 0.2
PROMPTS = [PromptItem(str(i), p, i) for i, p in enumerate(
    ["Name a fruit.", "What is 3 + 4?", "Say hello in Spanish.", "Name a planet.",
     "Give a synonym for happy.", "What colour is the sky?", "Name a mammal.", "What is the opposite of cold?"], start=1)]


def context(single: str, generator: str, reviewer: str, judge: str, max_tokens: int, base_url: str | None = None) -> GenerateContext:
    return GenerateContext(
        candidates=(CandidateConfig(name="single", kind="single", models=(single,)),
                    CandidateConfig(name="loop", kind="loop", models=(generator, reviewer))),
        iterations=2, evaluator=EvaluatorConfig(model=judge, max_tokens=max_tokens, base_url=base_url),
        max_tokens=max_tokens, base_url=base_url,
    )


async def run(ctx: GenerateContext, items: list[PromptItem], concurrency: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        generation = Generation(Path(out), ctx, RowRules(), "bench")
        started = time.perf_counter()
        await generation.run(items, Batch("generate", concurrency))
        generation.write(items, 0)
        return time.perf_counter() - started


async def throughput(label: str, ctx: GenerateContext, items: list[PromptItem]) -> None:
    one = await run(ctx, items, 1)
    four = await run(ctx, items, 4)
    print(f"[{label}] {len(items)} prompts: concurrency 1 {60 * len(items) / one:.1f} prompts/min, "
          f"concurrency 4 {60 * len(items) / four:.1f} prompts/min, ratio {one / four:.2f}")


async def outside_share(items: list[PromptItem]) -> None:
    """Wall time of a run vs the time llama.cpp spends in chat completions."""
    model = load_chat_model("local:smollm2", ModelSettings(max_tokens=48))
    assert isinstance(model, LlamaCppChat)
    llama = model._engine().llama
    inside = 0.0
    original = llama.create_chat_completion

    def timed(*args, **kwargs):
        nonlocal inside
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            inside += time.perf_counter() - started

    llama.create_chat_completion = timed
    wall = await run(context("local:smollm2", "local:smollm2", "local:smollm2", "local:smollm2", 48), items, 1)
    print(f"[embedded] {len(items)} prompts in {wall:.1f} s, {inside:.1f} s inside llama.cpp: "
          f"{100 * (wall - inside) / wall:.1f}% of wall time outside model calls (target < 5%)")


async def main(with_server: bool) -> None:
    scores = "### Score Assistant A: 7/10\n### Score Assistant B: 4/10\nOverall Score: 6/10\nFeedback: more"
    fake = ScriptedChatModel(script=lambda m: scores if m[0].type == "system" else f"answer {len(m)}", latency=LATENCY)
    register_model("bench:fake", fake)
    await throughput(f"scripted model, {LATENCY} s per call", context(*["bench:fake"] * 4, 64), PROMPTS)
    await outside_share(PROMPTS[:3])
    if with_server:
        proc, url = start_server()
        try:
            await throughput("llama.cpp server, 48 tokens", context(*["openai:smollm2"] * 4, 48, base_url=url), PROMPTS[:4])
        finally:
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-server", action="store_true", help="skip the llama.cpp server")
    asyncio.run(main(with_server=not parser.parse_args().no_server))
