"""Pydantic records shared by nodes, graphs, the CLI and the output files."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Label = Literal["A", "B", "tie", "invalid"]
Order = Literal["AB", "BA"]


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class Answer(BaseModel):
    """One model conversation that should end in a parseable answer.

    `texts` holds every reply: the first, and the repair turn's when there was one.
    `value` is None exactly when `error` says why nothing could be read.
    """

    value: tuple[float, float] | float | str | None = None
    texts: list[str] = Field(default_factory=list)
    error: str | None = None
    repaired: bool = False
    constrained: bool = Field(False, description="the last reply was decoded under the answer format (grammar, regex or JSON schema)")
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


class Reading(BaseModel):
    """One model call's contribution to a verdict.

    `part` is "pair" for a call that saw both responses (shown in `order`), or "A" / "B"
    for an independent score of one response.
    """

    order: Order = "AB"
    part: Literal["pair", "A", "B"] = "pair"
    answer: Answer


class OrderVerdict(BaseModel):
    """The verdict of one presentation order, already mapped back to responses A and B."""

    order: Order
    verdict: Label
    score_a: float | None = None
    score_b: float | None = None


class Verdict(BaseModel):
    """A judge's decision on one pair of responses."""

    verdict: Label
    score_a: float | None = None
    score_b: float | None = None
    explanation: str = ""
    raw: list[str] = Field(default_factory=list, description="every model reply, repair turns included")
    error: str | None = Field(None, description="why the verdict is invalid")
    repairs: int = Field(0, description="conversations that needed the repair turn")
    model: str
    strategy: str
    swap: bool = False
    consistent: bool | None = Field(None, description="with --swap: did both orders agree")
    orders: list[OrderVerdict] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0


class Vote(BaseModel):
    """One jury member's verdict, mapped back to the pair's own A and B."""

    member: str
    seat: int = Field(description="position of the member on the panel (0-based)")
    verdict: Label
    score_a: float | None = None
    score_b: float | None = None
    flipped: bool = Field(False, description="the member saw B first (per-member order shuffle)")
    judgement: Verdict


class JuryVerdict(BaseModel):
    """The panel's plurality decision."""

    verdict: Label
    score_a: float | None = Field(None, description="mean of the members' scores for A")
    score_b: float | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="votes per label, invalid included")
    invalid_votes: int = 0
    votes: list[Vote] = Field(default_factory=list)
    strategy: str
    swap: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0


class Turn(BaseModel):
    """One referee's contribution to the debate."""

    referee: str
    model: str
    round: int
    text: str
    input_tokens: int = 0
    output_tokens: int = 0


class Final(BaseModel):
    """One referee's closing judgement: scores for Assistant 1 (= A) and 2 (= B)."""

    referee: str
    model: str
    score_a: float | None = None
    score_b: float | None = None
    error: str | None = None
    raw: list[str] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0


class DebateVerdict(BaseModel):
    """The debate's decision: the higher mean score over the referees whose final parsed."""

    verdict: Label
    score_a: float | None = None
    score_b: float | None = None
    error: str | None = None
    rounds: int
    turns: list[Turn] = Field(default_factory=list)
    finals: list[Final] = Field(default_factory=list)
    invalid_finals: int = 0
    swap: bool = False
    consistent: bool | None = None
    orders: list[OrderVerdict] = Field(default_factory=list)
    reversed_debate: "DebateVerdict | None" = Field(
        None, description="with --swap: the debate with B shown as Assistant 1 (scores in that frame)"
    )
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0


class Review(BaseModel):
    """One reviewer's review of one response."""

    iteration: int = Field(description="the response reviewed (1-based)")
    reviewer: str
    seat: int
    seed: int | None = Field(None, description="the sampling seed this reviewer wrote with")
    score: float | None = None
    evaluation: str = ""
    feedback: str = ""
    error: str | None = None
    raw: list[str] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0


class Bout(BaseModel):
    """One knockout comparison: the current best (A) against a later response (B)."""

    a: int
    b: int
    verdict: Label
    winner: int
    note: str = ""
    score_a: float | None = None
    score_b: float | None = None
    evaluation: dict = Field(default_factory=dict, description="the evaluator's full result")


class LoopResult(BaseModel):
    """Everything the feedback loop did for one prompt."""

    prompt: str
    responses: list[str]
    reviews: list[Review] = Field(default_factory=list)
    bouts: list[Bout] = Field(default_factory=list)
    best: int = Field(description="the winning iteration (1-based)")
    best_response: str
    stopped_early: bool = False
    generator: str
    reviewers: list[str]
    evaluator: str
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0


class Candidate(BaseModel):
    """One candidate response to a prompt, with where it came from."""

    name: str
    kind: Literal["single", "loop"]
    models: list[str] = Field(description="the single model, or the loop's generator then its reviewers")
    response: str
    seed: int | None = Field(None, description="the sampling seed of this source for this prompt (the loop's generator's)")
    loop: LoopResult | None = None
    input_tokens: int = 0
    output_tokens: int = 0


class Comparison(BaseModel):
    """The evaluator's decision between two candidates (a shown as A)."""

    a: str
    b: str
    verdict: Label
    score_a: float | None = None
    score_b: float | None = None
    consistent: bool | None = None
    evaluation: dict = Field(default_factory=dict)
