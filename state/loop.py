"""State and run context of the generator-reviewer feedback loop."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage

from fellowship.models import ModelOptions
from fellowship.models.settings import REVIEW_MAX_TOKENS
from fellowship.runs.evaluation import EvaluatorConfig
from fellowship.state.records import Bout, LoopResult, Review


def merge_conversations(old: dict[str, list[AnyMessage]], new: dict[str, list[AnyMessage]]) -> dict[str, list[AnyMessage]]:
    """Reducer: each reviewer replaces its own conversation; the others stay."""
    return {**old, **new}


def add_usage(old: list[int], new: list[int]) -> list[int]:
    """Reducer: element-wise sum of [input_tokens, output_tokens]."""
    return [x + y for x, y in zip(old or [0, 0], new)]


@dataclass(frozen=True)
class LoopContext(ModelOptions):
    """Run-scoped settings of the loop: the models, the iterations and the evaluator of the knockout."""

    generator: str = "local:smollm2"
    reviewers: tuple[str, ...] = ("local:smollm2",)
    iterations: int = 3
    stop_at: float | None = None
    review_max_tokens: int = REVIEW_MAX_TOKENS
    evaluator: EvaluatorConfig = field(default_factory=EvaluatorConfig)

    def __post_init__(self) -> None:
        # A server run passes the context as JSON: rebuild the nested parts.
        if isinstance(self.evaluator, dict):
            object.__setattr__(self, "evaluator", EvaluatorConfig(**self.evaluator))
        object.__setattr__(self, "reviewers", tuple(self.reviewers))



class LoopInput(TypedDict):
    prompt: str


class LoopState(LoopInput, total=False):
    generator_conversation: list[AnyMessage]
    reviewer_conversations: Annotated[dict[str, list[AnyMessage]], merge_conversations]
    responses: Annotated[list[str], operator.add]
    reviews: Annotated[list[Review], operator.add]
    usage: Annotated[list[int], add_usage]
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
