"""One default per option: a command, `fellowship step` and the graphs `langgraph dev` serves run an evaluator alike.

The commands' options are derived from the graphs' context models (`commands.options.From`), so
this fails when a flag keeps a default of its own again, as `judge --max-tokens` once did (1024
against the graphs' 512).
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.graphs import evaluate as evaluate_graphs
from fellowship.graphs.registry import WORKFLOWS
from fellowship.models.settings import JUDGE_MAX_TOKENS
from fellowship.runs import stepping
from fellowship.state.debate import DebateContext
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.judge import JudgeContext
from fellowship.state.jury import JuryContext
from fellowship.state.loop import LoopContext

runner = CliRunner()
PAIR = ["-q", "2+2?", "--a", "4", "--b", "5"]


@pytest.mark.parametrize("graph, context", [("judge", JudgeContext), ("jury", JuryContext), ("debate", DebateContext)])
def test_the_command_step_and_the_served_graph_take_the_same_defaults(monkeypatch, graph, context):
    seen = {}

    async def evaluator_call(pair, ctx, *args):  # what the command would run the graph with; no model is called
        seen["command"] = ctx
        raise RuntimeError("captured")

    async def step_session(name, ctx, *args):
        seen["step"] = ctx

    monkeypatch.setattr(evaluate_graphs, f"{graph}_pair", evaluator_call)
    monkeypatch.setattr(stepping, "step_session", step_session)
    assert runner.invoke(app, [graph, *PAIR, "--no-preflight"]).exit_code == 1  # the captured call "failed"
    assert runner.invoke(app, ["step", graph, *PAIR], input="").exit_code == 0
    served = WORKFLOWS[graph].graph.context_schema.model_validate({})  # what `langgraph dev` builds from an empty context
    assert seen["command"] == seen["step"] == served == context()
    assert served.max_tokens == JUDGE_MAX_TOKENS and served.temperature == 0.0


def test_a_flag_overrides_its_field_and_nothing_else(monkeypatch):
    seen = {}

    async def judge_pair(pair, ctx, *args):
        seen["ctx"] = ctx
        raise RuntimeError("captured")

    monkeypatch.setattr(evaluate_graphs, "judge_pair", judge_pair)
    runner.invoke(app, ["judge", *PAIR, "--no-preflight", "--max-tokens", "77", "--no-guard", "--strategy", "direct"])
    assert seen["ctx"] == JudgeContext(max_tokens=77, guard=False, strategy="direct")


def test_the_workflows_evaluator_judges_as_the_judge_command_does():
    assert EvaluatorConfig().judge_context() == JudgeContext()
    assert LoopContext().evaluator == EvaluatorConfig()


@pytest.mark.parametrize("args, message", [
    (["judge", *PAIR, "--max-tokens", "0"], "--max-tokens"),
    (["judge", *PAIR, "--temperature", "2.5"], "--temperature"),
    (["refine", "-p", "Hi.", "--stop-at", "11"], "--stop-at"),
])
def test_a_field_s_bounds_are_the_flag_s_bounds(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in result.stderr
