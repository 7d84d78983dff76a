"""State and run context of the debate graph."""

from __future__ import annotations

import operator
from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from fellowship.models.settings import EvaluatorOptions
from fellowship.prompts.debate import PERSONAS
from fellowship.state.judge import PairInput
from fellowship.state.records import DebateVerdict, Final, Turn


class DebateContext(EvaluatorOptions):
    """Run-scoped settings of a debate."""

    model: str = Field("local:smollm2", description="every referee's model spec, unless referee_models are given")
    referee_models: tuple[str, ...] = Field((), description="one model spec per referee; empty: `model` for all")
    referees: tuple[str, ...] = Field(tuple(PERSONAS), description="the referees' personas, in speaking order")
    rounds: int = Field(2, ge=0, description="discussion rounds before the closing scores")

    def model_of(self, seat: int) -> str:
        return self.referee_models[seat] if self.referee_models else self.model


class DebateState(PairInput, total=False):
    round: int
    speaker: int
    turns: Annotated[list[Turn], operator.add]
    finals: Annotated[list[Final], operator.add]
    verdict: DebateVerdict


class DebateOutput(TypedDict):
    verdict: DebateVerdict


class FinalTask(TypedDict):
    """The payload of one referee's closing `Send`."""

    question: str
    response_a: str
    response_b: str
    turns: list[Turn]
    seat: int
