"""Local traces: the stored tree of a run, and the `traces` commands."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fellowship.cli import app
from tests.fakes import ScriptedChatModel

runner = CliRunner()
REPLY = "A is right.\n### Score Assistant A: 9/10\n### Score Assistant B: 2/10"


def test_a_judge_run_is_stored_as_a_tree(fake_models, tmp_path, monkeypatch):
    monkeypatch.setenv("FELLOWSHIP_HOME", str(tmp_path))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-secret-value")
    fake_models["openai:fake"] = ScriptedChatModel(script=lambda m: REPLY)
    result = runner.invoke(app, ["judge", "-q", "2+2?", "--a", "4", "--b", "5", "--model", "openai:fake", "--swap"])
    assert result.exit_code == 0, result.output

    listed = runner.invoke(app, ["traces", "list", "--json"])
    runs = json.loads(listed.stdout)
    assert len(runs) == 1
    run = runs[0]
    assert (run["command"], run["graph"], run["status"]) == ("judge", "judge", "ok")
    assert (run["input_tokens"], run["output_tokens"]) == (20, 10) and run["seconds"] > 0

    shown = runner.invoke(app, ["traces", "show", run["id"][:6], "--json"])
    tree = json.loads(shown.stdout)
    names = [child["name"] for child in tree["children"]]
    assert names.count("judge_call") == 2 and "decide" in names
    llm = [c for child in tree["children"] if child["name"] == "judge_call" for c in child["children"]]
    assert [c["run_type"] for c in llm] == ["llm", "llm"] and llm[0]["output_tokens"] == 5
    assert tree["metadata"]["item_id"] == "1" and "graph:judge" in tree["tags"]
    assert tree["outputs"]["verdict"]["verdict"] == "tie"  # the fake prefers the first shown: inconsistent

    text = runner.invoke(app, ["traces", "show", "last"]).stdout
    assert "judge_call" in text and "tokens" in text and "…" in text  # long inputs truncated without --full
    assert "…" not in runner.invoke(app, ["traces", "show", "last", "--full"]).stdout.split("in:")[1].split("out:")[0]
    assert b"sk-local-secret-value" not in (tmp_path / "traces.sqlite").read_bytes()


def test_no_traces_and_unknown_ids(tmp_path, monkeypatch):
    monkeypatch.setenv("FELLOWSHIP_HOME", str(tmp_path))
    assert "no traces yet" in runner.invoke(app, ["traces", "list"]).stderr
    result = runner.invoke(app, ["traces", "show", "nope"])
    assert result.exit_code == 2 and "no single trace" in result.stderr


def test_local_traces_can_be_turned_off(fake_models, tmp_path, monkeypatch):
    monkeypatch.setenv("FELLOWSHIP_HOME", str(tmp_path))
    monkeypatch.setenv("FELLOWSHIP_LOCAL_TRACES", "0")
    fake_models["openai:fake"] = ScriptedChatModel(script=lambda m: REPLY)
    assert runner.invoke(app, ["judge", "-q", "q", "--a", "a", "--b", "b", "--model", "openai:fake"]).exit_code == 0
    assert not (tmp_path / "traces.sqlite").exists()


def test_the_trace_file_stays_under_its_cap_dropping_the_oldest_runs_and_failures_last(tmp_path):
    from datetime import datetime, timedelta, timezone
    from uuid import uuid4

    from langchain_core.tracers.schemas import Run

    from fellowship.tracing.local import LocalTracer, recent

    tracer = LocalTracer("test", tmp_path / "traces.sqlite", cap=0.2)  # 200 kB
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for n in range(120):  # about 5 kB a run: 600 kB unbounded
        at = start + timedelta(seconds=n)
        tracer._persist_run(Run(id=uuid4(), name=f"run {n}", run_type="chain", start_time=at, end_time=at, trace_id=uuid4(),
                                inputs={"text": "x" * 5000}, outputs={}, error="boom" if n == 3 else None))
        tracer.flush()
        assert (tmp_path / "traces.sqlite").stat().st_size <= 200_000
    kept = recent(tmp_path / "traces.sqlite", limit=1000)
    names = {run["graph"] for run in kept}
    assert "run 119" in names and "run 3" in names and "run 4" not in names  # the newest and the failure stay
    assert tracer.dropped == 120 - len(kept) > 60


def test_the_cap_is_a_flag_and_an_environment_variable_and_the_generate_summary_says_it(fake_models, tmp_path, monkeypatch):
    monkeypatch.setenv("FELLOWSHIP_HOME", str(tmp_path))
    monkeypatch.setenv("FELLOWSHIP_TRACES_MB", "64")  # restored after the test: the flag below overwrites it
    fake_models["openai:fake"] = ScriptedChatModel(script=lambda m: REPLY if m[0].type == "system" else "an answer")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("2+2?\n")
    result = runner.invoke(app, ["--traces-mb", "0.5", "generate", "--prompts", str(prompts), "--out", str(tmp_path / "out"),
                                 "--kind", "single", "--candidate", "a=openai:fake", "--candidate", "b=openai:fake",
                                 "--judge-model", "openai:fake", "--no-preflight", "--json"])
    assert result.exit_code == 0, result.output
    traces = json.loads(result.stdout)["local_traces"]
    assert traces["path"] == str(tmp_path / "traces.sqlite") and traces["cap_mb"] == 0.5 and traces["dropped"] == 0
    assert 0 < traces["mb"] <= 0.5
