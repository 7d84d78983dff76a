"""`generate` at scale against a server that answers at once: its wall time against the bare client's floor,
its peak memory, and the sizes of its journal and local traces.

A scripted OpenAI-compatible server runs in a process of its own on 127.0.0.1 and answers every
request at once. The floor is the same calls (two candidates and one judgement per prompt)
through the bare async `openai` client at the same concurrency; then `fellowship generate` runs
as a user runs it (a subprocess, default settings, local traces on). Prints, per size: seconds
of each, their ratio (the issue's target: at most 1.5), peak RSS of the generate process, and
the journal's and the trace file's sizes.

    python benchmarks/scale.py                 # 2,000 prompts
    python benchmarks/scale.py --prompts 2000 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401

from tests.servers import instant_server_process

CONCURRENCY = 16


async def floor(url: str, prompts: int) -> float:
    """The bare client: the same 3 calls per prompt, CONCURRENCY at once."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key="x", max_retries=0)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with gate:
            a, b = await asyncio.gather(*(client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": f"Question {i}?"}], max_tokens=512, seed=seed) for seed in (1, 2)))
            await client.chat.completions.create(model="m", max_tokens=1024, messages=[
                {"role": "system", "content": "You judge."},
                {"role": "user", "content": f"Question {i}?\n{a.choices[0].message.content}\n{b.choices[0].message.content}"}])

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(prompts)))
    return time.perf_counter() - started


def generate(url: str, prompts: int, folder: Path) -> tuple[float, float]:
    """`fellowship generate` as a subprocess: (seconds, peak RSS in MB)."""
    source = folder / "prompts.txt"
    source.write_text("".join(f"Question {i}?\n" for i in range(prompts)))
    env = {**os.environ, "OPENAI_API_KEY": "x", "FELLOWSHIP_HOME": str(folder / "home"), "LANGSMITH_TRACING": "false"}
    command = [str(Path(sys.executable).parent / "fellowship"), "generate", "--prompts", str(source), "--out", str(folder / "out"),
               "--kind", "single", "--candidate", "a=openai:m", "--candidate", "b=openai:m", "--judge-model", "openai:m",
               "--base-url", url, "--max-concurrency", str(CONCURRENCY), "--no-preflight", "--json"]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
        _, status, usage = os.wait4(process.pid, 0)  # this process's own peak, not the largest child's so far
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            stderr.seek(0)
            raise SystemExit(f"generate failed ({process.returncode}):\n{stderr.read()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, nargs="+", default=[2000])
    args = parser.parse_args()
    with instant_server_process() as url:
        print("| prompts | bare client (s) | generate (s) | ratio | peak RSS (MB) | journal (MB) | traces (MB) |")
        print("|---|---|---|---|---|---|---|")
        for count in args.prompts:
            bare = asyncio.run(floor(url, count))
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                seconds, peak = generate(url, count, folder)
                journal = (folder / "out" / "journal.jsonl").stat().st_size / 1e6
                traces = (folder / "home" / "traces.sqlite").stat().st_size / 1e6
                summary = json.loads((folder / "out" / "summary.json").read_text())
                assert summary["done"] == count and summary["rows"]["single_dpo.jsonl"] == count, summary  # every prompt judged
            print(f"| {count:,} | {bare:.1f} | {seconds:.1f} | {seconds / bare:.2f} | {peak:.0f} | {journal:.1f} | {traces:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
