"""State and run context of the generator-reviewer feedback loop."""

from __future__ import annotations

import operator
from typing import Annotated

from langchain_core.messages import AnyMessage
from pydantic import Field
from typing_extensions import TypedDict

from fellowship.models import ModelOptions
from fellowship.models.settings import REVIEW_MAX_TOKENS
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.records import Bout, LoopResult, Review, Usage


def merge_conversations(old: dict[str, list[AnyMessage]], new: dict[str, list[AnyMessage]]) -> dict[str, list[AnyMessage]]:
    """Reducer: each reviewer replaces its own conversation; the others stay."""
    return {**old, **new}


class LoopSettings(ModelOptions):
    """How a feedback loop runs, apart from its models: shared by the loop and `generate`'s loop sources."""

    iterations: int = Field(3, ge=1, description="responses a loop's generator writes (the paper's 3)")
    review_max_tokens: int = Field(REVIEW_MAX_TOKENS, gt=0, description="most tokens a reviewer may write per review, apart from "
                                                                        "the responses' max_tokens")


class LoopContext(LoopSettings):
    """Run-scoped settings of the loop: the models, the iterations and the evaluator of the knockout."""

    generator: str = Field("local:smollm2", description="the generator's model spec")
    reviewers: tuple[str, ...] = Field(("local:smollm2",), description="one model spec per reviewer")
    stop_at: float | None = Field(None, ge=0, le=10, description="stop early once every reviewer scores the latest response at or "
                                                                 "above this (off by default)")
    evaluator: EvaluatorConfig = Field(default_factory=EvaluatorConfig, description="who picks the best response")

    def specs(self) -> tuple[str, ...]:
        """The model specs of the generator and the reviewers."""
        return (self.generator, *self.reviewers)


class LoopInput(TypedDict):
    prompt: str


class LoopState(LoopInput, total=False):
    generator_conversation: list[AnyMessage]
    reviewer_conversations: Annotated[dict[str, list[AnyMessage]], merge_conversations]
    responses: Annotated[list[str], operator.add]
    reviews: Annotated[list[Review], operator.add]
    usage: Annotated[Usage, operator.add]
    stopped_early: bool
    bouts: Annotated[list[Bout], operator.add]
    best: int
    result: LoopResult


class LoopOutput(TypedDict):
    result: LoopResult


class ReviewTask(TypedDict):
    """The payload of one reviewer's `Send`."""

    prompt: str
    seat: int
    iteration: int
    response: str
    conversation: list[AnyMessage]

