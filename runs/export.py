"""Dataset files, summary and card from a run's journal: written by `generate`, rebuilt by `export`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fellowship.data.catalogue import catalogue
from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import atomic_path, atomic_writer
from fellowship.guard.screen import FLAG_KINDS
from fellowship.metrics.labels import Decision, label_report
from fellowship.preference.balance import kto_balance
from fellowship.preference.card import dataset_card
from fellowship.preference.rows import RowBuilder, RowRules, Rows
from fellowship.runs.journal import read_journal
from fellowship.state.records import Candidate, Comparison, Usage

# Hub licence ids of the prompt sets the catalogue knows.
PROMPT_LICENSES = {"Apache-2.0": "apache-2.0", "CC BY-NC 4.0": "cc-by-nc-4.0", "MIT": "mit"}


def rows_of(row: dict[str, Any], rules: RowRules, base: dict[str, Any]) -> Rows:
    candidates = [Candidate.model_validate(c) for c in row["candidates"]]
    comparisons = [Comparison.model_validate(c) for c in row["comparisons"]]
    record = {"prompt_id": row["id"], "trace_id": row["trace_id"], "created_at": row["created_at"]}
    return RowBuilder(rules, base).build(row["prompt"], candidates, comparisons, record)


def decisions_of(row: dict[str, Any]) -> list[Decision]:
    """Every decision the evaluator made for one prompt: comparisons between sources (not the spared ones) and loop bouts."""
    out = [Decision("single", c["a"], c["b"], c["verdict"], c.get("flipped", False), c.get("consistent"), c.get("score_a"),
                    c.get("score_b")) for c in row["comparisons"] if not c.get("skipped")]
    for candidate in row["candidates"]:
        for bout in (candidate.get("loop") or {}).get("bouts", []):
            out.append(Decision("workflow", f"response {bout['a']}", f"response {bout['b']}", bout["verdict"], bout.get("flipped", False),
                                bout["evaluation"].get("consistent"), bout.get("score_a"), bout.get("score_b")))
    return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else value[0]["content"]  # conversational rows hold one message


def evaluator_models(evaluator: dict[str, Any]) -> list[str]:
    if evaluator.get("kind") == "jury":
        return list(evaluator.get("members") or [])
    if evaluator.get("kind") == "debate":
        return list(evaluator.get("referee_models") or [evaluator["model"]])
    return [evaluator["model"]]


def invalid_verdicts(row: dict[str, Any]) -> int:
    bouts = [b for c in row["candidates"] if c.get("loop") for b in c["loop"]["bouts"]]
    return sum(1 for c in [*row["comparisons"], *bouts] if c["verdict"] == "invalid")


def license_of(prompts: str, chosen: str | None) -> tuple[str, str]:
    """(the card's licence id, the sentence about it)."""
    if chosen:
        return chosen, f"Released under `{chosen}` (set with `--license`). The prompts keep their own licence."
    known = catalogue().get(prompts)
    if known is not None and known.license in PROMPT_LICENSES:
        return (PROMPT_LICENSES[known.license],
                f"The prompts are {known.title} ({known.license}, {known.repo}); the card states their licence. "
                "The responses were written by the models named above, under their terms. Set another with `--license`.")
    return "unknown", ("No licence was set (`--license`), and the prompts' licence is not known to fellowship: "
                       "the prompts keep theirs, the responses the terms of the models named above.")


def write_dataset(out_dir: Path, journal_rows: list[dict[str, Any]], rules: RowRules, fmt: str, config: dict[str, Any], *,
                  prompts: int, failed_ids: list[str], seconds: float, license: str | None = None,
                  calibration: dict[str, Any] | None = None, built: dict[str, Rows] | None = None) -> dict[str, Any]:
    """Write `<kind>_<form>.<fmt>` for each kind, `summary.json` and `README.md`; every file atomically.
    `calibration`: the evaluator's agreement with humans (`runs.calibration`), when the run measured it;
    `built`: rows already built from journal rows, by prompt id (the others are built here)."""
    base = config["provenance"]
    total = Rows()
    invalid = 0
    for row in journal_rows:
        total.add(built[row["id"]] if built and row["id"] in built else rows_of(row, rules, base))
        invalid += invalid_verdicts(row)
    usage = Usage.total(Usage.model_validate(row) for row in journal_rows)  # each row's own totals
    pairs = [(_text(r["chosen"]), _text(r["rejected"])) for kind in rules.kinds for r in total.dpo[kind]]
    labels = label_report([d for row in journal_rows for d in decisions_of(row)], pairs,
                          {s["name"]: s["models"] for s in base["sources"]}, evaluator_models(config["evaluator"]))
    previous = _previous_files(out_dir)
    files: dict[str, int] = {}
    balance: dict[str, Any] = {}
    for kind in rules.kinds:
        for form, rows_by_kind in (("dpo", total.dpo), ("kto", total.kto)):
            path = out_dir / f"{kind}_{form}.{fmt}"
            _write_rows(path, rows_by_kind[kind], fmt)
            files[path.name] = len(rows_by_kind[kind])
            if form == "kto":
                balance[path.name] = kto_balance(rows_by_kind[kind])
    for stale in previous - set(files):  # files of an earlier export with other kinds or format
        (out_dir / stale).unlink(missing_ok=True)
    summary = {
        "prompts": prompts, "done": len(journal_rows), "failed": len(failed_ids), "failed_ids": failed_ids,
        "rows": files, "balance": balance, "dropped": dict(sorted(total.dropped.items())), "invalid_verdicts": invalid,
        "labels": labels, "calibration": calibration,
        "suspect": {"policy": rules.suspect, "screened": total.screened, "flagged": total.flagged.get("any", 0),
                    "by_kind": {kind: total.flagged[kind] for kind in FLAG_KINDS if total.flagged[kind]}},
        **usage.model_dump(), "seconds": round(seconds, 1),
        "out": str(out_dir),
    }
    license_id, license_note = license_of(config["prompts"], license)
    meta = {"prompts": config["prompts"], "license": license_id, "license_note": license_note, "fmt": fmt,
            "kinds": list(rules.kinds), "min_margin": rules.min_margin, "min_confidence": rules.min_confidence,
            "conversational": rules.conversational,
            "suspect": rules.suspect}
    if sum(files.values()):  # no card for a dataset without rows
        with atomic_writer(out_dir / "README.md") as handle:
            handle.write(dataset_card(summary, base, meta))
    with atomic_writer(out_dir / "summary.json") as handle:
        handle.write(json.dumps(summary, indent=2) + "\n")
    return summary


def _previous_files(out_dir: Path) -> set[str]:
    try:
        return set(json.loads((out_dir / "summary.json").read_text(encoding="utf-8")).get("rows", {}))
    except (OSError, ValueError, AttributeError):
        return set()


def _write_rows(path: Path, rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        flat = [{**r, "provenance": json.dumps(r["provenance"], ensure_ascii=False)} for r in rows]
        with atomic_path(path) as tmp:
            pq.write_table(pa.Table.from_pylist(flat), tmp)
        return
    with atomic_writer(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def journalled_run(out_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """(the run's configuration, its finished rows in prompt order, the ids that failed) from `out_dir`'s journal."""
    path = out_dir / "journal.jsonl"
    if not path.is_file():
        raise InputError("holds no generate run (no journal.jsonl)", out_dir)
    config, done, failed, _ = read_journal(path)
    if not config or "provenance" not in config:
        raise InputError("was written by an older fellowship that did not record the run's provenance; "
                         "generate it again into a new --out", path, 1)
    return config, sorted(done.values(), key=lambda r: r.get("index", 0)), failed


def rebuild(out_dir: Path, to: Path | None, rules: RowRules, fmt: str, license: str | None) -> dict[str, Any]:
    """`fellowship export`: a generate run's files, summary and card written anew from its journal (into `to`, or `out_dir`)."""
    from fellowship.runs.calibration import load as load_calibration

    config, rows, failed = journalled_run(out_dir)
    return write_dataset(to or out_dir, rows, rules, fmt, config, prompts=len(rows) + len(failed), failed_ids=failed,
                         seconds=0.0, license=license, calibration=load_calibration(out_dir))
