"""How good a run's labels are: position and length bias, swap consistency, source win rates, self-preference, margins.

Computed on every decision an evaluator made in a run (`Decision`: comparisons between
sources and the loops' knockout bouts), and on the DPO pairs a dataset kept. Each number
comes with what it rests on (`n`), and `warnings` says in plain words when one says the
labels are not to be trusted.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from fellowship.metrics.winrate import wilson

# A share of decisive verdicts beyond these, over at least MIN_N of them, gets a warning.
BIASED = 0.8
MIN_N = 5


@dataclass(frozen=True, slots=True)
class Decision:
    """One evaluator decision between response a and response b (verdict in that frame)."""

    kind: str  # "single" (two sources) or "workflow" (a loop's bout)
    a: str  # the source (or "response N") of a
    b: str
    verdict: str  # A, B, tie or invalid
    flipped: bool = False  # b was shown first
    consistent: bool | None = None  # under swap: did both orders agree
    score_a: float | None = None
    score_b: float | None = None

    @property
    def decisive(self) -> bool:
        return self.verdict in ("A", "B")

    @property
    def first_shown_won(self) -> bool:
        return (self.verdict == "A") != self.flipped


def binomial_p(successes: int, n: int) -> float:
    """Two-sided p-value of `successes` in `n` fair coin flips (exact up to 1000, normal approximation above)."""
    if n == 0:
        return 1.0
    if n > 1000:
        z = abs(successes - n / 2) / math.sqrt(n / 4)
        return math.erfc(z / math.sqrt(2))
    probabilities = [float(math.comb(n, k) / 2**n) for k in range(n + 1)]
    observed = probabilities[successes]
    return float(min(1.0, sum(p for p in probabilities if p <= observed * (1 + 1e-9))))


def _share(successes: int, n: int) -> dict[str, Any]:
    low, high = wilson(successes, n) if n else (None, None)
    return {"n": n, "count": successes, "share": successes / n if n else None, "ci": [low, high] if n else None}


def picked_lengths(choices: Iterable[tuple[str, str, str]]) -> list[tuple[int, int]]:
    """The (chosen, rejected) lengths of each (response A, response B, verdict) decided A or B."""
    return [(len(a), len(b)) if verdict == "A" else (len(b), len(a)) for a, b, verdict in choices if verdict in ("A", "B")]


@dataclass
class Labels:
    """What the diagnostics rest on, added a decision and a kept pair at a time: counts, and the margins and length
    ratios as arrays of floats (8 bytes each), so that a run's memory does not hold its decisions."""

    decisions: int = 0
    decisive: int = 0
    first_won: int = 0  # decisive verdicts for the response shown first
    swapped: int = 0  # decisions judged in both orders
    consistent: int = 0  # ... that agreed
    wins: dict[str, list[int]] = field(default_factory=dict)  # source -> [decisive comparisons with another source, wins]
    score_margins: array[float] = field(default_factory=lambda: array("d"))  # |score a - score b| of decisive scored verdicts
    pairs: int = 0  # kept DPO pairs
    longer: int = 0  # ... whose chosen response is the longer
    ratios: array[float] = field(default_factory=lambda: array("d"))  # chosen/rejected length, where rejected is not empty

    @classmethod
    def of(cls, decisions: Iterable[Decision] = (), lengths: Iterable[tuple[int, int]] = ()) -> Labels:
        labels = cls()
        for decision in decisions:
            labels.add(decision)
        for chosen, rejected in lengths:
            labels.add_pair(chosen, rejected)
        return labels

    def add(self, d: Decision) -> None:
        self.decisions += 1
        if d.consistent is not None:
            self.swapped += 1
            self.consistent += d.consistent
        if not d.decisive:
            return
        self.decisive += 1
        self.first_won += d.first_shown_won
        if d.kind == "single":
            for name, won in ((d.a, d.verdict == "A"), (d.b, d.verdict == "B")):
                entry = self.wins.setdefault(name, [0, 0])
                entry[0] += 1
                entry[1] += won
        if d.score_a is not None and d.score_b is not None:
            self.score_margins.append(abs(d.score_a - d.score_b))

    def add_pair(self, chosen: int, rejected: int) -> None:
        """A kept pair's (chosen, rejected) lengths."""
        self.pairs += 1
        self.longer += chosen > rejected
        if rejected:
            self.ratios.append(chosen / rejected)

    def position(self) -> dict[str, Any]:
        """Share of decisive verdicts won by the response shown first, its 95% interval and a test against 50%."""
        return {**_share(self.first_won, self.decisive),
                "p_value": binomial_p(self.first_won, self.decisive) if self.decisive else None,
                "swap_consistency": _share(self.consistent, self.swapped) if self.swapped else None}

    def length(self) -> dict[str, Any]:
        """Of the kept pairs: how often chosen is the longer, and the median ratio chosen/rejected."""
        return {**_share(self.longer, self.pairs), "median_ratio": median(self.ratios) if self.ratios else None}

    def sources(self) -> dict[str, dict[str, Any]]:
        """Each source's wins over its decisive comparisons with another source."""
        return {name: {"n": n, "wins": wins, "win_rate": wins / n} for name, (n, wins) in self.wins.items()}

    def margins(self) -> dict[str, Any] | None:
        """The score margins of the decisive verdicts that have scores: quartiles and the share under one point."""
        values = sorted(self.score_margins)
        if not values:
            return None

        def at(q: float) -> float:
            return values[min(len(values) - 1, int(q * len(values)))]

        return {"n": len(values), "min": values[0], "q1": at(0.25), "median": median(values), "q3": at(0.75),
                "max": values[-1], "under_1": sum(v < 1 for v in values) / len(values)}

    def report(self, source_models: dict[str, list[str]], evaluator_models: Sequence[str]) -> dict[str, Any]:
        """Every diagnostic of a run, with its warnings."""
        win_rates = self.sources()
        report: dict[str, Any] = {
            "decisions": self.decisions, "decisive": self.decisive, "position": self.position(), "length": self.length(),
            "sources": win_rates, "self_preference": self_preference(win_rates, source_models, evaluator_models),
            "margins": self.margins(),
        }
        report["warnings"] = warnings(report)
        return report


def position(decisions: Iterable[Decision]) -> dict[str, Any]:
    """Share of decisive verdicts won by the response shown first, its 95% interval and a test against 50%."""
    return Labels.of(decisions).position()


def length(lengths: Iterable[tuple[int, int]]) -> dict[str, Any]:
    """Of the kept pairs' (chosen, rejected) lengths: how often chosen is the longer, and the median ratio chosen/rejected."""
    return Labels.of(lengths=lengths).length()


def self_preference(win_rates: dict[str, dict[str, Any]], source_models: dict[str, list[str]],
                    evaluator_models: Sequence[str]) -> list[dict[str, Any]]:
    """Sources written by a model that also evaluates: their win rate beside the other sources'."""
    out = []
    for name, models in source_models.items():
        shared = sorted(set(models[:1]) & set(evaluator_models))  # the model that wrote the answer (a loop's generator)
        if not shared or name not in win_rates:
            continue
        others = [w for other, w in win_rates.items() if other != name]
        rest_n, rest_wins = sum(w["n"] for w in others), sum(w["wins"] for w in others)
        out.append({"source": name, "model": shared[0], "win_rate": win_rates[name]["win_rate"], "n": win_rates[name]["n"],
                    "others_win_rate": rest_wins / rest_n if rest_n else None})
    return out


def position_warnings(pos: dict[str, Any]) -> list[str]:
    """Warnings on the position numbers: verdicts that follow the order shown."""
    out = []
    if pos["n"] >= MIN_N and pos["share"] is not None and max(pos["share"], 1 - pos["share"]) > BIASED:
        side = "first" if pos["share"] > 0.5 else "second"
        count = pos["count"] if side == "first" else pos["n"] - pos["count"]
        out.append(f"{count} of {pos['n']} decisive verdicts went to the answer shown {side}: the evaluator decides by "
                   "position, not quality. Rerun with --swap (a pair counts only when both orders agree), or use another judge.")
    consistency = pos.get("swap_consistency")
    if consistency and consistency["n"] >= MIN_N and consistency["share"] < 0.5:
        out.append(f"only {consistency['count']} of {consistency['n']} swapped judgements agreed in both orders: most "
                   "verdicts follow the order shown. Use a stronger judge.")
    return out


def warnings(report: dict[str, Any]) -> list[str]:
    """Plain-words warnings where a number says the labels are not to be trusted, each with what to do."""
    out = position_warnings(report["position"])
    size = report["length"]
    if size["n"] >= MIN_N and size["share"] is not None and max(size["share"], 1 - size["share"]) > BIASED:
        which = "longer" if size["share"] > 0.5 else "shorter"
        out.append(f"chosen is the {which} answer in {max(size['share'], 1 - size['share']):.0%} of {size['n']} pairs: "
                   "a model trained on these labels learns length. Check with another judge, or filter by --min-margin.")
    for entry in report.get("self_preference", []):
        if entry["others_win_rate"] is not None and entry["n"] >= MIN_N and entry["win_rate"] - entry["others_win_rate"] > 0.2:
            out.append(f"source {entry['source']} is written by the evaluator's own model ({entry['model']}) and wins "
                       f"{entry['win_rate']:.0%} against {entry['others_win_rate']:.0%} for the others: possible "
                       "self-preference. Use an evaluator that is not a source.")
    return out


def label_report(decisions: Iterable[Decision], lengths: Iterable[tuple[int, int]], source_models: dict[str, list[str]],
                 evaluator_models: Sequence[str]) -> dict[str, Any]:
    """Every diagnostic of these decisions and kept pairs' lengths, with its warnings."""
    return Labels.of(decisions, lengths).report(source_models, evaluator_models)
