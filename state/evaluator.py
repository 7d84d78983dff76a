"""Which evaluator decides between two responses, for the workflows that need one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import Field

from fellowship.fileio.pairs import Pair
from fellowship.models.settings import derive_seed
from fellowship.state.debate import DebateContext
from fellowship.state.judge import JudgeContext, JudgeSettings
from fellowship.state.jury import JuryContext
from fellowship.state.records import Evaluation

EvaluatorKind = Literal["judge", "jury", "debate"]


class EvaluatorConfig(JudgeSettings):
    """The evaluator of the loop's knockout, of `generate`'s comparisons and of win rates.

    Its model options are its own: a full judgement needs more tokens than a candidate may
    write, and evaluators judge greedily (temperature 0, as in the paper) by default.
    """

    kind: EvaluatorKind = Field("judge", description="judge (one model), jury (plurality of members) or debate (referees)")
    model: str = Field("local:smollm2", description="the judge's model spec, or every referee's")
    members: tuple[str, ...] = Field((), description="jury: one model spec per member")
    referee_models: tuple[str, ...] = Field((), description="debate: one model spec per referee")
    fixed_order: bool = Field(False, description="show the first response of every comparison first; by default which is "
                                                 "shown first is drawn per comparison from the seed (reproducible)")
    rounds: int = Field(2, ge=0, description="debate: discussion rounds")

    def specs(self) -> tuple[str, ...]:
        """The model specs this evaluator calls."""
        if self.kind == "jury":
            return self.members
        return self.referee_models or (self.model,) if self.kind == "debate" else (self.model,)

    def describe(self) -> str:
        swap = ", swap" if self.swap else ""
        if self.kind == "jury":
            return f"jury of {', '.join(self.members)} ({self.strategy}{swap})"
        if self.kind == "debate":
            return f"debate on {', '.join(self.referee_models or (self.model,))} ({self.rounds} rounds{swap})"
        return f"judge {self.model} ({self.strategy}{swap})"

    def judge_context(self) -> JudgeContext:
        return JudgeContext(model=self.model, strategy=self.strategy, swap=self.swap, confidence=self.confidence, **self.options())

    def jury_context(self) -> JuryContext:
        return JuryContext(members=self.members, strategy=self.strategy, swap=self.swap, confidence=self.confidence,
                           **self.options())

    def debate_context(self) -> DebateContext:
        return DebateContext(model=self.model, referee_models=self.referee_models, rounds=self.rounds, **self.options())


def shown_flipped(pair: Pair, config: EvaluatorConfig) -> bool:
    """Whether a workflow shows response B first in this comparison: drawn from the seed and the pair's texts
    (reproducible, and independent between comparisons), never under `fixed_order`."""
    if config.fixed_order:
        return False
    draw = derive_seed(0 if config.seed is None else config.seed, "order", pair.question, pair.response_a, pair.response_b)
    return bool((draw or 0) % 2)


def as_shown(pair: Pair, flipped: bool) -> Pair:
    """The pair in the order the evaluator is shown it."""
    return pair.model_copy(update={"response_a": pair.response_b, "response_b": pair.response_a}) if flipped else pair


Evaluate = Callable[[Pair, EvaluatorConfig], Awaitable[Evaluation]]
"""Runs the configured evaluator on one pair (the graphs bind one into the nodes that need it)."""
