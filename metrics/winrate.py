"""Win rates of a workflow's output (A) against a baseline (B), the paper's rule and ours."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any


def wilson(successes: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% by default)."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def win_report(labels: Sequence[str]) -> dict[str, Any]:
    """Wins are A verdicts; ties and invalid verdicts are not wins (the paper's rule), every item counts."""
    counts = Counter(labels)
    n = len(labels)
    wins, ties = counts["A"], counts["tie"]
    return {
        "n": n,
        "wins": wins,
        "losses": counts["B"],
        "ties": ties,
        "invalid": counts["invalid"],
        "win_rate": wins / n if n else float("nan"),
        "win_rate_ci": list(wilson(wins, n)),
        "win_rate_ties_half": (wins + 0.5 * ties) / n if n else float("nan"),
    }
