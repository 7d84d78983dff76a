"""`generate` and live `agreement` on a real two-node Ray cluster, started here on loopback addresses only.

Ray rewrites 127.0.0.1 to the machine's interface address, so the head, the second node and
the driver each get another loopback address (127.0.0.2, 127.0.0.3). The nodes are started
as `ray start --block` processes and stopped by those processes. Models are a scripted
OpenAI-compatible server on loopback (a test double the workers call over HTTP), then the
embedded model. Skip these locally with `-m "not ray"`; CI runs them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from tests.ray_nodes import HEAD, SECOND, free_port, start_node, stop_node, wait_nodes
from tests.servers import scripted_server

pytestmark = [pytest.mark.integration, pytest.mark.ray]
# A token of the tests' own for the nodes, the probes and every driver, set before Ray is
# imported here (it reads its authentication settings once): Ray turns token authentication
# on by itself once ~/.ray/auth_token exists (any earlier local ray.init writes one), and the
# test cluster must not depend on what the machine went through before.
os.environ.setdefault("RAY_AUTH_MODE", "token")
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[dev]' installs it")
runner = CliRunner()
SECRET = "sk-test-secret-0123456789abcdef"
PROMPTS = [f"Describe the number {n} in one line." for n in range(1, 9)]


class Cluster:
    """A head node and a second node, each a `ray start --block` process."""

    def __init__(self) -> None:
        self.temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
        self.port = free_port(HEAD)
        self.address = f"{HEAD}:{self.port}"
        self.head = start_node("--head", "--node-ip-address", HEAD, "--port", str(self.port), "--num-cpus", "1",
                               "--include-dashboard=false", "--temp-dir", self.temp)
        wait_nodes(self.address, 1)
        self.second = self.start_second()

    def start_second(self) -> subprocess.Popen:
        proc = start_node("--address", self.address, "--node-ip-address", SECOND, "--num-cpus", "1")
        wait_nodes(self.address, 2)
        return proc

    def stop_second(self) -> None:
        os.killpg(self.second.pid, signal.SIGKILL)  # the node dies: its raylet and its workers with it
        self.second.wait()

    def stop(self) -> None:
        for proc in (self.second, self.head):
            stop_node(proc)
        shutil.rmtree(self.temp, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    os.environ["FELLOWSHIP_RAY_NODE_IP"] = HEAD
    started = Cluster()
    try:
        yield started
    finally:
        if ray.is_initialized():
            ray.shutdown()
        started.stop()
        os.environ.pop("FELLOWSHIP_RAY_NODE_IP", None)


def reply(body: dict[str, Any]) -> str:
    """Candidates answer with their seed; the judge scores each answer by its last digit; reviewers give 5/10."""
    messages = body["messages"]
    if messages[0]["role"] != "system":
        return f"An answer drawn with seed {body.get('seed')}."
    seeds = [int(s) for s in re.findall(r"seed (\d+)", messages[-1]["content"])]
    if len(seeds) < 2:  # a reviewer, who sees one response
        return "Evaluation: plain.\nOverall Score: 5/10\nFeedback: say more."
    a, b = (s % 10 for s in seeds[:2])
    return f"Compared.\n### Score Assistant A: {a}/10\n### Score Assistant B: {b}/10"


@pytest.fixture(scope="module")
def server():
    with scripted_server(reply, latency=0.05) as double:
        yield double


@pytest.fixture
def slow(server):
    """The same server, slow enough (0.4 s a call) to kill something mid-run."""
    server.latency = 0.4
    yield server
    server.latency = 0.05


def prompts_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "prompts.txt"
    path.write_text("\n".join(PROMPTS) + "\n")
    return path


def generate_args(folder: Path, server_url: str, *extra: str) -> list[str]:
    return ["generate", "--prompts", str(prompts_file(folder)), "--out", str(folder / "out"), "--kind", "single", "--json",
            "--candidate", "a=openai:m", "--candidate", "b=openai:m", "--judge-model", "openai:m", "--temperature", "0.7",
            "--base-url", server_url, "--max-concurrency", "2", *extra]


def stable_rows(out: Path) -> dict[str, list[dict[str, Any]]]:
    """Every dataset file's rows, without what differs from run to run (trace ids, timestamps)."""
    found = {}
    for name in ("single_dpo.jsonl", "single_kto.jsonl"):
        rows = [json.loads(line) for line in (out / name).read_text().splitlines()]
        for row in rows:
            row["provenance"] = {k: v for k, v in row["provenance"].items() if k not in ("trace_id", "created_at")}
        found[name] = rows
    return found


def journal(out: Path) -> list[dict[str, Any]]:
    rows = []
    for line in (out / "journal.jsonl").read_text().splitlines()[1:]:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return rows


@pytest.fixture(scope="module")
def local_run(server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("local")
    result = runner.invoke(app, generate_args(folder, server.url))
    assert result.exit_code == 0, result.output
    return stable_rows(folder / "out")


def test_generate_on_two_nodes_gives_the_local_run_s_rows(cluster, server, local_run, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    before = len(server.keys)
    result = runner.invoke(app, generate_args(tmp_path, server.url, "--ray", cluster.address, "--workers", "2"))
    assert result.exit_code == 0, result.output
    assert "ray: 2 workers on a cluster of 2 CPUs" in result.stderr
    rows = journal(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == [str(i) for i in range(1, 9)]
    assert {r["worker"] for r in rows} == {HEAD, SECOND}  # both nodes did work
    assert stable_rows(tmp_path / "out") == local_run
    # The key reached the workers through the environment: each call carried it, no argument did.
    assert set(server.keys[before:]) == {f"Bearer {SECRET}"}
    logs = "".join(p.read_text(errors="replace") for p in Path(cluster.temp).rglob("*")
                   if p.is_file() and p.suffix in (".log", ".out", ".err", ".txt"))
    assert SECRET not in logs
    # Each worker traced its graph runs into FELLOWSHIP_HOME (the driver ran none of them).
    from fellowship.tracing.store import load

    traces = Path(os.environ["FELLOWSHIP_HOME"]) / "traces.sqlite"
    assert all(load(r["trace_id"], traces)["name"] == "generate" for r in rows)
    assert SECRET.encode() not in traces.read_bytes()


def test_the_driver_holds_the_budget_on_the_cluster(cluster, server, tmp_path):
    """The server reports 15 tokens a call, 3 calls a prompt: 3 prompts fit in 150 tokens, a fourth could pass them."""
    before = len(server.bodies)
    limited = runner.invoke(app, generate_args(tmp_path, server.url, "--ray", cluster.address, "--workers", "2",
                                               "--max-tokens-total", "150"))
    assert limited.exit_code == 3, limited.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["done"] == 3 and summary["budget"]["not_started"] == 5
    assert summary["spend"]["input_tokens"] + summary["spend"]["output_tokens"] == 135
    assert len(server.bodies) - before == 9
    resumed = runner.invoke(app, generate_args(tmp_path, server.url, "--ray", cluster.address, "--workers", "2"))
    assert resumed.exit_code == 0, resumed.output
    assert len(server.bodies) - before == 8 * 3  # the 5 prompts left, none of the 3 again


def wait_for_rows(out: Path, count: int, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "journal.jsonl").exists() and len(journal(out)) >= count:
            return
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be interrupted"


def test_a_worker_node_killed_mid_run(cluster, local_run, slow, tmp_path):
    command = [sys.executable, "-m", "fellowship.cli", *generate_args(tmp_path, slow.url, "--ray", cluster.address, "--workers", "2")]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "FELLOWSHIP_RAY_NODE_IP": HEAD})
    try:
        wait_for_rows(tmp_path / "out", 2, proc)
        killed_at = len(journal(tmp_path / "out"))
        cluster.stop_second()
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()
        # The workers were restarted from what their creation carried: nothing that Ray warns a restart may lose.
        assert "constructor arguments in the object store" not in err.decode()
    finally:
        cluster.second = cluster.start_second()
    rows = journal(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == [str(i) for i in range(1, 9)]  # none lost, none written twice
    assert stable_rows(tmp_path / "out") == local_run
    print(f"worker node killed with {killed_at} of {len(PROMPTS)} prompts journalled; the run finished "
          f"{len(rows)} rows, {len({r['id'] for r in rows})} distinct, on {sorted({r['worker'] for r in rows})}")


def test_the_driver_killed_mid_run_and_run_again(cluster, local_run, slow, tmp_path):
    command = [sys.executable, "-m", "fellowship.cli", *generate_args(tmp_path, slow.url, "--ray", cluster.address, "--workers", "2")]
    env = {**os.environ, "FELLOWSHIP_RAY_NODE_IP": HEAD}
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    wait_for_rows(tmp_path / "out", 2, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {r["id"]: r["trace_id"] for r in journal(tmp_path / "out")}
    assert 2 <= len(before) < len(PROMPTS)
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(before)} of {len(PROMPTS)}" in again.stderr
    rows = journal(tmp_path / "out")
    assert sorted(r["id"] for r in rows) == [str(i) for i in range(1, 9)]
    assert all(r["trace_id"] == before[r["id"]] for r in rows if r["id"] in before)  # not recomputed
    assert stable_rows(tmp_path / "out") == local_run
    print(f"driver killed with {len(before)} of {len(PROMPTS)} prompts journalled; the rerun added "
          f"{len(rows) - len(before)}: {len(rows)} rows, {len({r['id'] for r in rows})} distinct")


def test_live_agreement_on_the_cluster(cluster, server, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"id": str(i), "question": "q", "response_a": f"seed {i}1", "response_b": f"seed {i}2",
                                         "human": "B"}) + "\n" for i in range(4)))
    args = ["agreement", "--dataset", str(pairs), "--format", "items", "--model", "openai:m", "--base-url", server.url,
            "--results", str(tmp_path / "results.jsonl"), "--bootstrap", "0", "--json"]
    result = runner.invoke(app, [*args, "--ray", cluster.address, "--workers", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 4 and report["accuracy"] == 1.0  # the scripted judge prefers the seed ending in 2


def test_live_winrate_on_the_cluster(cluster, server, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Name a fruit.\nName a colour.\n")
    result = runner.invoke(app, ["winrate", "--prompts", str(prompts), "--generator", "openai:m", "--reviewer", "openai:m",
                                 "--baseline", "openai:m", "--judge-model", "openai:m", "--iterations", "2", "--temperature",
                                 "0.7", "--base-url", server.url, "--results", str(tmp_path / "results.jsonl"), "--json",
                                 "--ray", cluster.address, "--workers", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()[1:]]
    assert report["n"] == 2 and report["invalid"] == 0 and len(rows) == 2
    # The scripted judge prefers the answer whose seed ends higher: the verdicts follow the seeds the loop and baseline drew.
    for row in rows:
        a, b = (int(re.search(r"seed (\d+)", text)[1]) % 10 for text in (row["loop"]["best_response"], row["baseline_response"]))
        assert row["verdict"] == ("A" if a > b else "B" if b > a else "tie")


def test_the_embedded_model_on_the_cluster(cluster, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Name a fruit.\nName a colour.\n")
    result = runner.invoke(app, ["generate", "--prompts", str(prompts), "--out", str(tmp_path / "out"), "--kind", "single",
                                 "--candidate", "a=local:smollm2", "--candidate", "b=local:smollm2", "--temperature", "0.8",
                                 "--max-tokens", "24", "--strategy", "direct", "--judge-max-tokens", "48", "--json",
                                 "--ray", cluster.address, "--workers", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    rows = journal(tmp_path / "out")
    assert summary["done"] == 2 and summary["failed"] == 0 and len(rows) == 2
    assert all(c["response"].strip() and c["output_tokens"] <= 24 for r in rows for c in r["candidates"])
