"""Our own fault tests: a server that fails in every way, Ctrl-C and SIGTERM mid-run, a full disk.

Each ends with a clear message and the documented exit code, and a rerun completes with every prompt exactly once.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from tests.servers import faulty_server, scripted_server

runner = CliRunner()
PROMPTS = ["Say one.", "Say two.", "Say three.", "Say four."]


def reply(body) -> str:
    text = body["messages"][-1]["content"]
    if "Score Assistant" in text:
        return "### Score Assistant A: 8/10\n### Score Assistant B: 3/10"
    return f"answer to {text[:20]} (seed {body.get('seed')})"  # each source samples with a seed of its own


def args(prompts, out, url, *extra) -> list[str]:
    return ["generate", "--prompts", str(prompts), "--out", str(out), "--candidate", "a=openai:m", "--candidate", "b=openai:m",
            "--judge-model", "openai:m", "--kind", "single", "--base-url", url, "--temperature", "0.7", "--json", *extra]


def exactly_once(out, n: int) -> None:
    """The journal's finished rows: every prompt once; the dataset: one pair per prompt."""
    rows = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()[1:]]
    done = [r["id"] for r in rows if r.get("error") is None]
    assert sorted(done) == sorted(set(done)) and len(done) == n
    assert len((out / "single_dpo.jsonl").read_text().splitlines()) == n


@pytest.fixture
def prompts(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("\n".join(PROMPTS[:2]) + "\n")
    return path


@pytest.mark.parametrize("fault, expected", [
    ("500", "Error code: 500 - scripted failure"),
    ("429", "Error code: 429 - scripted failure"),
    ("429-bare", "Error code: 429 - scripted failure"),
    ("bad-json", "the server's answer is not valid JSON"),
    ("html", "the server's answer is not valid JSON (Expecting value: line 1 column 1 (char 0)): '<html><body><h1>502 Bad"),
    ("error-object", "the server's answer is not a chat completion: 'the model is still loading'"),
    ("drop", "Connection error."),
    ("hang", "timed out after 1 s"),
])
def test_a_failing_server_ends_clearly_and_the_rerun_completes_once(prompts, tmp_path, fault, expected, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    out = tmp_path / "out"
    with faulty_server(reply, fault, hang=3.0) as server:
        first = runner.invoke(app, args(prompts, out, server.url, "--timeout", "1"))
        said = " ".join(first.stderr.split())
        assert first.exit_code == 1, first.output
        assert f"2 of 2 prompts failed: 2 x ModelCallFailed: openai:m at {server.url}: " in said and expected in said
        assert "run the same command again" in said
        assert server.failures >= 2
        if fault == "429":  # Retry-After honoured: the client asked again after it
            assert server.failures > 2
        server.failing = False
        second = runner.invoke(app, args(prompts, out, server.url, "--timeout", "1"))
        assert second.exit_code == 0, second.output
    exactly_once(out, 2)


def cli(*argv: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fellowship.cli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "OPENAI_API_KEY": "sk-test"}, **kwargs)


def wait_for_rows(journal, n: int, process: subprocess.Popen, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count("\n") >= n + 1:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("no rows journalled in time")


@pytest.mark.parametrize("sent, code, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_and_sigterm_mid_run(tmp_path, sent, code, word):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS) + "\n")
    out = tmp_path / "out"
    with scripted_server(reply, latency=0.3) as server:
        run = cli(*args(prompts, out, server.url, "--max-concurrency", "1"))
        wait_for_rows(out / "journal.jsonl", 1, run)
        run.send_signal(sent)
        _, stderr = run.communicate(timeout=60)
        assert run.returncode == code and f"error: {word}; what finished is journalled" in " ".join(stderr.split())
        again = runner.invoke(app, args(prompts, out, server.url))
        assert again.exit_code == 0, again.output
    exactly_once(out, 4)


def test_a_full_disk_is_a_file_error_not_a_model_failure(tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS) + "\n")
    out = tmp_path / "out"

    def small_files() -> None:  # in the child: files may not grow past 6 kB, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000))

    with scripted_server(reply) as server:
        run = cli(*args(prompts, out, server.url, "--max-concurrency", "1"), preexec_fn=small_files)
        _, stderr = run.communicate(timeout=120)
        said = " ".join(stderr.split())
        assert run.returncode == 1 and "journal.jsonl: File too large" in said and "model call failed" not in said
        again = runner.invoke(app, args(prompts, out, server.url))
        assert again.exit_code == 0, again.output
    exactly_once(out, 4)
