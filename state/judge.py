"""State and run context of the judge graph."""

from __future__ import annotations

import operator
from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict  # not typing's: pydantic needs this one on 3.11 for the JSON schemas Studio shows

from fellowship.models.settings import EvaluatorOptions
from fellowship.state.records import Order, Reading, Verdict

Strategy = Literal["direct", "independent", "combined-5", "combined-10", "combined-100"]
STRATEGIES: tuple[Strategy, ...] = ("direct", "independent", "combined-5", "combined-10", "combined-100")


class JudgeSettings(EvaluatorOptions):
    """How a judge judges, apart from which model: shared by a judge and a jury's members."""

    strategy: Strategy = Field("combined-10", description="direct: A/B/tie · independent: each response scored /10 alone · "
                                                          "combined-N: both scored /N in one call")
    swap: bool = Field(False, description="judge both presentation orders; the same winner twice wins, otherwise tie")
    confidence: bool = Field(False, description="ask for token log-probabilities and record each verdict's probability "
                                                "(`confidence`; in datasets provenance.confidence, filtered by --min-confidence). "
                                                "OpenAI, vLLM and llama.cpp's servers return them (llama-cpp-python's server with "
                                                "--logits_all true); the embedded model computes them at some cost per prompt token. "
                                                "Where a backend returns none, a note says so once and confidence is null")


class JudgeContext(JudgeSettings):
    """Run-scoped settings of a judge (passed as `context=`; never checkpointed)."""

    model: str = Field("local:smollm2", description="the judge's model spec")


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
    quoted: list[str]  # the responses as written: a line of theirs in the reply is a copy, not the answer
