"""How good a run's labels are: position and length bias, swap consistency, source win rates, self-preference, margins.

Computed on every decision an evaluator made in a run (`Decision`: comparisons between
sources and the loops' knockout bouts), and on the DPO pairs a dataset kept. Each number
comes with what it rests on (`n`), and `warnings` says in plain words when one says the
labels are not to be trusted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


def position(decisions: Sequence[Decision]) -> dict[str, Any]:
    """Share of decisive verdicts won by the response shown first, its 95% interval and a test against 50%."""
    decisive = [d for d in decisions if d.decisive]
    won = sum(d.first_shown_won for d in decisive)
    swapped = [d.consistent for d in decisions if d.consistent is not None]
    return {**_share(won, len(decisive)), "p_value": binomial_p(won, len(decisive)) if decisive else None,
            "swap_consistency": _share(sum(swapped), len(swapped)) if swapped else None}


def picked_lengths(choices: Iterable[tuple[str, str, str]]) -> list[tuple[int, int]]:
    """The (chosen, rejected) lengths of each (response A, response B, verdict) decided A or B."""
    return [(len(a), len(b)) if verdict == "A" else (len(b), len(a)) for a, b, verdict in choices if verdict in ("A", "B")]


def length(lengths: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """Of the kept pairs' (chosen, rejected) lengths: how often chosen is the longer, and the median ratio chosen/rejected."""
    longer = sum(c > r for c, r in lengths)
    ratios = [c / r for c, r in lengths if r]
    return {**_share(longer, len(lengths)), "median_ratio": median(ratios) if ratios else None}


def sources(decisions: Sequence[Decision]) -> dict[str, dict[str, Any]]:
    """Each source's wins over its decisive comparisons with another source."""
    out: dict[str, dict[str, Any]] = {}
    for d in (d for d in decisions if d.kind == "single" and d.decisive):
        for name, won in ((d.a, d.verdict == "A"), (d.b, d.verdict == "B")):
            entry = out.setdefault(name, {"n": 0, "wins": 0})
            entry["n"] += 1
            entry["wins"] += won
    for entry in out.values():
        entry["win_rate"] = entry["wins"] / entry["n"]
    return out


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


def margins(decisions: Sequence[Decision]) -> dict[str, Any] | None:
    """The score margins of the decisive verdicts that have scores: quartiles and the share under one point."""
    values = sorted(abs(d.score_a - d.score_b) for d in decisions
                    if d.decisive and d.score_a is not None and d.score_b is not None)
    if not values:
        return None

    def at(q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))]

    return {"n": len(values), "min": values[0], "q1": at(0.25), "median": median(values), "q3": at(0.75), "max": values[-1],
            "under_1": sum(v < 1 for v in values) / len(values)}


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


def label_report(decisions: Sequence[Decision], lengths: Sequence[tuple[int, int]], source_models: dict[str, list[str]],
                 evaluator_models: Sequence[str]) -> dict[str, Any]:
    """Every diagnostic of a run, with its warnings."""
    win_rates = sources(decisions)
    report: dict[str, Any] = {
        "decisions": len(decisions), "decisive": sum(d.decisive for d in decisions),
        "position": position(decisions), "length": length(lengths), "sources": win_rates,
        "self_preference": self_preference(win_rates, source_models, evaluator_models), "margins": margins(decisions),
    }
    report["warnings"] = warnings(report)
    return report
