"""The feedback loop and a live win rate on the real embedded model: scores read from its replies, rules applied."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.fileio.prompts import PromptItem
from fellowship.parsing.scores import parse_overall_score, parse_pair_scores
from fellowship.prompts.loop import standalone_review
from fellowship.runs.winrate import refine
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.loop import LoopContext
from fellowship.state.verdicts import flip, label_of

pytestmark = pytest.mark.integration


async def test_two_iterations_one_reviewer():
    ctx = LoopContext(iterations=2, max_tokens=80, evaluator=EvaluatorConfig(max_tokens=80))
    result = await refine(PromptItem(id="1", prompt="Give one tip for sleeping better."), ctx)
    assert len(result.responses) == 2 and all(r.strip() for r in result.responses)
    assert len(result.reviews) == 1 and result.reviews[0].iteration == 1
    review = result.reviews[0]
    if review.error is None:  # the score is the one our parser reads from the reviewer's last reply
        assert review.score == parse_overall_score(review.raw[-1])
        assert review.request == standalone_review(result.prompt, result.responses[0])
    (bout,) = result.bouts
    assert (bout.a, bout.b) == (1, 2) and bout.verdict == bout.evaluation.verdict
    if bout.verdict != "invalid":
        assert bout.verdict == label_of(bout.score_a, bout.score_b)
        assert (bout.score_a, bout.score_b) == parse_pair_scores(bout.evaluation.raw[-1], 10, last=True)
    assert bout.winner == (1 if bout.verdict == "A" else 2)  # a tie or an invalid verdict carries the later one
    assert result.best == bout.winner and result.best_response == result.responses[result.best - 1]


def test_live_winrate_on_three_prompts(tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Name a fruit.\nWhat is 2 + 2?\nSay hello in French.\n")
    result = CliRunner().invoke(app, ["winrate", "--prompts", str(prompts), "--iterations", "1", "--max-tokens", "60",
                                      "--results", str(tmp_path / "r.jsonl"), "--max-concurrency", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()[1:]]
    verdicts = [row["verdict"] for row in rows]
    assert len(rows) == 3
    for row in rows:  # the evaluator saw the loop's answer second when flipped: its verdict and scores are turned back
        shown = row["evaluation"]
        expected = (flip(shown["verdict"]), shown["score_b"], shown["score_a"]) if row["flipped"] else (
            shown["verdict"], shown["score_a"], shown["score_b"])
        assert (row["verdict"], row["score_a"], row["score_b"]) == expected
    assert (report["n"], report["wins"], report["losses"], report["ties"], report["invalid"]) == (
        3, verdicts.count("A"), verdicts.count("B"), verdicts.count("tie"), verdicts.count("invalid"))
    assert report["win_rate"] == verdicts.count("A") / 3
