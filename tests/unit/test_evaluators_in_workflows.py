"""The debate's --swap path, and the jury and the debate as the evaluator inside refine and generate."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.state.records import DebateVerdict, JuryVerdict, LoopResult
from tests.fakes import ScriptedChatModel, block

runner = CliRunner()


between = block


def referee(prefer) -> ScriptedChatModel:
    """Debate referees: a plain turn, then final scores that favour `prefer(first, second)` ('1' or '2')."""
    def script(messages):
        case = messages[1].text
        if "The discussion is over" not in case:
            return "I have heard both."
        winner = prefer(between(case, "assistant_1"), between(case, "assistant_2"))
        high, low = (8, 3) if winner == "1" else (3, 8)
        return f"Score Assistant 1: {high}/10\nScore Assistant 2: {low}/10"
    return ScriptedChatModel(script=script)


def juror(prefer) -> ScriptedChatModel:
    """A judge scoring /10 that favours `prefer(a, b)` ('A' or 'B') of the texts it is shown."""
    def script(messages):
        text = messages[1].text
        winner = prefer(between(text, "assistant_a"), between(text, "assistant_b"))
        a, b = (9, 2) if winner == "A" else (2, 9)
        return f"### Score Assistant A: {a}/10\n### Score Assistant B: {b}/10"
    return ScriptedChatModel(script=script)


DEBATE = ["debate", "-q", "Which is larger?", "--a", "twelve", "--b", "two", "--rounds", "1", "--model", "openai:ref", "--json"]


def test_debate_swap_maps_the_reversed_debate_back_to_a_and_b(fake_models):
    model = fake_models["openai:ref"] = referee(lambda first, second: "1" if first == "twelve" else "2")
    result = runner.invoke(app, [*DEBATE, "--swap"])
    assert result.exit_code == 0, result.output
    verdict = DebateVerdict.model_validate_json(result.stdout)
    # both debates: three turns and three finals each
    assert len(model.calls) == 12 and verdict.reversed_debate is not None
    shown_first = {between(call[1].text, "assistant_1") for call in model.calls}
    assert shown_first == {"twelve", "two"}
    # the reversed debate preferred Assistant 2 (= A); mapped back, A wins both orders
    assert verdict.reversed_debate.verdict == "B"
    assert [(o.order, o.verdict, o.score_a, o.score_b) for o in verdict.orders] == [("AB", "A", 8, 3), ("BA", "A", 8, 3)]
    assert (verdict.verdict, verdict.consistent, verdict.score_a, verdict.score_b) == ("A", True, 8, 3)


def test_debate_swap_catches_position_bias(fake_models):
    fake_models["openai:ref"] = referee(lambda first, second: "1")  # whoever is shown first
    verdict = DebateVerdict.model_validate_json(runner.invoke(app, [*DEBATE, "--swap"]).stdout)
    assert [o.verdict for o in verdict.orders] == ["A", "B"]
    assert (verdict.verdict, verdict.consistent) == ("tie", False)
    assert verdict.score_a == verdict.score_b == 5.5  # the mean over both orders


def test_jury_picks_the_loops_best_response_in_refine(fake_models):
    drafts = iter(["short", "a much longer draft"])
    fake_models["openai:gen"] = ScriptedChatModel(script=lambda m: next(drafts))
    fake_models["openai:rev"] = ScriptedChatModel(script=lambda m: "Evaluation: thin.\nOverall Score: 4/10\nFeedback: say more.")
    longer = juror(lambda a, b: "A" if len(a) > len(b) else "B")
    fake_models["openai:j1"] = fake_models["openai:j2"] = longer
    fake_models["openai:j3"] = juror(lambda a, b: "A")  # position-biased, outvoted
    result = runner.invoke(app, ["refine", "-p", "Describe rain.", "--iterations", "2", "--generator", "openai:gen",
                                 "--reviewer", "openai:rev", "--evaluator", "jury", "--member", "openai:j1",
                                 "--member", "openai:j2", "--member", "openai:j3", "--json"])
    assert result.exit_code == 0, result.output
    loop = LoopResult.model_validate_json(result.stdout)
    (bout,) = loop.bouts
    assert isinstance(bout.evaluation, JuryVerdict)
    assert [v.verdict for v in bout.evaluation.votes] == ["B", "B", "A"] and bout.evaluation.counts == {"B": 2, "A": 1}
    assert (bout.verdict, bout.winner, loop.best_response) == ("B", 2, "a much longer draft")
    assert loop.evaluator == "jury of openai:j1, openai:j2, openai:j3 (combined-10)"
    assert loop.input_tokens == 10 * (2 + 1) + bout.evaluation.input_tokens  # generator twice, reviewer once, the panel


def test_debate_compares_the_sources_in_generate(fake_models, tmp_path):
    fake_models["openai:short"] = ScriptedChatModel(script=lambda m: "tiny")
    fake_models["openai:long"] = ScriptedChatModel(script=lambda m: "a long and careful answer")
    fake_models["openai:ref"] = referee(lambda first, second: "1" if len(first) > len(second) else "2")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Explain tides.\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--prompts", str(prompts), "--out", str(out), "--candidate", "short=openai:short",
                                 "--candidate", "long=openai:long", "--evaluator", "debate", "--judge-model", "openai:ref",
                                 "--rounds", "0", "--fixed-order", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in (out / "single_dpo.jsonl").read_text().splitlines()]
    assert (row["chosen"], row["rejected"]) == ("a long and careful answer", "tiny")
    comparison = row["provenance"]["comparison"]
    assert comparison["a"] == "short" and comparison["verdict"] == "B" and comparison["margin"] == 5
    assert comparison["evaluation"]["finals"] == [{"referee": r, "score_a": 3.0, "score_b": 8.0}
                                                  for r in ("General Public", "Psychologist", "Critic")]
    assert comparison["evaluation"]["votes"] is None and row["provenance"]["evaluator"] == "debate on openai:ref (0 rounds)"
