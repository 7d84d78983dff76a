"""State and run context of the judge graph."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Literal, TypedDict

from fellowship.models import ModelSettings
from fellowship.state.records import Order, Reading, Verdict

Strategy = Literal["direct", "independent", "combined-5", "combined-10", "combined-100"]
STRATEGIES: tuple[Strategy, ...] = ("direct", "independent", "combined-5", "combined-10", "combined-100")


@dataclass(frozen=True)
class JudgeContext:
    """Run-scoped settings of a judge (passed as `context=`; never checkpointed)."""

    model: str = "local:smollm2"
    strategy: Strategy = "combined-10"
    swap: bool = False
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    timeout: float = 120.0
    base_url: str | None = None

    def settings(self) -> ModelSettings:
        return ModelSettings(
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=self.seed,
            timeout=self.timeout,
            base_url=self.base_url,
        )


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
