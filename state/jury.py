"""State and run context of the jury graph."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, TypedDict

from fellowship.state.judge import JudgeContext, PairInput, Strategy
from fellowship.state.records import JuryVerdict, Vote


@dataclass(frozen=True)
class JuryContext:
    """Run-scoped settings of a jury: its members (model specs, repeats allowed) and how they judge."""

    members: tuple[str, ...] = ("local:smollm2", "local:smollm2", "local:smollm2")
    strategy: Strategy = "combined-10"
    swap: bool = False
    shuffle: bool = False
    shuffle_seed: int = 0
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    timeout: float = 120.0
    base_url: str | None = None

    def __post_init__(self) -> None:  # lists from a JSON context become tuples
        object.__setattr__(self, "members", tuple(self.members))

    def judge_context(self, member: str) -> JudgeContext:
        return JudgeContext(
            model=member, strategy=self.strategy, swap=self.swap, temperature=self.temperature,
            max_tokens=self.max_tokens, seed=self.seed, timeout=self.timeout, base_url=self.base_url,
        )


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
