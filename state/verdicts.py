"""The rules that turn scores and labels into verdicts, shared by nodes, runs and metrics.

Plain functions over labels: no LangGraph, no models. A verdict is A, B, tie or invalid
(no readable answer); "A" and "B" always name the pair's own responses, whatever order
a model was shown them in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from statistics import mean
from typing import Literal

Label = Literal["A", "B", "tie", "invalid"]
Order = Literal["AB", "BA"]

_FLIPPED: dict[Label, Label] = {"A": "B", "B": "A", "tie": "tie", "invalid": "invalid"}


def flip(label: Label) -> Label:
    """The label seen from the other presentation order (A and B swapped)."""
    return _FLIPPED[label]


def label_of(score_a: float, score_b: float) -> Label:
    """The higher score wins; equal scores tie."""
    return "A" if score_a > score_b else "B" if score_b > score_a else "tie"


def mean_known(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are known, or None."""
    known = [v for v in values if v is not None]
    return mean(known) if known else None


def plurality(labels: Sequence[str]) -> Label:
    """The most frequent valid label; a shared top count is a tie; no valid label is invalid."""
    counts = Counter(label for label in labels if label in ("A", "B", "tie"))
    if not counts:
        return "invalid"
    ranked = counts.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return "tie"
    top: Label = "A" if ranked[0][0] == "A" else "B" if ranked[0][0] == "B" else "tie"
    return top


def agree(labels: Sequence[Label]) -> tuple[Label, bool | None]:
    """The verdict over presentation orders (labels already mapped back to A and B).

    Any invalid order makes it invalid; one order decides alone; under swap the same
    winner twice wins and disagreement is a tie. Returns (label, consistent).
    """
    if "invalid" in labels:
        return "invalid", None
    if len(labels) == 1:
        return labels[0], None
    consistent = labels[0] == labels[1]
    return (labels[0] if consistent else "tie"), consistent
