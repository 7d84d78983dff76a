"""`fellowship generate` on the real embedded model, killed with SIGKILL halfway and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.integration

PROMPTS = ["Name a fruit.", "What is 3 + 4?", "Say hello in Spanish.", "Name a planet."]


def command(prompts, out) -> list[str]:
    return [sys.executable, "-m", "fellowship.cli", "generate", "--prompts", str(prompts), "--out", str(out),
            "--max-tokens", "48", "--iterations", "1", "--max-concurrency", "1", "--json"]


def journal_rows(out) -> list[dict]:
    path = out / "journal.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines()[1:]:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # a torn last line
    return rows


def test_kill_halfway_and_resume(tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS) + "\n")
    out = tmp_path / "out"
    proc = subprocess.Popen(command(prompts, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    while len(journal_rows(out)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {row["id"]: row for row in journal_rows(out)}
    assert 2 <= len(before) < len(PROMPTS)

    done = subprocess.run(command(prompts, out), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"resuming: {len(before)} of {len(PROMPTS)}" in done.stderr
    summary = json.loads(done.stdout)
    assert summary["done"] == len(PROMPTS) and summary["failed"] == 0

    after = journal_rows(out)
    ids = [row["id"] for row in after]
    assert sorted(ids) == ["1", "2", "3", "4"]  # every prompt once: none lost, none duplicated
    for row in after:
        if row["id"] in before:  # finished before the kill: not recomputed
            assert row["trace_id"] == before[row["id"]]["trace_id"]
    for name, count in summary["rows"].items():
        lines = (out / name).read_text().splitlines()
        assert len(lines) == count
        keys = [json.dumps([json.loads(l)["prompt"], json.loads(l).get("chosen"), json.loads(l).get("rejected"),
                            json.loads(l).get("completion"), json.loads(l)["provenance"]["prompt_id"]]) for l in lines]
        assert len(keys) == len(set(keys))
        for line in lines:
            provenance = json.loads(line)["provenance"]
            assert provenance["trace_id"] and provenance["sources"] and provenance["templates"]
    assert not list(out.glob(".*.part"))
