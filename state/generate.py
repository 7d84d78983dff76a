"""State and run context of the dataset-generation graph (one prompt per run)."""

from __future__ import annotations

import operator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.loop import LoopSettings
from fellowship.state.records import Candidate, Comparison

Pairing = Literal["all", "knockout"]


class CandidateConfig(BaseModel):
    """A named source of responses: one model, or a feedback loop (generator, then reviewers)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: Literal["single", "loop"]
    models: tuple[str, ...] = Field(description="the single model, or the loop's generator then its reviewers")


class GenerateContext(LoopSettings):
    """Run-scoped settings of `generate`: the sources, how they are paired, and the evaluator."""

    candidates: tuple[CandidateConfig, ...] = Field(
        (CandidateConfig(name="single", kind="single", models=("local:smollm2",)),
         CandidateConfig(name="loop", kind="loop", models=("local:smollm2", "local:smollm2"))),
        description="the sources that answer each prompt",
    )
    pairing: Pairing = Field("all", description="with more than two sources: compare every pair (all), or a knockout in the "
                                                "given order (each winner meets the next; a tie or invalid verdict carries the "
                                                "later one)")
    evaluator: EvaluatorConfig = Field(default_factory=EvaluatorConfig, description="who compares the sources' answers")


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
