"""State and run context of the debate graph."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, TypedDict

from fellowship.models import ModelOptions
from fellowship.prompts.debate import PERSONAS
from fellowship.state.judge import PairInput
from fellowship.state.records import DebateVerdict, Final, Turn


@dataclass(frozen=True)
class DebateContext(ModelOptions):
    """Run-scoped settings of a debate.

    `referee_models` gives one model spec per referee; empty means every referee uses `model`.
    """

    model: str = "local:smollm2"
    referee_models: tuple[str, ...] = ()
    referees: tuple[str, ...] = tuple(PERSONAS)
    rounds: int = 2

    def __post_init__(self) -> None:  # lists from a JSON context become tuples
        object.__setattr__(self, "referee_models", tuple(self.referee_models))
        object.__setattr__(self, "referees", tuple(self.referees))


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
