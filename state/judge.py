"""State and run context of the judge graph."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Literal, TypedDict

from fellowship.models import ModelOptions
from fellowship.state.records import Order, Reading, Verdict

Strategy = Literal["direct", "independent", "combined-5", "combined-10", "combined-100"]
STRATEGIES: tuple[Strategy, ...] = ("direct", "independent", "combined-5", "combined-10", "combined-100")


@dataclass(frozen=True)
class JudgeContext(ModelOptions):
    """Run-scoped settings of a judge (passed as `context=`; never checkpointed)."""

    model: str = "local:smollm2"
    strategy: Strategy = "combined-10"
    swap: bool = False



class PairInput(TypedDict):
    question: str
    response_a: str
    response_b: str


class JudgeState(PairInput, total=False):
    readings: Annotated[list[Reading], operator.add]
    verdict: Verdict


class JudgeOutput(TypedDict):
    verdict: Verdict


class CallTask(TypedDict):
    """What one fanned-out judge call needs (the payload of a `Send`)."""

    question: str
    order: Order
    part: Literal["pair", "A", "B"]
    first: str
    second: str
