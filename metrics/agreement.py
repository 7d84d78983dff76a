"""Cohen's kappa (unweighted), its bootstrap interval, and the report's other figures."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

HUMAN_LABELS = ("A", "B", "tie")
EVALUATOR_LABELS = ("A", "B", "tie", "invalid")


def cohen_kappa(human: Sequence[str], evaluator: Sequence[str]) -> float:
    """Unweighted Cohen's kappa over every label either side uses.

    An `invalid` verdict is a class of its own: it never agrees with a human label, so it
    lowers observed agreement instead of being dropped. When both sides use one and the
    same label throughout, agreement is perfect and kappa is 1; when expected agreement is
    1 otherwise, kappa is undefined and NaN is returned.
    """
    if len(human) != len(evaluator):
        raise ValueError(f"{len(human)} human labels but {len(evaluator)} evaluator labels")
    n = len(human)
    if n == 0:
        raise ValueError("no labels")
    observed = sum(h == e for h, e in zip(human, evaluator)) / n
    h_counts, e_counts = Counter(human), Counter(evaluator)
    expected = sum(h_counts[label] * e_counts[label] for label in set(h_counts) | set(e_counts)) / (n * n)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else float("nan")
    return (observed - expected) / (1 - expected)


def bootstrap_ci(human: Sequence[str], evaluator: Sequence[str], *, rounds: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of kappa, resampling items with replacement."""
    rng = random.Random(seed)
    n = len(human)
    values = []
    for _ in range(rounds):
        picks = [rng.randrange(n) for _ in range(n)]
        value = cohen_kappa([human[i] for i in picks], [evaluator[i] for i in picks])
        if value == value:  # skip undefined resamples (NaN)
            values.append(value)
    values.sort()
    if not values:
        return float("nan"), float("nan")
    low = values[int((1 - level) / 2 * len(values))]
    high = values[min(len(values) - 1, int((1 + level) / 2 * len(values)))]
    return low, high


def confusion(human: Sequence[str], evaluator: Sequence[str]) -> dict[str, dict[str, int]]:
    """Counts by human label (rows) and evaluator label (columns)."""
    table = {h: {e: 0 for e in EVALUATOR_LABELS} for h in HUMAN_LABELS}
    for h, e in zip(human, evaluator):
        table[h][e] += 1
    return table


def accuracy(human: Sequence[str], evaluator: Sequence[str]) -> float:
    return sum(h == e for h, e in zip(human, evaluator)) / len(human)


def rate(labels: Sequence[str], label: str) -> float:
    return sum(x == label for x in labels) / len(labels) if labels else 0.0


def longer_preference(labels: Sequence[str], len_a: Sequence[int], len_b: Sequence[int]) -> float | None:
    """Among decided verdicts (A or B) on pairs of unequal length, the share picking the longer response."""
    picks = [
        (label == "A") == (a > b)
        for label, a, b in zip(labels, len_a, len_b)
        if label in ("A", "B") and a != b
    ]
    return sum(picks) / len(picks) if picks else None
