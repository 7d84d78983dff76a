"""Stepping through graphs with commands on stdin, a thread's history, and forks (time travel)."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from fellowship.cli import app
from tests.fakes import ScriptedChatModel, block

runner = CliRunner()
FINALS = "Score Assistant 1: 7/10\nScore Assistant 2: 3/10"
DEBATE = ["step", "debate", "-q", "2+2?", "--a", "4", "--b", "5", "--rounds", "1", "--model", "openai:ref"]


def referee(fake_models) -> ScriptedChatModel:
    model = ScriptedChatModel(script=lambda m: FINALS if "discussion is over" in m[-1].text else "A is right.")
    fake_models["openai:ref"] = model
    return model


def thread_of(output: str) -> str:
    return re.search(r"thread ([0-9a-f-]{36})", output).group(1)


def test_step_stops_before_each_node_and_shows_changes(fake_models):
    model = referee(fake_models)
    result = runner.invoke(app, DEBATE, input="c\nc\ns round\nq\n")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "step 0: next open_debate" in text and "step 1: next referee_turn" in text and "step 2: next referee_turn" in text
    assert 'changed round: 1' in text and "changed turns: [{\"referee\": \"General Public\"" in text
    assert "\n1\n" in text  # `s round` printed the field
    assert "resume with: fellowship step debate --thread" in text
    assert len(model.calls) == 1  # only the first referee spoke before quitting


def test_quit_then_resume_with_thread_and_run_to_end(fake_models):
    model = referee(fake_models)
    first = runner.invoke(app, DEBATE, input="c\nq\n")
    thread = thread_of(first.output)
    second = runner.invoke(app, ["step", "debate", "--thread", thread], input="r\n")
    assert second.exit_code == 0, second.output
    assert "finished at step" in second.stdout and '"verdict": "A"' in second.stdout
    assert len(model.calls) == 6


def test_end_of_input_quits_and_break_limits_the_stops(fake_models):
    referee(fake_models)
    result = runner.invoke(app, [*DEBATE, "--break", "closing_score"], input="")
    assert result.exit_code == 0, result.output
    assert "next closing_score" in result.stdout and "next referee_turn" not in result.stdout
    assert "resume with" in result.stdout


def test_edit_a_field_before_going_on(fake_models):
    model = referee(fake_models)
    result = runner.invoke(app, [*DEBATE, "--break", "referee_turn"], input='e response_b="6"\nr\n')
    assert result.exit_code == 0, result.output
    assert "set response_b" in result.stdout
    assert all(block(call[1].text, "assistant_2") == "6" for call in model.calls) and len(model.calls) == 6


def test_editing_the_round_counter_reroutes(fake_models):
    model = referee(fake_models)
    result = runner.invoke(app, [*DEBATE, "--break", "referee_turn"], input="e round=2\nr\n")
    assert result.exit_code == 0, result.output
    assert len(model.calls) == 3  # round 2 is past the 1 round: straight to the closing scores
    assert all("The discussion is over" in call[1].text for call in model.calls)


def test_bad_break_and_bad_edit(fake_models):
    referee(fake_models)
    result = runner.invoke(app, [*DEBATE, "--break", "nope"], input="")
    assert result.exit_code == 2 and "no node nope" in result.stderr
    result = runner.invoke(app, DEBATE, input="e nosuch=1\nq\n")
    assert "cannot edit: unknown field 'nosuch'" in result.stdout


def test_history_and_fork_with_a_changed_field(fake_models):
    model = referee(fake_models)
    thread = thread_of(runner.invoke(app, DEBATE, input="r\n").output)
    history = json.loads(runner.invoke(app, ["history", "--thread", thread, "--json"]).stdout)
    assert history["graph"] == "debate"
    ran = [row["ran"] for row in history["checkpoints"]]
    assert ["open_debate"] in ran and ["conclude"] in ran
    before_first_turn = next(r for r in history["checkpoints"] if r["next"] == ["referee_turn"])
    calls = len(model.calls)
    forked = runner.invoke(app, ["fork", "--thread", thread, "--checkpoint", before_first_turn["checkpoint_id"],
                                 "--set", 'response_b="4"', "--json"])
    assert forked.exit_code == 0, forked.output
    values = json.loads(forked.stdout)["values"]
    assert values["response_b"] == "4" and values["verdict"]["verdict"] == "A"
    assert len(model.calls) == calls + 6  # the debate ran again from that checkpoint
    assert block(model.calls[-1][1].text, "assistant_2") == "4"


def test_unknown_thread(fake_models):
    assert runner.invoke(app, ["history", "--thread", "nope"]).exit_code == 2
    assert runner.invoke(app, ["fork", "--thread", "nope", "--checkpoint", "x"]).exit_code == 2


def test_a_failed_single_run_resumes_with_thread(fake_models):
    def flaky(messages):
        if "discussion is over" in messages[-1].text:
            if not flaky.healed:
                raise ConnectionError("server went away")
            return FINALS
        return "A is right."

    flaky.healed = False
    model = fake_models["openai:flaky"] = ScriptedChatModel(script=flaky)
    args = ["debate", "-q", "2+2?", "--a", "4", "--b", "5", "--rounds", "1", "--model", "openai:flaky"]
    failed = runner.invoke(app, args)
    assert failed.exit_code == 1 and "server went away" in failed.stderr
    thread = thread_of(failed.stderr)
    turns = sum("discussion is over" not in c[-1].text for c in model.calls)
    assert turns == 3
    flaky.healed = True
    resumed = runner.invoke(app, ["debate", "--thread", thread, "--json"])
    assert resumed.exit_code == 0, resumed.output
    verdict = json.loads(resumed.stdout)
    assert verdict["verdict"] == "A" and [t["text"] for t in verdict["turns"]] == ["A is right."] * 3
    assert sum("discussion is over" not in c[-1].text for c in model.calls) == 3  # the turns were not redone
    assert runner.invoke(app, ["judge", "--thread", thread]).exit_code == 2  # a debate thread, not a judge one


def test_each_pair_of_a_file_has_its_own_resumable_thread(fake_models, tmp_path):
    def flaky(messages):
        if block(messages[-1].text, "assistant_b") == "6" and not flaky.healed:
            raise ConnectionError("timeout")
        return "### Score Assistant A: 8/10\n### Score Assistant B: 2/10"

    flaky.healed = False
    fake_models["openai:flaky"] = ScriptedChatModel(script=flaky)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"id": "p1", "question": "2+2?", "response_a": "4", "response_b": "5"}\n'
                     '{"id": "p2", "question": "3+3?", "response_a": "7", "response_b": "6"}\n')
    result = runner.invoke(app, ["judge", "--pairs", str(pairs), "--model", "openai:flaky"])
    assert result.exit_code == 1
    batch = re.search(r"threads ([0-9a-f-]{36})-<id>", result.stderr).group(1)
    flaky.healed = True
    resumed = runner.invoke(app, ["judge", "--thread", f"{batch}-p2", "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["verdict"] == "A"
    history = json.loads(runner.invoke(app, ["history", "--thread", f"{batch}-p1", "--json"]).stdout)
    assert history["graph"] == "judge" and history["checkpoints"][-1]["next"] == []


def test_refine_resumes_with_thread(fake_models):
    counter = iter(range(1, 100))
    fake_models["openai:gen"] = ScriptedChatModel(script=lambda m: f"draft {next(counter)}")
    fake_models["openai:rev"] = ScriptedChatModel(script=lambda m: "Evaluation: ok\nOverall Score: 6/10\nFeedback: more")
    fake_models["openai:judge"] = ScriptedChatModel(script=lambda m: "### Score Assistant A: 3/10\n### Score Assistant B: 8/10")
    first = runner.invoke(app, ["refine", "-p", "Hi", "--generator", "openai:gen", "--reviewer", "openai:rev",
                                "--judge-model", "openai:judge", "--iterations", "2", "--json"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["refine", "--thread", thread_of(first.stderr), "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["responses"] == json.loads(first.stdout)["responses"]


async def test_each_graph_compiles_once_per_checkpointer():
    from fellowship.graphs import judge
    from fellowship.graphs.running import compiled
    from fellowship.runs.threads import checkpoint_thread

    assert compiled(judge.build_judge, judge.graph) is judge.graph  # no checkpointer: the module's graph
    async with checkpoint_thread():
        first = compiled(judge.build_judge, judge.graph)
        assert first is not judge.graph and first.checkpointer is not None
        assert compiled(judge.build_judge, judge.graph) is first  # every later item reuses it
    async with checkpoint_thread():
        assert compiled(judge.build_judge, judge.graph) is not first  # another checkpointer, another compile
