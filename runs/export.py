"""Dataset files, summary and card from a run's journal: written by `generate`, rebuilt by `export`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from fellowship.data.catalogue import catalogue
from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import atomic_path, atomic_writer
from fellowship.guard.screen import FLAG_KINDS
from fellowship.metrics.labels import Decision, Labels
from fellowship.models.prices import Price, Prices
from fellowship.preference.balance import kto_balance
from fellowship.preference.card import dataset_card
from fellowship.preference.charts import drawn, write_pngs
from fellowship.preference.figures import Figures
from fellowship.preference.rows import RowBuilder, RowRules, Rows
from fellowship.runs.journal import Entry, journal_rows, scan_journal
from fellowship.runs.spend import Spent, Tally
from fellowship.state.records import Candidate, Comparison

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


class _Files:
    """The open dataset files of one write, `<kind>_<form>.<fmt>`: each row written as it is built (Parquet rows are held
    until the end, to be written as one table); all of them renamed into place only when the whole write succeeds."""

    def __init__(self, out_dir: Path, kinds: Sequence[str], fmt: str, stack: ExitStack) -> None:
        self.fmt = fmt
        self.paths = {(kind, form): out_dir / f"{kind}_{form}.{fmt}" for kind in kinds for form in ("dpo", "kto")}
        self.counts = dict.fromkeys(self.paths, 0)
        self.desirable = dict.fromkeys(kinds, 0)
        self.held: dict[tuple[str, str], list[dict[str, Any]]] = {key: [] for key in self.paths}
        self.handles = {} if fmt == "parquet" else {key: stack.enter_context(atomic_writer(path)) for key, path in self.paths.items()}

    def write(self, built: Rows) -> None:
        for kind, form in self.paths:
            rows = (built.dpo if form == "dpo" else built.kto)[kind]
            self.counts[kind, form] += len(rows)
            if form == "kto":
                self.desirable[kind] += sum(1 for row in rows if row["label"])
            if self.fmt == "parquet":
                self.held[kind, form] += rows
            else:
                self.handles[kind, form].writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)

    def close(self) -> None:
        if self.fmt == "parquet":
            for key, path in self.paths.items():
                _write_parquet(path, self.held[key])


def write_dataset(out_dir: Path, journal_rows: Iterable[dict[str, Any]], rules: RowRules, fmt: str, config: dict[str, Any], *,
                  prompts: int, failed_ids: list[str], seconds: float, license: str | None = None,
                  calibration: dict[str, Any] | None = None, prices: Prices | None = None,
                  budget: dict[str, Any] | None = None, failed_spent: Spent | None = None) -> dict[str, Any]:
    """Write `<kind>_<form>.<fmt>` for each kind, `summary.json` and `README.md`; every file atomically.

    One pass over `journal_rows` (prompt order), each row's dataset rows written as they are built: what stays in memory
    is counts, the evaluator's decisions and the kept pairs' lengths. `calibration`: the evaluator's agreement with
    humans (`runs.calibration`), when the run measured it; `prices` price the tokens (`models.prices`); `budget`: the run's
    limits and the prompts they kept from starting; `failed_spent`: the tokens of failed tries, by model."""
    base = config["provenance"]
    total = Rows()  # its counts only: the rows go to the files
    done = invalid = 0
    spend = Tally(prices or Prices({}))  # each row's tokens by role, source and model: their sums are the row's totals
    spend.add({"spent": failed_spent or {}})
    labels = Labels()
    figures = Figures()
    previous = _previous_files(out_dir)
    with ExitStack() as stack:
        files = _Files(out_dir, rules.kinds, fmt, stack)
        for row in journal_rows:
            built = rows_of(row, rules, base)
            files.write(built)
            total.add_counts(built)
            for pair in (r for kind in rules.kinds for r in built.dpo[kind]):
                labels.add_pair(len(_text(pair["chosen"])), len(_text(pair["rejected"])))
            for decision in decisions_of(row):
                labels.add(decision)
            figures.add(built.outcomes, row)
            spend.add(row)
            invalid += invalid_verdicts(row)
            done += 1
        files.close()
    report = labels.report({s["name"]: s["models"] for s in base["sources"]}, evaluator_models(config["evaluator"]))
    rows_written = {path.name: files.counts[key] for key, path in files.paths.items()}
    balance = {files.paths[kind, "kto"].name: kto_balance(files.desirable[kind], files.counts[kind, "kto"]) for kind in rules.kinds}
    for stale in previous - set(rows_written):  # files of an earlier export with other kinds or format
        (out_dir / stale).unlink(missing_ok=True)
    summary = {
        "prompts": prompts, "done": done, "failed": len(failed_ids), "failed_ids": failed_ids,
        "rows": rows_written, "balance": balance, "dropped": dict(sorted(total.dropped.items())), "invalid_verdicts": invalid,
        "labels": report, "calibration": calibration,
        "suspect": {"policy": rules.suspect, "screened": total.screened, "flagged": total.flagged.get("any", 0),
                    "by_kind": {kind: total.flagged[kind] for kind in FLAG_KINDS if total.flagged[kind]}},
        "input_tokens": spend.input_tokens, "output_tokens": spend.output_tokens, "spend": spend.report(), "budget": budget,
        "seconds": round(seconds, 1),
        "rules": {"kinds": list(rules.kinds), "min_margin": rules.min_margin, "min_confidence": rules.min_confidence,
                  "suspect": rules.suspect, "conversational": rules.conversational},
        "out": str(out_dir),
    }
    license_id, license_note = license_of(config["prompts"], license)
    meta = {"prompts": config["prompts"], "license": license_id, "license_note": license_note, "fmt": fmt,
            "kinds": list(rules.kinds), "min_margin": rules.min_margin, "min_confidence": rules.min_confidence,
            "conversational": rules.conversational,
            "suspect": rules.suspect}
    charts = write_pngs(out_dir, drawn(figures, summary))  # pictures for the card, which the Hub shows
    if sum(rows_written.values()):  # no card for a dataset without rows
        with atomic_writer(out_dir / "README.md") as handle:
            handle.write(dataset_card(summary, base, meta, charts))
    with atomic_writer(out_dir / "summary.json") as handle:
        handle.write(json.dumps(summary, indent=2) + "\n")
    return summary


def _previous_files(out_dir: Path) -> set[str]:
    try:
        return set(json.loads((out_dir / "summary.json").read_text(encoding="utf-8")).get("rows", {}))
    except (OSError, ValueError, AttributeError):
        return set()


def _write_parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    flat = [{**r, "provenance": json.dumps(r["provenance"], ensure_ascii=False)} for r in rows]
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(flat), tmp)


def journalled_run(out_dir: Path) -> tuple[dict[str, Any], Path, list[Entry], list[str], Spent]:
    """(the run's configuration, its journal, its finished rows' entries in prompt order, the ids that failed, what failed
    tries spent) of `out_dir`."""
    path = out_dir / "journal.jsonl"
    if not path.is_file():
        raise InputError("holds no generate run (no journal.jsonl)", out_dir)
    scan = scan_journal(path)
    if not scan.config or "provenance" not in scan.config:
        raise InputError("was written by an older fellowship that did not record the run's provenance; "
                         "generate it again into a new --out", path, 1)
    return scan.config, path, sorted(scan.done.values(), key=lambda entry: entry.order), scan.failed, scan.failed_spent


def last_summary(out_dir: Path) -> dict[str, Any]:
    """The run's last summary.json, or nothing where it is missing or unreadable (it is rebuilt anyway)."""
    try:
        found = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def rebuild(out_dir: Path, to: Path | None, rules: RowRules, fmt: str, license: str | None,
            prices: dict[str, Price] | None = None) -> dict[str, Any]:
    """`fellowship export`: a generate run's files, summary and card written anew from its journal (into `to`, or
    `out_dir`). The prices the run's last summary recorded hold unless `prices` (from --price) changes them; so does
    what that summary said of its budget."""
    from fellowship.runs.calibration import load as load_calibration

    config, path, entries, failed, failed_spent = journalled_run(out_dir)
    last = last_summary(out_dir)
    recorded = {spec: Price(**figures) for spec, figures in ((last.get("spend") or {}).get("prices") or {}).items()}
    priced = Prices({**recorded, **(prices or {})}, config["context"].get("base_url"))
    return write_dataset(to or out_dir, journal_rows(path, entries), rules, fmt, config, prompts=len(entries) + len(failed),
                         failed_ids=failed, seconds=0.0, license=license, calibration=load_calibration(out_dir),
                         prices=priced, budget=last.get("budget"), failed_spent=failed_spent)
