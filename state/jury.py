"""State and run context of the jury graph."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, TypedDict

from fellowship.models import ModelOptions
from fellowship.state.judge import JudgeContext, PairInput, Strategy
from fellowship.state.records import JuryVerdict, Vote


@dataclass(frozen=True)
class JuryContext(ModelOptions):
    """Run-scoped settings of a jury: its members (model specs, repeats allowed) and how they judge."""

    members: tuple[str, ...] = ("local:smollm2", "local:smollm2", "local:smollm2")
    strategy: Strategy = "combined-10"
    swap: bool = False
    shuffle: bool = False
    shuffle_seed: int = 0

    def __post_init__(self) -> None:  # lists from a JSON context become tuples
        object.__setattr__(self, "members", tuple(self.members))

    def judge_context(self, member: str) -> JudgeContext:
        return JudgeContext(model=member, strategy=self.strategy, swap=self.swap, **self.options())


class JuryState(PairInput, total=False):
    votes: Annotated[list[Vote], operator.add]
    verdict: JuryVerdict


class JuryOutput(TypedDict):
    verdict: JuryVerdict


class MemberTask(TypedDict):
    """The payload of one member's `Send`."""

    question: str
    response_a: str
    response_b: str
    seat: int
    member: str
    flipped: bool
