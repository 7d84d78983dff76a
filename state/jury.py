"""State and run context of the jury graph."""

from __future__ import annotations

import operator
from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from fellowship.state.judge import JudgeContext, JudgeSettings, PairInput
from fellowship.state.records import JuryVerdict, Vote


class JuryContext(JudgeSettings):
    """Run-scoped settings of a jury: its members (model specs, repeats allowed) and how they judge."""

    members: tuple[str, ...] = Field(("local:smollm2", "local:smollm2", "local:smollm2"),
                                     description="one model spec per member (repeats allowed)")
    shuffle: bool = Field(False, description="show a seeded half of the members B first")
    shuffle_seed: int = Field(0, description="seed of the shuffle")

    def judge_context(self, member: str) -> JudgeContext:
        """The context one member judges with."""
        return JudgeContext(model=member, **self.model_dump(include=set(JudgeSettings.model_fields)))


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
