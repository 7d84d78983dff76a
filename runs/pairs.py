"""A file of pairs through the judge, the jury or the debate: rows, and a summary of the verdicts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fellowship.fileio.pairs import Pair
from fellowship.metrics.labels import Decision, label_report, picked_lengths
from fellowship.runs.batch import ItemFailure
from fellowship.runs.runner import Batch
from fellowship.state.records import Evaluation, Usage


async def evaluate_pairs(items: list[Pair], run_one: Callable[[Pair], Awaitable[Evaluation]],
                         batch: Batch) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(one row per pair, in file order; the summary): each pair checkpointed under a thread of its own."""
    counts = {"A": 0, "B": 0, "tie": 0, "invalid": 0, "failed": 0}

    def note(result: Evaluation | ItemFailure) -> str:
        counts["failed" if isinstance(result, ItemFailure) else result.verdict] += 1
        return " ".join(f"{k} {v}" for k, v in counts.items() if v)

    results = await batch.checkpointed(items, run_one, item_id=lambda pair: pair.id, note=note)
    done = [r for r in results if not isinstance(r, ItemFailure)]
    rows = [{"id": pair.id, "verdict": None, "error": f"model call failed: {result}"} if isinstance(result, ItemFailure)
            else {"id": pair.id, **result.model_dump()} for pair, result in zip(items, results)]
    summary = {"pairs": len(items), **counts, "flagged": sum(bool(r.flags) for r in done),
               "ruled": sum(r.ruled is not None for r in done), **Usage.total(done).model_dump(),
               "labels": _labels(items, results)}
    return rows, summary


def _labels(items: list[Pair], results: list[Any]) -> dict[str, Any]:
    """Position and length diagnostics of a pairs file's verdicts (each pair shown as given: A first)."""
    done = [(pair, r) for pair, r in zip(items, results) if not isinstance(r, ItemFailure)]
    decisions = [Decision("single", "a", "b", r.verdict, consistent=r.consistent) for _, r in done]
    report = label_report(decisions, picked_lengths((p.response_a, p.response_b, r.verdict) for p, r in done), {}, [])
    del report["sources"], report["self_preference"]  # the two sides of a pairs file are not sources
    return report
