"""State and run context of the dataset-generation graph (one prompt per run)."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Annotated, Literal, TypedDict

from fellowship.models import ModelOptions
from fellowship.models.settings import REVIEW_MAX_TOKENS
from fellowship.runs.evaluation import EvaluatorConfig
from fellowship.state.records import Candidate, Comparison

Pairing = Literal["all", "knockout"]


@dataclass(frozen=True)
class CandidateConfig:
    """A named source of responses: one model, or a feedback loop (generator, then reviewers)."""

    name: str
    kind: Literal["single", "loop"]
    models: tuple[str, ...]


@dataclass(frozen=True)
class GenerateContext(ModelOptions):
    candidates: tuple[CandidateConfig, ...] = (
        CandidateConfig("single", "single", ("local:smollm2",)),
        CandidateConfig("loop", "loop", ("local:smollm2", "local:smollm2")),
    )
    pairing: Pairing = "all"
    iterations: int = 3
    review_max_tokens: int = REVIEW_MAX_TOKENS
    evaluator: EvaluatorConfig = field(default_factory=EvaluatorConfig)

    def __post_init__(self) -> None:
        # A server run passes the context as JSON: rebuild the nested parts.
        if isinstance(self.evaluator, dict):
            object.__setattr__(self, "evaluator", EvaluatorConfig(**self.evaluator))
        object.__setattr__(self, "candidates", tuple(
            CandidateConfig(c["name"], c["kind"], tuple(c["models"])) if isinstance(c, dict) else c for c in self.candidates
        ))



class GenerateInput(TypedDict):
    id: str
    prompt: str


class GenerateState(GenerateInput, total=False):
    candidates: Annotated[list[Candidate], operator.add]
    comparisons: Annotated[list[Comparison], operator.add]
    champion: str


class GenerateOutput(TypedDict):
    candidates: list[Candidate]
    comparisons: list[Comparison]


class CandidateTask(TypedDict):
    id: str
    prompt: str
    seat: int


class CompareTask(TypedDict):
    id: str
    prompt: str
    a: Candidate
    b: Candidate
