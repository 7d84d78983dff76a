"""A run's evaluator measured against humans (`generate --calibrate DATASET[:N]`), kept beside its dataset.

The evaluator of the run judges the first N human-labelled pairs of a named dataset, exactly
as `fellowship agreement` would with the same configuration: the same live call, and a
results journal (`calibration.jsonl`) with the same configuration line, so either command
resumes the other's work. The report (`calibration.json`) holds agreement (kappa with its
bootstrap interval, accuracy, confusion) and the bias numbers of those verdicts, and goes
into the run's summary and card; `fellowship export` reads it back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import atomic_writer
from fellowship.metrics.labels import MIN_N, Decision, length, picked_lengths, position, position_warnings
from fellowship.readers.labelled import LabelledPair
from fellowship.runs.journal import same_config, scan_journal
from fellowship.state.evaluator import EvaluatorConfig

DEFAULT_PAIRS = 50
JOURNAL, REPORT = "calibration.jsonl", "calibration.json"
LENGTH_GAP = 0.2  # the evaluator prefers the longer answer this much more often than the humans: a warning
SLIGHT = 0.2  # a kappa interval wholly below this (Landis and Koch's "slight"): a warning


def parse_calibrate(value: str) -> tuple[str, int]:
    """`DATASET[:N]` into (dataset, N); N defaults to DEFAULT_PAIRS."""
    name, sep, count = value.rpartition(":")
    if not sep or not count.isdigit():  # no count (a Windows path or a Hub id holds no ':N' suffix of digits)
        return value, DEFAULT_PAIRS
    if int(count) < 1 or not name:
        raise ValueError(f"--calibrate {value!r}: expected DATASET[:N] with N at least 1")
    return name, int(count)


def calibration_report(dataset: str, evaluator: str, pairs: list[LabelledPair], rows: list[dict[str, Any]], *,
                       asked: int, bootstrap: int = 1000) -> dict[str, Any]:
    """Agreement with the humans on the finished pairs, and the bias numbers of the same verdicts.

    The pairs are shown as the dataset orders them, so position is the share of decisive
    verdicts that went to response A; length sets the evaluator's picks beside the humans'."""
    from fellowship.runs.agreement import report as agreement_report  # loads the graphs: only when a run calibrates

    by_id = {row["id"]: row for row in rows}
    finished = [p for p in pairs if p.id in by_id]
    labels = [by_id[p.id]["verdict"] for p in finished]
    agreement = agreement_report(evaluator, finished, labels, ci_rounds=bootstrap)

    report = {
        "dataset": dataset, "evaluator": evaluator, "pairs": len(finished), "asked": asked,
        "kappa": agreement["kappa"], "kappa_ci": agreement["kappa_ci"], "accuracy": agreement["accuracy"],
        "invalid": agreement["invalid"], "confusion": agreement["confusion"],
        "position": position([Decision("calibration", "A", "B", label) for label in labels]),
        "length": length(picked_lengths((p.response_a, p.response_b, label) for p, label in zip(finished, labels))),
        "human_length": length(picked_lengths((p.response_a, p.response_b, p.human) for p in finished)),
    }
    report["warnings"] = position_warnings(report["position"]) + _length_warning(report) + _agreement_warning(report)
    return report


def _length_warning(report: dict[str, Any]) -> list[str]:
    mine, human = report["length"], report["human_length"]
    if mine["n"] < MIN_N or human["n"] < MIN_N or mine["share"] - human["share"] <= LENGTH_GAP:
        return []
    return [f"the evaluator picked the longer answer in {mine['share']:.0%} of its decisive verdicts, the humans in "
            f"{human['share']:.0%}: it rewards length. Check with another judge."]


def _agreement_warning(report: dict[str, Any]) -> list[str]:
    high = report["kappa_ci"][1]
    if report["pairs"] < MIN_N or high != high or high >= SLIGHT:  # too few pairs, an undefined interval, or agreement
        return []
    return [f"the evaluator agreed with humans no better than slightly (kappa {report['kappa']:.2f}, 95% CI up to "
            f"{high:.2f}, on {report['pairs']} pairs of {report['dataset']}): its labels are close to chance. "
            "Use a stronger judge, a jury, or --swap."]


def conflict(out_dir: Path, evaluator: EvaluatorConfig, dataset: str) -> str | None:
    """Why the folder's calibration journal cannot be resumed by this run (another dataset or evaluator), or None."""
    path = out_dir / JOURNAL
    if not path.is_file():
        return None
    from fellowship.runs.agreement import results_config  # loads the graphs: only when a run calibrates

    recorded = scan_journal(path).config
    if recorded is None or same_config(recorded, results_config(evaluator, dataset)):
        return None
    return (f"{path} holds a calibration on {recorded.get('dataset', 'another dataset')} by another configuration: "
            f"delete it (and {REPORT}) to calibrate on {dataset}")


def save(out_dir: Path, report: dict[str, Any]) -> None:
    with atomic_writer(out_dir / REPORT) as handle:
        handle.write(json.dumps(report, indent=2) + "\n")


def load(out_dir: Path) -> dict[str, Any] | None:
    """The calibration a run saved in `out_dir`, or None."""
    path = out_dir / REPORT
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot be read ({exc}); delete it, or run generate --calibrate again", path) from exc
    if not isinstance(data, dict) or "kappa" not in data:
        raise InputError("is not a calibration report; delete it, or run generate --calibrate again", path)
    return data
