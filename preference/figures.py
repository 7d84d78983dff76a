"""The figures a run's report and card draw, gathered in one pass over its journal rows: counts in bins, so that their
memory does not grow with the run."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from fellowship.preference.rows import Outcome

COMPARISONS = "comparisons"  # the evaluator's time between sources counts as a source of its own
KEPT = "kept"


@dataclass
class Figures:
    """Per-comparison numbers of a generate run, added a prompt at a time; the summary gives the rest."""

    outcomes: Counter[str] = field(default_factory=Counter)  # "single: kept", "workflow: tie", ...
    margins: Counter[float] = field(default_factory=Counter)  # |score difference| of comparisons scored on both sides, by 0.5
    kept_margins: Counter[float] = field(default_factory=Counter)
    confidences: Counter[float] = field(default_factory=Counter)  # the evaluator's probability of its verdict, by 0.05
    seconds: Counter[float] = field(default_factory=Counter)  # per prompt, by a second
    source_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # each source's (and the comparisons')
    source_prompts: Counter[str] = field(default_factory=Counter)  # the prompts each source answered

    def add(self, outcomes: list[Outcome], row: dict[str, Any]) -> None:
        for outcome in outcomes:
            self.outcomes[f"{outcome.kind}: {outcome.dropped or KEPT}"] += 1
            if (margin := outcome.margin) is not None:
                self.margins[binned(margin, 0.5)] += 1
                if outcome.dropped is None:
                    self.kept_margins[binned(margin, 0.5)] += 1
            if outcome.confidence is not None:
                self.confidences[binned(outcome.confidence, 0.05)] += 1
        if isinstance(row.get("seconds"), (int, float)):
            self.seconds[binned(float(row["seconds"]), 1.0)] += 1
        for candidate in row.get("candidates", []):
            self.source_seconds[candidate["name"]] += candidate.get("seconds") or 0.0
            self.source_prompts[candidate["name"]] += 1
        if comparisons := row.get("comparisons"):
            self.source_seconds[COMPARISONS] += sum((c.get("evaluation") or {}).get("seconds") or 0.0 for c in comparisons)
            self.source_prompts[COMPARISONS] += 1


def binned(value: float, width: float) -> float:
    """The lower edge of `value`'s bin."""
    return round(width * (value // width), 6)
