"""The feedback loop and a live win rate on the real embedded model (structure, not quality)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.fileio.prompts import PromptItem
from fellowship.runs.winrate import refine
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.loop import LoopContext

pytestmark = pytest.mark.integration


async def test_two_iterations_one_reviewer():
    ctx = LoopContext(iterations=2, max_tokens=80, evaluator=EvaluatorConfig(max_tokens=80))
    result = await refine(PromptItem(id="1", prompt="Give one tip for sleeping better."), ctx)
    assert len(result.responses) == 2 and all(r.strip() for r in result.responses)
    assert len(result.reviews) == 1 and result.reviews[0].iteration == 1
    review = result.reviews[0]
    assert (review.score is not None and 0 <= review.score <= 10) or review.error
    assert len(result.bouts) == 1 and result.bouts[0].verdict in {"A", "B", "tie", "invalid"}
    assert result.best in (1, 2) and result.best_response == result.responses[result.best - 1]


def test_live_winrate_on_three_prompts(tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Name a fruit.\nWhat is 2 + 2?\nSay hello in French.\n")
    result = CliRunner().invoke(app, ["winrate", "--prompts", str(prompts), "--iterations", "2", "--max-tokens", "60",
                                      "--results", str(tmp_path / "r.jsonl"), "--max-concurrency", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 3 and report["wins"] + report["losses"] + report["ties"] + report["invalid"] == 3
    assert 0 <= report["win_rate"] <= 1 and len(report["win_rate_ci"]) == 2
