"""Scale-out of `generate` on Ray: prompts per minute, locally and with 1, 2 and 4 Ray workers.

The models are a scripted OpenAI-compatible server on loopback (the test double of
`tests/servers.py`) that waits LATENCY seconds per call, as a remote model would; two
single-model sources and a judge make 3 calls per prompt. Locally `generate` runs
--max-concurrency prompts at once; on Ray each worker runs that many. Ray is first a local
instance the run starts itself (`--ray local`), then a running head node on 127.0.0.2 that
the runs join (`--ray ADDRESS`), as runs on a cluster do; a real cluster adds workers per node.

    pip install -e '.[ray]'
    python benchmarks/ray_scaleout.py [--prompts 320] [--latency 0.5] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _common  # noqa: F401

from tests.ray_nodes import HEAD, free_port, start_node, stop_node, wait_nodes
from tests.servers import scripted_server


def reply(body: dict[str, Any]) -> str:
    messages = body["messages"]
    if messages[0]["role"] != "system":
        return f"An answer drawn with seed {body.get('seed')}."
    a, b = (int(s) % 10 for s in re.findall(r"seed (\d+)", messages[-1]["content"])[:2])
    return f"### Score Assistant A: {a}/10\n### Score Assistant B: {b}/10"


@contextlib.contextmanager
def running_head() -> Iterator[str]:
    """A Ray head node (`ray start --head --block`) on loopback, for the runs to join: its address.

    Its token is the benchmark's own, as in the tests: Ray turns token authentication on by itself once
    ~/.ray/auth_token exists, and the head and its drivers must agree whatever the machine went through."""
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    port = free_port(HEAD)
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    head = start_node("--head", "--node-ip-address", HEAD, "--port", str(port), "--include-dashboard=false", "--temp-dir", temp)
    try:
        wait_nodes(f"{HEAD}:{port}", 1)
        yield f"{HEAD}:{port}"
    finally:
        stop_node(head)
        shutil.rmtree(temp, ignore_errors=True)


def run(folder: Path, url: str, concurrency: int, workers: int | None, prompts: int,
        address: str = "local") -> tuple[float, dict[str, Any], float, float]:
    """(wall seconds, the summary, seconds until the first prompt was journalled, prompts per minute from the first to the
    last: the steady state, without the start)"""
    name = "local" if not workers else f"{workers}" if address == "local" else f"{workers}-joined"
    command = [str(Path(sys.executable).parent / "fellowship"), "generate", "--prompts", str(folder / "prompts.txt"),
               "--out", str(folder / f"out-{name}"), "--kind", "single", "--json", "--base-url", url,
               "--candidate", "a=openai:m", "--candidate", "b=openai:m", "--judge-model", "openai:m", "--temperature", "0.7",
               "--max-concurrency", str(concurrency)]
    if workers:
        command += ["--ray", address, "--workers", str(workers)]
    journal = folder / f"out-{name}" / "journal.jsonl"
    started = time.perf_counter()
    first = last = None  # when the first and the last prompt reached the journal, watched every 20 ms
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True,
                                   env={**os.environ, "FELLOWSHIP_LOCAL_TRACES": "0",
                                        **({"FELLOWSHIP_RAY_NODE_IP": HEAD} if address != "local" else {})})
        while process.poll() is None:
            rows = _rows(journal)
            now = time.perf_counter() - started
            first = now if first is None and rows >= 1 else first
            last = now if last is None and rows >= prompts else last
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        stdout.seek(0), stderr.seek(0)
        if process.returncode != 0:
            raise SystemExit(stderr.read())
        summary = json.loads(stdout.read())
    assert first is not None and last is not None, "the journal was not seen filling"
    return seconds, summary, first, (prompts - 1) / (last - first) * 60


def _rows(journal: Path) -> int:
    try:
        return max(journal.read_bytes().count(b"\n") - 1, 0)  # the first line is the run's configuration
    except FileNotFoundError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=320)
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per model call")
    parser.add_argument("--concurrency", type=int, default=4, help="prompts at once, locally or per Ray worker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, scripted_server(reply, latency=args.latency) as server:
        folder = Path(tmp)
        (folder / "prompts.txt").write_text("".join(f"Describe the number {n}.\n" for n in range(args.prompts)))
        results = []  # (the row's name, workers, wall s, prompts/min, first prompt done at s, steady prompts/min)

        def measure(name: str, workers: int | None, address: str = "local") -> None:
            seconds, summary, first, steady = run(folder, server.url, args.concurrency, workers, args.prompts, address)
            assert summary["done"] == args.prompts and summary["failed"] == 0
            results.append((name, workers, seconds, 60 * args.prompts / seconds, first, steady))

        measure("local", None)
        measure("--ray local --workers 4 (starts Ray)", 4)
        with running_head() as address:
            for workers in (1, 2, 4):
                measure(f"--ray ADDRESS --workers {workers} (joins)", workers, address)
    local, local_steady = results[0][3], results[0][5]
    print(f"{args.prompts} prompts, 3 calls each, {args.latency} s per call, --max-concurrency {args.concurrency}\n")
    print("| run | wall s | prompts/min | vs local | first prompt done at s | steady prompts/min | steady vs local |")
    print("|---|---|---|---|---|---|---|")
    for name, _, seconds, rate, first, steady in results:
        print(f"| {name} | {seconds:.1f} | {rate:.1f} | {rate / local:.2f} | {first:.1f} | {steady:.1f} | {steady / local_steady:.2f} |")
    # Per prompt, the scripted calls take 2 x LATENCY (two candidates at once, then the judge);
    # what a run takes beyond that, per prompt and slot, is the overhead (Ray's start included).
    for name, workers, seconds, _, _, steady in results:
        slots = args.concurrency * (workers or 1)
        overhead = seconds * slots / args.prompts - 2 * args.latency
        steady_overhead = 60 / steady * slots - 2 * args.latency
        print(f"{name}: {overhead:.3f} s overhead per prompt and slot, {steady_overhead:.3f} s in the steady state")


if __name__ == "__main__":
    main()
