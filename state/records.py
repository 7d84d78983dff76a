"""Pydantic records shared by nodes, graphs, the CLI and the output files."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Annotated, Any, Literal, Protocol

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Discriminator, Field, Tag

from fellowship.guard.screen import FlagKind, Screening, screen
from fellowship.state.verdicts import Label, Order

__all__ = ["Label", "Order"]  # re-exported: records and their labels travel together


class Counted(Protocol):
    """Anything that records the tokens of its model calls."""

    @property
    def input_tokens(self) -> int: ...

    @property
    def output_tokens(self) -> int: ...


class Usage(BaseModel):
    """Token counts: every sum of tokens in the project goes through this."""

    input_tokens: int = 0
    output_tokens: int = 0

    @classmethod
    def of(cls, message: BaseMessage) -> Usage:
        """What one model reply reports (zero where the backend reports nothing)."""
        meta = getattr(message, "usage_metadata", None) or {}
        return cls(input_tokens=meta.get("input_tokens", 0), output_tokens=meta.get("output_tokens", 0))

    @classmethod
    def total(cls, records: Iterable[Counted]) -> Usage:
        return sum((cls(input_tokens=r.input_tokens, output_tokens=r.output_tokens) for r in records), cls())

    def __add__(self, other: Counted) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


AnswerValue = tuple[float, float] | float | str
"""What a parser reads from a reply: two scores, one score, or a choice."""


class Answer(BaseModel):
    """One model conversation that should end in a parseable answer.

    `texts` holds every reply: the first, and the repair turn's when there was one.
    `value` is None exactly when `error` says why nothing could be read.
    """

    value: AnswerValue | None = None
    texts: list[str] = Field(default_factory=list)
    error: str | None = None
    repaired: bool = False
    constrained: bool = Field(False, description="the last reply was decoded under the answer format (grammar, regex or JSON schema)")
    distributions: dict[str, dict[str, float]] | None = Field(
        None, description="asked for: the probability of each value the answer could have taken, from the reply's token "
                          "log-probabilities (`parsing.confidence`); None where the backend gave none")
    usage: Usage = Field(default_factory=Usage)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    # Typed views of `value`, for the parser that produced it; a mismatch is a bug, so it raises.
    def score(self) -> float:
        if isinstance(self.value, (int, float)):
            return float(self.value)
        raise TypeError(f"expected one score, got {self.value!r}")

    def scores(self) -> tuple[float, float]:
        if isinstance(self.value, tuple):
            return self.value
        raise TypeError(f"expected a pair of scores, got {self.value!r}")

    def choice(self) -> Label:
        if self.value in ("A", "B", "tie"):
            return "A" if self.value == "A" else "B" if self.value == "B" else "tie"
        raise TypeError(f"expected A, B or tie, got {self.value!r}")


Flags = dict[str, list[FlagKind]]
"""What screening found, by response label ("A", "B"); a clean response has no key."""


class PairScreening(BaseModel):
    """Both responses of a pair, screened against the question (A and B as the evaluator's input has them)."""

    a: Screening
    b: Screening

    @classmethod
    def of(cls, question: str, response_a: str, response_b: str) -> PairScreening:
        """Screen a pair (cached: each node that shows or rules on the pair asks again, so an edited state counts)."""
        return _screened(question, response_a, response_b)

    def flags(self) -> Flags:
        return {label: s.flags for label, s in (("A", self.a), ("B", self.b)) if s.flags}

    def ruling(self) -> tuple[Label, str] | None:
        """A response that answers nothing loses to one that does, with no model asked; two such are a tie."""
        if self.a.degenerate and self.b.degenerate:
            return "tie", "both responses answer nothing (degenerate)"
        if self.a.degenerate or self.b.degenerate:
            loser = "A" if self.a.degenerate else "B"
            return ("B" if loser == "A" else "A"), f"response {loser} answers nothing (degenerate)"
        return None


@lru_cache(maxsize=512)
def _screened(question: str, response_a: str, response_b: str) -> PairScreening:
    return PairScreening(a=screen(response_a, question), b=screen(response_b, question))


def flipped_flags(flags: Flags) -> Flags:
    """Flags of a pair shown the other way round, under the pair's own labels."""
    return {("B" if label == "A" else "A"): kinds for label, kinds in flags.items()}


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
    probabilities: dict[str, float] | None = Field(None, description="with confidence asked for: the chances of A, B and tie "
                                                                     "that this order's reply gave, mapped back to the responses")


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
    confidence: float | None = Field(None, description="the probability of this verdict read from the token log-probabilities "
                                                       "(the mean over the orders judged); None where not asked for or not given")
    flags: Flags = Field(default_factory=dict, description="what screening found in each response (text aimed at the evaluator)")
    ruled: str | None = Field(None, description="why no model was asked: the verdict follows from a rule (a degenerate response)")
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
    confidence: float | None = Field(None, description="the mean over the valid votes of each member's probability of the "
                                                       "panel's verdict; None where any member's is missing")
    flags: Flags = Field(default_factory=dict, description="what screening found in each response")
    ruled: str | None = Field(None, description="why no member's model was asked (a degenerate response)")
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0

    @property
    def consistent(self) -> bool | None:
        """Never set for a panel: each member's own judgement says whether its orders agreed."""
        return None


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
    flags: Flags = Field(default_factory=dict, description="what screening found in each response")
    ruled: str | None = Field(None, description="why no referee was asked (a degenerate response)")
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0


class Review(BaseModel):
    """One reviewer's review of one response."""

    iteration: int = Field(description="the response reviewed (1-based)")
    reviewer: str
    seat: int
    seed: int | None = Field(None, description="the sampling seed this reviewer wrote with")
    request: str = Field("", description="the review request as one standalone prompt: the reviewer's instructions, "
                                         "the user prompt and the response under review")
    score: float | None = None
    evaluation: str = ""
    feedback: str = ""
    error: str | None = None
    raw: list[str] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0


def _evaluator_of(value: Any) -> str:
    """Which evaluator's record this is, from the fields only it has (a record or its dump)."""
    keys = set(value) if isinstance(value, dict) else set(type(value).model_fields)
    return "jury" if "votes" in keys else "debate" if "rounds" in keys else "judge"


Evaluation = Annotated[
    Annotated[Verdict, Tag("judge")] | Annotated[JuryVerdict, Tag("jury")] | Annotated[DebateVerdict, Tag("debate")],
    Discriminator(_evaluator_of),
]
"""The full result of whichever evaluator decided: judge, jury or debate."""


class Bout(BaseModel):
    """One knockout comparison: the current best (A) against a later response (B)."""

    a: int
    b: int
    verdict: Label
    winner: int
    note: str = ""
    score_a: float | None = None
    score_b: float | None = None
    flipped: bool = Field(False, description="response b was shown first; verdict and scores are mapped back, the evaluation is as shown")
    evaluation: Evaluation = Field(description="the evaluator's full result")


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
    seconds: float = Field(0.0, description="how long the source took to answer (a loop: its whole run)")


class Comparison(BaseModel):
    """The evaluator's decision between two candidates (a shown as A)."""

    a: str
    b: str
    verdict: Label
    score_a: float | None = None
    score_b: float | None = None
    consistent: bool | None = None
    flipped: bool = Field(False, description="b was shown first; verdict and scores are mapped back, the evaluation is as shown")
    evaluation: Evaluation | None = Field(None, description="the evaluator's full result; None when it was spared")
    skipped: str | None = Field(None, description="why no evaluator ran (identical responses)")
