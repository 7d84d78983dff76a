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
