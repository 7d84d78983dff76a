"""What a `generate` run spent: tokens and money per source, role and model, read from its journal rows.

Every record of a row carries the tokens of its own calls: a single source's candidate,
a loop's reviews and knockout evaluations (the generator has the rest of the loop's count),
each comparison's evaluation, down to a jury's votes and a debate's turns and finals, so
each token is priced by the model that handled it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from fellowship.models.prices import Prices
from fellowship.models.usage import Spent as Spent  # what the journal and the exports import from here

Row = dict[str, Any]
Roles = ("candidate", "generator", "reviewer", "evaluator")
COMPARISONS = "comparisons"  # the source name of the comparisons' evaluations
FAILED = "failed prompts"  # the source and role of what prompts that failed spent first


@dataclass(frozen=True)
class Charge:
    """Tokens one model handled in one role, for one source of one prompt, in `calls` calls."""

    source: str
    role: str
    model: str
    input_tokens: int
    output_tokens: int
    calls: int = 1


def merge(total: Spent, more: Spent) -> Spent:
    """`total` with `more` added in."""
    for model, figures in more.items():
        total[model] = [a + b for a, b in zip(total.get(model, [0, 0, 0]), figures)]
    return total


def _tokens(record: Row) -> tuple[int, int]:
    return record.get("input_tokens", 0) or 0, record.get("output_tokens", 0) or 0


def evaluation_charges(evaluation: Row | None, source: str) -> Iterator[Charge]:
    """A judge's verdict, a jury's votes, or a debate's turns and finals (and its reversed debate)."""
    if not evaluation:
        return
    if "votes" in evaluation:
        for vote in evaluation["votes"]:
            yield from evaluation_charges(vote["judgement"], source)
    elif "rounds" in evaluation:
        for part in (*evaluation.get("turns", []), *evaluation.get("finals", [])):
            yield Charge(source, "evaluator", part["model"], *_tokens(part), len(part.get("raw") or [None]))
        yield from evaluation_charges(evaluation.get("reversed_debate"), source)
    else:  # every reply is in `raw`, repair turns included; none when a rule decided
        yield Charge(source, "evaluator", evaluation["model"], *_tokens(evaluation), len(evaluation.get("raw") or []))


def charges(row: Row) -> Iterator[Charge]:
    """Every charge of one journal row; a failed prompt's are the tokens its calls took before it failed (`spent`)."""
    for model, (input_tokens, output_tokens, calls) in (row.get("spent") or {}).items():
        yield Charge(FAILED, FAILED, model, input_tokens, output_tokens, calls)
    for candidate in row.get("candidates", []):
        name, loop = candidate["name"], candidate.get("loop")
        if loop is None:
            yield Charge(name, "candidate", candidate["models"][0], *_tokens(candidate))
            continue
        parts = [Charge(name, "reviewer", review["reviewer"], *_tokens(review), len(review.get("raw") or [None]))
                 for review in loop.get("reviews", [])]
        for bout in loop.get("bouts", []):
            parts += evaluation_charges(bout.get("evaluation"), name)
        total_in, total_out = _tokens(candidate)
        yield Charge(name, "generator", loop["generator"], total_in - sum(p.input_tokens for p in parts),
                     total_out - sum(p.output_tokens for p in parts), len(loop["responses"]))
        yield from parts
    for comparison in row.get("comparisons", []):
        yield from evaluation_charges(comparison.get("evaluation"), COMPARISONS)


def cost(charge: Charge, prices: Prices) -> float | None:
    price = prices.of(charge.model)
    return None if price is None else price.of(charge.input_tokens, charge.output_tokens)


@dataclass
class Tally:
    """Running totals: tokens and dollars, overall and per source, role and model; `unpriced` models have no price."""

    prices: Prices
    input_tokens: int = 0
    output_tokens: int = 0
    dollars: float = 0.0
    by: dict[str, dict[str, list[float]]] = field(default_factory=lambda: {"source": {}, "role": {}, "model": {}})
    unpriced: set[str] = field(default_factory=set)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, row: Row) -> tuple[int, float]:
        """Count one row; returns its (tokens, dollars), unpriced models counting 0 dollars."""
        tokens, dollars = 0, 0.0
        for charge in charges(row):
            money = cost(charge, self.prices)
            if money is None:
                self.unpriced.add(charge.model)
            spent = (charge.input_tokens, charge.output_tokens, money or 0.0, charge.calls)
            for kind, key in (("source", charge.source), ("role", charge.role), ("model", charge.model)):
                total = self.by[kind].setdefault(key, [0, 0, 0.0, 0])
                for i, value in enumerate(spent):
                    total[i] += value
            self.input_tokens += charge.input_tokens
            self.output_tokens += charge.output_tokens
            tokens += charge.input_tokens + charge.output_tokens
            dollars += money or 0.0
        self.dollars += dollars
        return tokens, dollars

    def report(self) -> dict[str, Any]:
        """For the summary: totals, and tokens and dollars per source, role and model (dollars None where unpriced)."""
        def entry(values: list[float], priced: bool = True) -> dict[str, Any]:
            return {"calls": int(values[3]), "input_tokens": int(values[0]), "output_tokens": int(values[1]),
                    "dollars": round(values[2], 6) if priced else None}

        return {
            "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
            "dollars": None if self.unpriced else round(self.dollars, 6),
            "unpriced_models": sorted(self.unpriced),
            "prices": {model: asdict(price) for model in self.by["model"] if (price := self.prices.of(model))},
            # a role or a source is priced when every model is; a model when it has a price
            **{f"by_{kind}": {key: entry(v, key not in self.unpriced if kind == "model" else not self.unpriced)
                              for key, v in table.items()} for kind, table in self.by.items()},
        }


@dataclass
class Budget:
    """A run's limits in dollars and in tokens (None: no limit), held by the one process that journals.

    A prompt starts only while what is spent, plus the prompts in flight and this one each at
    the dearest prompt so far, stays within every limit; until one has finished, one runs at a
    time (while what failed prompts spent, plus the dearest of them, stays within). So a run
    passes a limit only when prompts in flight cost more than every finished one, and at most
    by what those prompts cost.
    """

    tally: Tally
    max_dollars: float | None = None
    max_tokens: int | None = None
    dearest: tuple[int, float] = (0, 0.0)
    dearest_failed: tuple[int, float] = (0, 0.0)
    finished: int = 0

    @property
    def limited(self) -> bool:
        return self.max_dollars is not None or self.max_tokens is not None

    def describe(self) -> str:
        """The limits as the flags that set them."""
        return " and ".join(f"{flag} {value:g}" for flag, value in (("--max-cost", self.max_dollars),
                                                                    ("--max-tokens-total", self.max_tokens)) if value is not None)

    def charge(self, row: Row) -> None:
        """Count a prompt's row. A failed prompt's tokens are spent all the same, but what a prompt costs is measured
        on finished ones only: one that failed early would make the next look cheap."""
        tokens, dollars = self.tally.add(row)
        if "error" in row:
            self.dearest_failed = (max(self.dearest_failed[0], tokens), max(self.dearest_failed[1], dollars))
            return
        self.dearest = (max(self.dearest[0], tokens), max(self.dearest[1], dollars))
        self.finished += 1

    def admit(self, in_flight: int) -> bool:
        """Whether one more prompt may start now."""
        if not self.limited:
            return True
        if not self.finished:
            return in_flight == 0 and self._fits(1, self.dearest_failed)
        return self._fits(in_flight + 1, self.dearest)

    def _fits(self, prompts: int, each: tuple[int, float]) -> bool:
        return ((self.max_tokens is None or self.tally.tokens + prompts * each[0] <= self.max_tokens)
                and (self.max_dollars is None or self.tally.dollars + prompts * each[1] <= self.max_dollars))
