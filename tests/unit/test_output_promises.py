"""An output folder is a promise: one writer at a time, rows that match today's prompts, paths checked first."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

from typer.testing import CliRunner

from fellowship.cli import app
from tests.fakes import ScriptedChatModel

runner = CliRunner()


def judge(messages) -> str:
    return "### Score Assistant A: 8/10\n### Score Assistant B: 3/10"


def setup(fake_models, tmp_path, prompts: list[dict]):
    fake_models["openai:x"] = ScriptedChatModel(script=lambda m: f"x answers {m[0].text}")
    fake_models["openai:y"] = ScriptedChatModel(script=lambda m: f"y says {m[0].text}")
    fake_models["openai:judge"] = ScriptedChatModel(script=judge)
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in prompts))
    return path


def generate(prompts, out, *extra):
    return runner.invoke(app, ["generate", "--prompts", str(prompts), "--out", str(out), "--candidate", "x=openai:x",
                               "--candidate", "y=openai:y", "--judge-model", "openai:judge", "--kind", "single", "--json", *extra])


def calls(fake_models) -> int:
    return sum(len(fake_models[spec].calls) for spec in ("openai:x", "openai:y", "openai:judge"))


def test_a_second_writer_is_refused_at_once_and_a_killed_holder_leaves_no_lock(fake_models, tmp_path):
    prompts = setup(fake_models, tmp_path, [{"id": "a", "prompt": "Say A."}])
    out = tmp_path / "out"
    out.mkdir()
    journal = out / "journal.jsonl"
    journal.write_text('{"config": {"from": "the other run"}}\n')
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from fellowship.fileio.lock import RunLock
        RunLock(Path({str(journal)!r})).acquire()
        print("holding", flush=True)
        time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        refused = generate(prompts, out)
        message = " ".join(refused.stderr.split())
        assert refused.exit_code == 2 and f"is being written by process {holder.pid} on " in message and "running since" in message
        assert journal.read_text() == '{"config": {"from": "the other run"}}\n'  # not rewritten, not appended to
        assert calls(fake_models) == 0
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    journal.unlink()  # the other run's journal, with its own configuration
    taken = generate(prompts, out)
    assert taken.exit_code == 0, taken.output
    assert json.loads((out / "journal.jsonl.lock").read_text())["pid"] == os.getpid()  # the lock now names this run


def test_an_edited_prompt_is_done_again_and_its_old_row_superseded(fake_models, tmp_path):
    prompts = setup(fake_models, tmp_path, [{"id": "a", "prompt": "Say A."}, {"id": "b", "prompt": "Say B."}])
    out = tmp_path / "out"
    assert generate(prompts, out).exit_code == 0
    before = calls(fake_models)
    prompts.write_text(json.dumps({"id": "a", "prompt": "Say A."}) + "\n" + json.dumps({"id": "b", "prompt": "Say C."}) + "\n")
    again = generate(prompts, out)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["redone"] == 1 and calls(fake_models) == before + 3  # two answers and one judgement
    rows = [json.loads(line) for line in (out / "single_dpo.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in rows] == ["Say A.", "Say C."] and rows[1]["chosen"] == "x answers Say C."
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()[1:]]
    assert [r["id"] for r in journal] == ["a", "b", "b"]  # appended; the last row of an id is the one that counts
    unchanged = generate(prompts, out)
    assert json.loads(unchanged.stdout)["redone"] == 0 and calls(fake_models) == before + 3


def test_out_must_be_a_folder_that_can_be_made_before_any_model_is_called(fake_models, tmp_path):
    prompts = setup(fake_models, tmp_path, [{"id": "a", "prompt": "Say A."}])
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    result = generate(prompts, afile)
    assert result.exit_code == 2 and "is a file, not a folder" in " ".join(result.stderr.split())
    result = generate(prompts, afile / "sub")
    assert result.exit_code == 2 and "cannot create the folder" in " ".join(result.stderr.split())
    assert afile.read_text() == "keep me" and calls(fake_models) == 0


def test_a_results_file_in_a_missing_folder_is_refused_before_any_model_is_called(fake_models, tmp_path):
    data = tmp_path / "items.jsonl"
    data.write_text(json.dumps({"question": "2+2?", "response_a": "4", "response_b": "5", "human": "A"}) + "\n")
    fake_models["openai:judge"] = ScriptedChatModel(script=judge)
    result = runner.invoke(app, ["agreement", "--dataset", str(data), "--model", "openai:judge",
                                 "--results", str(tmp_path / "missing" / "r.jsonl")])
    assert result.exit_code == 2 and "does not exist" in " ".join(result.stderr.split())
    assert not (tmp_path / "missing").exists() and fake_models["openai:judge"].calls == []


def test_failed_prompts_are_summed_up_by_reason_and_a_run_without_rows_writes_no_card(fake_models, tmp_path):
    prompts = setup(fake_models, tmp_path, [{"id": "a", "prompt": "Say A."}, {"id": "b", "prompt": "Say B."}])

    def down(messages):
        raise ConnectionError("server at http://127.0.0.1:9/v1 went away")

    fake_models["openai:x"] = ScriptedChatModel(script=down)
    out = tmp_path / "out"
    result = generate(prompts, out)
    text = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "2 of 2 prompts failed: 2 x ConnectionError: server at http://127.0.0.1:9/v1 went away" in text
    assert not (out / "README.md").exists() and json.loads(result.stdout)["failures"]
