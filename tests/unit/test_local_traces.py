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

    from fellowship.tracing.store import recent
    from fellowship.tracing.tracer import LocalTracer

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


def test_the_first_items_are_traced_then_a_sample_chosen_by_id(tmp_path):
    from fellowship.tracing.store import TRACED_FIRST
    from fellowship.tracing.tracer import LocalTracer

    ids = [f"prompt-{i}" for i in range(3000)]
    none_after_the_first = LocalTracer("t", tmp_path / "a.sqlite", sample=0)
    assert [none_after_the_first.wants(i) for i in ids] == [True] * TRACED_FIRST + [False] * (3000 - TRACED_FIRST)
    assert none_after_the_first.wants(None) and none_after_the_first.wants(ids[5])  # runs of no item; a first item again

    tenth, again = (LocalTracer("t", tmp_path / f"{n}.sqlite", sample=0.1) for n in "bc")
    chosen = [i for i in ids if tenth.wants(i)]
    assert chosen == [i for i in ids if again.wants(i)]  # the same items in another process, or a rerun
    assert 240 < len(chosen) - TRACED_FIRST < 360  # about a tenth of the 3,000 (the first ones may be in it too)
    assert tenth.traced == len(chosen)
    assert all(LocalTracer("t", tmp_path / "d.sqlite", sample=1).wants(i) for i in ids)


def test_a_failed_item_outside_the_sample_is_stored_as_its_error(tmp_path):
    from fellowship.tracing.store import load, recent
    from fellowship.tracing.tracer import LocalTracer

    tracer = LocalTracer("generate", tmp_path / "traces.sqlite", sample=0)
    traced = [tracer.wants(f"p{i}") for i in range(101)]
    assert traced[-1] is False  # past the first 100
    tracer.note_failure("generate", "p0", "ValueError: traced in full, so not noted")
    tracer.note_failure("generate", "p100", "ModelCallFailed: openai:m at http://127.0.0.1:9/v1: HTTP 500", (120, 7))
    tracer.flush()
    [run] = recent(tmp_path / "traces.sqlite")
    assert (run["status"], run["input_tokens"], run["output_tokens"], tracer.noted) == ("error", 120, 7, 1)
    tree = load(run["id"], tmp_path / "traces.sqlite")
    assert tree["metadata"] == {"item_id": "p100"} and "HTTP 500" in tree["error"]


def test_a_batch_traces_its_first_items_and_the_failures_outside_the_sample(fake_models, tmp_path, monkeypatch):
    """130 prompts with --trace-sample 0: the first 100 are traced whole, the judge's run a branch of each; of the rest,
    only the one that failed is stored, as its error. The summary says so."""
    monkeypatch.setenv("FELLOWSHIP_HOME", str(tmp_path))

    def source(messages) -> str:
        if "Question 120?" in messages[-1].content:
            raise ConnectionError("the server went away")
        return f"an answer to {messages[-1].content}"

    fake_models["openai:fake"] = ScriptedChatModel(script=lambda m: REPLY if m[0].type == "system" else source(m))
    fake_models["openai:other"] = ScriptedChatModel(script=lambda m: "another answer")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"Question {i}?\n" for i in range(130)))
    result = runner.invoke(app, ["--trace-sample", "0", "generate", "--prompts", str(prompts), "--out", str(tmp_path / "out"),
                                 "--kind", "single", "--candidate", "a=openai:fake", "--candidate", "b=openai:other",
                                 "--judge-model", "openai:fake", "--no-preflight", "--json"])
    assert result.exit_code == 1, result.output  # the one failure
    traces = json.loads(result.stdout)["local_traces"]
    assert (traces["sample"], traces["traced"], traces["failures_noted"]) == (0.0, 100, 1)
    runs = json.loads(runner.invoke(app, ["traces", "list", "--json", "--limit", "500"]).stdout)
    assert sorted(r["status"] for r in runs) == ["error"] + ["ok"] * 100
    [whole, *_] = [r for r in runs if r["status"] == "ok"]
    tree = json.loads(runner.invoke(app, ["traces", "show", whole["id"], "--json"]).stdout)

    def names(node) -> list[str]:
        return [node["name"], *(name for child in node["children"] for name in names(child))]

    assert names(tree).count("judge") == 1 and names(tree).count("judge_call") == 1  # the judge's graph, inside the prompt's
    [failed] = [r for r in runs if r["status"] == "error"]
    assert json.loads(runner.invoke(app, ["traces", "show", failed["id"], "--json"]).stdout)["metadata"] == {"item_id": "121"}
