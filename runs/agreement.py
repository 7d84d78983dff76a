"""Evaluator-human agreement: from recorded evaluator texts, or live runs of our graphs."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING, Any, Literal

from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import read_json
from fellowship.metrics.agreement import (
    accuracy,
    bootstrap_ci,
    cohen_kappa,
    confusion,
    longer_preference,
    rate,
)
from fellowship.parsing.scores import ParseError, parse_pair_scores
from fellowship.readers.labelled import LabelledPair
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.records import Evaluation
from fellowship.state.verdicts import label_of, plurality

if TYPE_CHECKING:  # the CLI reads `Kind` here at its start, before any graph is needed
    from fellowship.runs.runner import Batch

Kind = Literal["judge", "debate"]


async def evaluate_labelled(pair: LabelledPair, *, evaluator: EvaluatorConfig, max_concurrency: int | None = None) -> Evaluation:
    """One live verdict on a labelled pair (a module-level function, so that it pickles for a cluster run)."""
    from fellowship.fileio.pairs import Pair
    from fellowship.graphs.evaluate import evaluate

    return await evaluate(Pair(id=pair.id, question=pair.question, response_a=pair.response_a,
                               response_b=pair.response_b), evaluator, max_concurrency)


async def judge_labelled(pairs: list[LabelledPair], evaluator: EvaluatorConfig, dataset: str, results: Path,
                         batch: Batch) -> list[dict[str, Any]]:
    """The evaluator's rows on labelled pairs, journalled in `results` (`agreement` and `generate --calibrate` alike)."""
    job = partial(evaluate_labelled, evaluator=evaluator, max_concurrency=batch.concurrency)
    return await batch.into_file(results, results_config(evaluator, dataset), pairs, job,
                                 key=lambda p: {"id": p.id, "human": p.human})


def results_config(evaluator: EvaluatorConfig, dataset: str) -> dict[str, Any]:
    """The configuration line of a live run's results journal (`agreement --results`, `generate --calibrate`)."""
    plain: dict[str, Any] = json.loads(json.dumps({"evaluator": evaluator.model_dump(mode="json"), "dataset": dataset}))
    return plain


def _load_records(path: Path, expected: int) -> list[dict[str, Any]]:
    data = read_json(path)
    if not isinstance(data, list):
        raise InputError("expected a JSON list with one record per dataset item", path)
    if len(data) != expected:
        raise InputError(f"holds {len(data)} records but the dataset has {expected} items (same order expected)", path)
    return data


def _judge_label(record: dict[str, Any], path: Path, index: int, as_authors: bool) -> str:
    text = record.get("response")
    if not isinstance(text, str):
        raise InputError("is missing", path, index + 1, "response")
    if as_authors and -1 in (record.get("score_1"), record.get("score_2")):
        return label_of(record["score_1"], record["score_2"])  # the authors compared their -1 like a score
    try:
        return label_of(*parse_pair_scores(text, 10))
    except ParseError:
        return "tie" if as_authors else "invalid"  # the authors' -1 / -1 compares as equal


def _debate_label(record: dict[str, Any], path: Path, index: int, as_authors: bool) -> str:
    scores = []
    for key in ("response_1", "response_2", "response_3"):
        text = record.get(key)
        if not isinstance(text, str):
            raise InputError("is missing", path, index + 1, key)
        try:
            scores.append(parse_pair_scores(text, 10, labels=("1", "2")))
        except ParseError:
            if as_authors:
                scores.append((0.0, 0.0))  # the authors scored unreadable finals 0 / 0
    if not scores:
        return "invalid"
    return label_of(mean(s[0] for s in scores), mean(s[1] for s in scores))


def recorded_labels(pairs: Sequence[LabelledPair], files: Sequence[Path], kind: Kind, as_authors: bool) -> dict[str, list[str]]:
    """Each recorded file's labels, by member name (the file's stem)."""
    read = _judge_label if kind == "judge" else _debate_label
    members: dict[str, list[str]] = {}
    for path in files:
        records = _load_records(path, len(pairs))
        members[path.stem] = [read(r, path, i, as_authors) for i, r in enumerate(records)]
    return members


def jury_labels(members: dict[str, list[str]], names: Sequence[str]) -> list[str]:
    items = len(next(iter(members.values())))
    return [plurality([members[name][i] for name in names]) for i in range(items)]


def report(name: str, pairs: Sequence[LabelledPair], labels: Sequence[str], *, consistency: float | None = None,
           ci_rounds: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The agreement report of one evaluator over the dataset."""
    human = [p.human for p in pairs]
    len_a = [len(p.response_a) for p in pairs]
    len_b = [len(p.response_b) for p in pairs]
    kappa = cohen_kappa(human, labels)
    return {
        "evaluator": name,
        "n": len(pairs),
        "kappa": kappa,
        "kappa_ci": list(bootstrap_ci(human, labels, rounds=ci_rounds, seed=seed)),
        "accuracy": accuracy(human, labels),
        "invalid": sum(label == "invalid" for label in labels),
        "tie_rate_human": rate(human, "tie"),
        "tie_rate_evaluator": rate(labels, "tie"),
        "longer_preferred_human": longer_preference(human, len_a, len_b),
        "longer_preferred_evaluator": longer_preference(labels, len_a, len_b),
        "position_consistency": consistency,
        "confusion": confusion(human, labels),
    }


def all_juries(pairs: Sequence[LabelledPair], members: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Kappa of every jury of two or more of the members, best first."""
    human = [p.human for p in pairs]
    juries = [
        {"members": list(names), "kappa": cohen_kappa(human, jury_labels(members, names))}
        for size in range(2, len(members) + 1)
        for names in itertools.combinations(members, size)
    ]
    return sorted(juries, key=lambda j: -j["kappa"])


def consistency_of(rows: Sequence[dict[str, Any]]) -> float | None:
    """Share of swap-judged verdicts (or jury votes) whose two orders agreed."""
    flags: list[bool] = []
    for row in rows:
        if row.get("consistent") is not None:
            flags.append(bool(row["consistent"]))
        for vote in row.get("votes") or []:
            if vote["judgement"].get("consistent") is not None:
                flags.append(bool(vote["judgement"]["consistent"]))
    return sum(flags) / len(flags) if flags else None
