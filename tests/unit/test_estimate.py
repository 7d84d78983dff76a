"""The dry run's plan against the calls `generate` then makes, for every kind of evaluator, with scripted models that
record what they were sent (no repair turns: every reply reads)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.models.tokens import approximate as _approximate
from tests.fakes import ScriptedChatModel

ROLES = {"openai:cand": "candidate", "openai:gen": "generator", "openai:rev1": "reviewer", "openai:rev2": "reviewer"}
ANSWER = ("Verdict: A\n### Score Assistant A: 7/10\n### Score Assistant B: 3/10\n"
          "Score Assistant 1: 7/10\nScore Assistant 2: 3/10\nOverall Score: 6/10")  # every strategy's, a referee's closing scores


@pytest.fixture
def models(fake_models):
    fake_models["openai:cand"] = ScriptedChatModel(script=lambda m: "A plain answer.")
    fake_models["openai:gen"] = ScriptedChatModel(script=lambda m: f"Draft {sum(x.type == 'ai' for x in m) + 1}.")
    for name in ("openai:rev1", "openai:rev2"):
        fake_models[name] = ScriptedChatModel(script=lambda m: "Evaluation: fine.\nOverall Score: 6/10\nFeedback: add detail.")
    for name in ("openai:j1", "openai:j2", "openai:j3"):
        fake_models[name] = ScriptedChatModel(script=lambda m: ANSWER)
    return fake_models


EVALUATORS = {
    "judge, combined, swap": ["--judge-model", "openai:j1", "--swap"],
    "judge, independent": ["--judge-model", "openai:j1", "--strategy", "independent"],
    "jury of two, direct, swap": ["--evaluator", "jury", "--member", "openai:j1", "--member", "openai:j2", "--strategy", "direct",
                                  "--swap"],
    "debate, three referees, two rounds": ["--evaluator", "debate", "--referee-model", "openai:j1", "--referee-model", "openai:j2",
                                           "--referee-model", "openai:j3", "--rounds", "2"],
}


@pytest.mark.parametrize("evaluator", EVALUATORS)
def test_the_plan_is_the_calls_the_run_makes(models, tmp_path, evaluator):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Name a colour.\nTell me a fact about tea.\n")
    args = ["generate", "--prompts", str(prompts), "--out", str(tmp_path / "out"), "--candidate", "single=openai:cand",
            "--loop", "loop=openai:gen,openai:rev1,openai:rev2", "--iterations", "3", "--max-tokens", "40",
            "--review-max-tokens", "30", "--judge-max-tokens", "50", "--json", "--no-preflight", *EVALUATORS[evaluator]]
    dry = CliRunner().invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.output)
    assert not any(m.calls for m in models.values())  # no model was called
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    made = {role: 0 for role in plan["by_role"]}
    sent: dict[str, list[int]] = {role: [] for role in plan["by_role"]}
    for spec, model in models.items():
        role = ROLES.get(spec, "evaluator")
        made[role] += len(model.calls)
        sent[role] += [_approximate(call) for call in model.calls]
    spared = sum(1 for line in (tmp_path / "out" / "journal.jsonl").read_text().splitlines()[1:]
                 for c in json.loads(line)["comparisons"] if c.get("skipped"))
    per_comparison = plan["by_role"]["evaluator"]["calls"] // (2 * 3)  # 2 prompts, each 2 bouts and 1 comparison
    assert made == {role: r["calls"] - (spared * per_comparison if role == "evaluator" else 0) for role, r in plan["by_role"].items()}
    for role, r in plan["by_role"].items():
        low, high = r["input_tokens"]
        assert low <= sum(sent[role]) <= high, (role, low, sum(sent[role]), high)
    # The calls that read no model's text are foreseen to the token (here with the approximate count of fake models).
    assert sum(sent["candidate"]) == plan["by_role"]["candidate"]["input_tokens"][0]
    assert plan["tokenizers"]["openai:cand"].startswith("approximate")
    assert "openai:cand" in plan["unpriced_models"] and plan["total"]["dollars"] is None  # no such model in the price table


PAIR_COMMANDS = {
    "judge, combined, swap": ["judge", "--model", "openai:j1", "--swap"],
    "judge, independent": ["judge", "--model", "openai:j1", "--strategy", "independent"],
    "jury of two, direct": ["jury", "--member", "openai:j1", "--member", "openai:j2", "--strategy", "direct"],
    "debate, three referees, swap": ["debate", "--referee-model", "openai:j1", "--referee-model", "openai:j2",
                                     "--referee-model", "openai:j3", "--rounds", "1", "--swap"],
}


@pytest.mark.parametrize("command", PAIR_COMMANDS)
def test_the_plan_on_given_pairs_is_what_the_evaluator_is_sent(models, tmp_path, command):
    """On pairs the texts are known: every first call's input is foreseen to the token (a judge's or a jury's, which read
    no model's text), and a debate's turns fall inside the range."""
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"question": f"Question {i}?", "response_a": f"Answer A{i} " * i,
                                         "response_b": f"Answer B{i}."}) + "\n" for i in range(1, 4)))
    args = [*PAIR_COMMANDS[command], "--pairs", str(pairs), "--no-preflight", "--max-tokens", "50"]
    dry = CliRunner().invoke(app, [*args, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.output)["by_role"]["evaluator"]
    assert not any(m.calls for m in models.values())
    run = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out.jsonl")])
    assert run.exit_code == 0, run.output
    calls = [call for model in models.values() for call in model.calls]
    assert len(calls) == plan["calls"]
    low, high = plan["input_tokens"]
    sent = sum(_approximate(call) for call in calls)
    if command.startswith("debate"):
        assert low <= sent <= high, (low, sent, high)
    else:
        assert sent == low


def test_the_agreement_dry_run_leaves_out_the_pairs_its_results_hold(models, tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text("".join(json.dumps({"id": f"p{i}", "question": f"Question {i}?", "response_a": "Yes.", "response_b": "No.",
                                         "human": "A"}) + "\n" for i in range(3)))
    args = ["agreement", "--dataset", str(items), "--model", "openai:j1", "--strategy", "direct", "--no-preflight",
            "--results", str(tmp_path / "results.jsonl"), "--json"]
    before = json.loads(CliRunner().invoke(app, [*args, "--dry-run"]).output)
    assert (before["items"], before["already_done"], before["by_role"]["evaluator"]["calls"]) == (3, 0, 3)
    assert CliRunner().invoke(app, [*args, "--limit", "2"]).exit_code == 0
    after = json.loads(CliRunner().invoke(app, [*args, "--dry-run"]).output)
    assert (after["items"], after["already_done"], after["by_role"]["evaluator"]["calls"]) == (1, 2, 1)
    assert len(models["openai:j1"].calls) == 2  # the dry runs called nothing


def test_the_winrate_plan_is_the_calls_it_makes(models, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Name a colour.\nTell me a fact about tea.\n")
    args = ["winrate", "--prompts", str(prompts), "--results", str(tmp_path / "results.jsonl"), "--generator", "openai:gen",
            "--reviewer", "openai:rev1", "--reviewer", "openai:rev2", "--baseline", "openai:cand", "--judge-model", "openai:j1",
            "--iterations", "3", "--no-preflight", "--json"]
    plan = json.loads(CliRunner().invoke(app, [*args, "--dry-run"]).output)
    assert not any(m.calls for m in models.values())
    assert CliRunner().invoke(app, args).exit_code == 0
    made = {role: 0 for role in plan["by_role"]}
    for spec, model in models.items():
        made[ROLES.get(spec, "evaluator")] += len(model.calls)
    # per prompt: 3 drafts, 2 reviews by each of 2 reviewers, 2 knockout bouts and the comparison, the baseline's answer
    assert made == {role: r["calls"] for role, r in plan["by_role"].items()} == {
        "generator": 6, "reviewer": 8, "evaluator": 6, "candidate": 2}
