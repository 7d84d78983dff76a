"""What a report shows, read from what a command left: a `generate` folder, or the results file of `agreement` or
`winrate`. Each gives facts, charts, and its items as rows of the browser (texts, verdict, outcome, provenance)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fellowship.fileio.errors import InputError
from fellowship.preference import charts
from fellowship.preference.card import dollars
from fellowship.preference.figures import KEPT, Figures
from fellowship.preference.rows import Outcome, RowRules
from fellowship.runs.export import journalled_run, last_summary, rows_of
from fellowship.runs.journal import journal_rows, scan_journal
from fellowship.state.records import DebateVerdict, Evaluation, JuryVerdict, Verdict


@dataclass
class Report:
    """Everything the page shows. `rows` are the browser's items; each row's `tags` hold its values for each filter."""

    title: str
    facts: list[str]
    charts: dict[str, tuple[str, charts.Figure]]
    filters: list[tuple[str, str]]  # (tag, label)
    noun: str  # what a row of the browser is ("comparisons", "pairs", "prompts")
    sides: tuple[str, str] = ("chosen", "rejected")  # what the picked and the other text of a row are called
    item_name: str = "prompt"  # what a row's id names
    warnings: list[str] = field(default_factory=list)
    prompts: list[dict[str, str]] = field(default_factory=list)  # id and text, once each
    rows: list[dict[str, Any]] = field(default_factory=list)
    margin_filter: bool = False


def explanation(evaluation: Evaluation | None) -> str:
    """What the evaluator wrote about its decision: a judge's explanation, each jury member's, or the referees' closing
    replies."""
    if isinstance(evaluation, Verdict):
        return evaluation.explanation or (evaluation.raw[-1] if evaluation.raw else evaluation.ruled or "")
    if isinstance(evaluation, JuryVerdict):
        return "\n\n".join(f"[{vote.member}, seat {vote.seat + 1}: {vote.verdict}] {explanation(vote.judgement)}"
                           for vote in evaluation.votes) or evaluation.ruled or ""
    if isinstance(evaluation, DebateVerdict):
        closing = [f"[{final.referee}] {final.raw[-1] if final.raw else ''}" for final in evaluation.finals]
        return "\n\n".join(closing) or evaluation.ruled or ""
    return "no evaluator was asked (the two responses are identical)"


def evaluator_of(evaluation: Evaluation | None) -> str:
    if isinstance(evaluation, Verdict):
        return evaluation.model
    if isinstance(evaluation, JuryVerdict):
        return "jury: " + ", ".join(vote.member for vote in evaluation.votes)
    if isinstance(evaluation, DebateVerdict):
        return "debate: " + ", ".join(dict.fromkeys(final.model for final in evaluation.finals))
    return ""


def _evaluation(data: dict[str, Any] | None) -> Evaluation | None:
    """A journalled evaluation, read back as its record (a jury's has votes, a debate's rounds)."""
    if not data:
        return None
    kind = JuryVerdict if "votes" in data else DebateVerdict if "rounds" in data else Verdict
    return kind.model_validate(data)


def item(prompt: int, item_id: str, names: tuple[str, str], texts: tuple[str, str], verdict: str, outcome: str,
         chosen: str | None, scores: tuple[float | None, float | None], evaluation: Evaluation | None,
         sources: tuple[dict[str, Any], dict[str, Any]], tags: dict[str, list[str]], **more: Any) -> dict[str, Any]:
    """One row of the browser, in the shape its script reads."""
    a, b = scores
    return {"prompt": prompt, "id": item_id, "a": names[0], "b": names[1], "text_a": texts[0], "text_b": texts[1],
            "verdict": verdict, "outcome": outcome, "chosen": chosen, "score_a": a, "score_b": b,
            "margin": None if a is None or b is None else abs(a - b), "confidence": getattr(evaluation, "confidence", None),
            "explanation": explanation(evaluation), "evaluator": evaluator_of(evaluation), "from_a": sources[0],
            "from_b": sources[1], "tags": tags, "flipped": None, "flags_a": [], "flags_b": [], "trace_id": None, **more}


# -- a generate run ---------------------------------------------------------------------------------------------------


def _source(row: dict[str, Any], name: str) -> dict[str, Any]:
    """Where a compared text came from: a source of the prompt, or one of its loop's responses ("loop: response 2")."""
    source, _, response = name.partition(": response ")
    found: dict[str, Any] = next((c for c in row["candidates"] if c["name"] == source), {})
    return {"source": source, "models": found.get("models", []), "seed": found.get("seed"),
            "iteration": int(response) if response else ((found.get("loop") or {}).get("best") or 1)}


def comparison_row(row: dict[str, Any], prompt: int, outcome: Outcome) -> dict[str, Any]:
    kept = outcome.dropped is None
    sources = (_source(row, outcome.names[0]), _source(row, outcome.names[1]))
    shown = KEPT if kept else str(outcome.dropped)
    return item(prompt, str(row["id"]), outcome.names, outcome.texts, outcome.verdict, shown,
                ("a" if outcome.verdict == "A" else "b") if kept else None, outcome.scores, outcome.evaluation, sources,
                {"kind": [outcome.kind], "source": [s["source"] for s in sources], "outcome": [shown]}, flipped=outcome.flipped,
                flags_a=list(outcome.flags[0]), flags_b=list(outcome.flags[1]), trace_id=row.get("trace_id"),
                confidence=outcome.confidence)


def run_facts(summary: dict[str, Any]) -> list[str]:
    spend = summary.get("spend") or {}
    rows = ", ".join(f"{name} {count:,}" for name, count in summary.get("rows", {}).items())
    found = [f"{summary['done']} of {summary['prompts']} prompts done ({summary['failed']} failed)", f"rows: {rows}",
             f"{summary.get('invalid_verdicts', 0)} invalid verdicts",
             f"{spend.get('input_tokens', 0):,} input and {spend.get('output_tokens', 0):,} output tokens",
             f"cost {dollars(spend.get('dollars'))}"]
    return found + ([f"{summary['seconds']:,} s"] if summary.get("seconds") else [])


def from_run(out_dir: Path) -> Report:
    """A generate run's folder (its journal and summary.json), read in one pass over the journal."""
    config, path, entries, _, _ = journalled_run(out_dir)
    if not (summary := last_summary(out_dir)):
        raise InputError("has no readable summary.json: run `fellowship export --out DIR` to write it", out_dir)
    given = summary.get("rules") or {"suspect": (summary.get("suspect") or {}).get("policy", "drop")}
    rules = RowRules(**{**given, "kinds": tuple(given.get("kinds", RowRules.kinds))})
    figures = Figures()
    found = Report(f"Preference data from {config['prompts']}", run_facts(summary), {}, noun="comparisons",
                   filters=[("kind", "kind"), ("source", "source"), ("outcome", "kept or dropped")], margin_filter=True,
                   warnings=(summary.get("labels") or {}).get("warnings", []))
    for row in journal_rows(path, entries):
        built = rows_of(row, rules, config["provenance"])
        figures.add(built.outcomes, row)
        found.prompts.append({"id": str(row["id"]), "text": row["prompt"]})
        found.rows += [comparison_row(row, len(found.prompts) - 1, outcome) for outcome in built.outcomes]
    found.charts = charts.drawn(figures, summary)
    return found


# -- results files ----------------------------------------------------------------------------------------------------


def _results(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A results journal's configuration and its finished rows, in file order."""
    scan = scan_journal(path)
    return scan.config or {}, list(journal_rows(path, sorted(scan.done.values(), key=lambda entry: entry.offset)))


def _side(name: str, models: list[str]) -> dict[str, Any]:
    return {"source": name, "models": models, "seed": None, "iteration": 1}


def from_agreement(path: Path, config: dict[str, Any]) -> Report:
    """`agreement --results`: the evaluator's verdicts beside the human labels, the pairs' texts read from the dataset."""
    from fellowship.data.store import DataMissing
    from fellowship.readers.named import read_dataset
    from fellowship.runs.agreement import consistency_of
    from fellowship.runs.agreement import report as agreement_report

    _, rows = _results(path)
    try:
        pairs = {p.id: p for p in read_dataset(config["dataset"], None, "test")}
    except (InputError, DataMissing) as exc:
        raise InputError(f"the pairs of its dataset {config['dataset']!r} cannot be read: {exc}", path) from None
    rows = [row for row in rows if row["id"] in pairs]
    evaluator = config.get("evaluator") or {}
    name = f"{evaluator.get('kind', 'judge')} " + ", ".join(evaluator.get("members") or [evaluator.get("model", "")])
    measured = agreement_report(name, [pairs[row["id"]] for row in rows], [row["verdict"] for row in rows],
                                consistency=consistency_of(rows))
    low, high = measured["kappa_ci"]
    found = Report(f"Agreement with humans: {name} on {config['dataset']}",
                   [f"{measured['n']} pairs", f"Cohen's kappa {measured['kappa']:.3f} (95% CI {low:.3f} to {high:.3f})",
                    f"accuracy {measured['accuracy']:.1%}", f"{measured['invalid']} invalid verdicts"],
                   charts.agreement_charts(measured), noun="pairs",
                   filters=[("human", "human label"), ("verdict", "evaluator's verdict"), ("outcome", "agreement")],
                   sides=("the evaluator's pick", "not picked"), item_name="pair")
    models = list(evaluator.get("members") or evaluator.get("referee_models") or [evaluator.get("model", "")])
    for row in rows:
        pair = pairs[row["id"]]
        found.prompts.append({"id": pair.id, "text": pair.question})
        agrees = "agrees" if row["verdict"] == pair.human else "disagrees"
        found.rows.append(item(
            len(found.prompts) - 1, pair.id, ("response A", "response B"), (pair.response_a, pair.response_b), row["verdict"],
            agrees, {"A": "a", "B": "b"}.get(row["verdict"]), (row.get("score_a"), row.get("score_b")), _evaluation(row),
            (_side("A", []), _side("B", [])), {"human": [pair.human], "verdict": [row["verdict"]], "outcome": [agrees]},
            human=pair.human, evaluator=", ".join(models)))
    return found


def from_winrate(path: Path, config: dict[str, Any]) -> Report:
    """`winrate --results`: the loop's best response (A) against the baseline's answer (B), per prompt."""
    from fellowship.metrics.winrate import win_report

    _, rows = _results(path)
    measured = win_report([row["verdict"] for row in rows])
    loop = config.get("loop") or {}
    name = f"loop {loop.get('generator')} → {', '.join(loop.get('reviewers') or [])} vs {config.get('baseline')}"
    low, high = measured["win_rate_ci"]
    found = Report(f"Win rate: {name}", [f"{measured['n']} prompts", f"win rate {measured['win_rate']:.1%} "
                                         f"(95% CI {low:.1%} to {high:.1%})", f"ties {measured['ties']}",
                                         f"invalid {measured['invalid']}"],
                   charts.winrate_charts(measured), noun="prompts", filters=[("verdict", "verdict")],
                   sides=("the evaluator's pick", "not picked"))
    loop_models = [loop.get("generator", ""), *(loop.get("reviewers") or [])]
    for row in rows:
        found.prompts.append({"id": str(row["id"]), "text": row["prompt"]})
        result = row.get("loop") or {}
        outcome = {"A": "the loop wins", "B": "the baseline wins"}.get(row["verdict"], row["verdict"])
        found.rows.append(item(
            len(found.prompts) - 1, str(row["id"]), ("loop (best response)", "baseline"),
            (result.get("best_response", ""), row.get("baseline_response", "")), row["verdict"], outcome,
            {"A": "a", "B": "b"}.get(row["verdict"]), (row.get("score_a"), row.get("score_b")), _evaluation(row.get("evaluation")),
            ({**_side("loop", loop_models), "iteration": result.get("best") or 1}, _side("baseline", [str(config.get("baseline"))])),
            {"verdict": [outcome]}, flipped=bool(row.get("flipped"))))
    return found


def collect(path: Path) -> Report:
    """The report of a generate folder, or of an agreement or winrate results file."""
    if path.is_dir():
        return from_run(path)
    config = scan_journal(path).config or {}
    if "dataset" in config and "evaluator" in config:
        return from_agreement(path, config)
    if "baseline" in config and "loop" in config:
        return from_winrate(path, config)
    raise InputError("is not a generate run's folder, nor the results file of `agreement` or `winrate`", path)
