"""The paper's published numbers next to the same numbers recomputed from the authors' recorded texts.

Published kappas are the authors' own result files (`paper-outputs/reported-kappa`, which
the paper's tables round); the win rates are the paper's table. Recomputed numbers come
from this project's parsers and metrics. A number that differs only because the authors'
parser could not read some texts (they recorded -1, or scored an unreadable debate final
0/0) is explained, and `as_authors` recomputes it their way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from fellowship.data.store import root_of
from fellowship.fileio.jsonl import read_json
from fellowship.metrics.agreement import cohen_kappa
from fellowship.parsing.scores import ParseError, parse_pair_scores
from fellowship.readers.named import read_named
from fellowship.runs.agreement import jury_labels, recorded_labels
from fellowship.runs.winrate import recorded_winrate

Table = Literal["judge", "debate", "jury", "winrate"]
Status = Literal["match", "explained", "differs"]
TABLES: tuple[Table, ...] = ("judge", "debate", "jury", "winrate")
MODELS = ("gpt-4o", "gpt-4o-mini", "Meta-Llama-3.1-70B-Instruct-Turbo", "Meta-Llama-3.1-8B-Instruct-Turbo",
          "gemma-2-27b-it", "gemma-2-9b-it")
DATASETS = {"fair-eval": "Fair-Eval", "pandalm-eval": "PandaLM-Eval"}  # ours: the authors' result folder
LLAMA, GEMMA = "Meta-Llama-3.1-8B-Instruct-Turbo", "gemma-2-9b-it"
# The paper's win-rate table (percent of 500 Capybara prompts where the loop's output won).
WIN_RATES = {
    (LLAMA, LLAMA): (65.8, 65.6, 47.8), (LLAMA, GEMMA): (71.8, 73.8, 49.0), (LLAMA, "both"): (68.2, 69.4, 48.6),
    (GEMMA, LLAMA): (61.8, 47.8, 41.2), (GEMMA, GEMMA): (64.8, 52.6, 41.4), (GEMMA, "both"): (67.6, 52.4, 42.0),
}
BASELINES = ("llama", "gemma", "gpt")


class Number(BaseModel):
    table: Table
    dataset: str
    evaluator: str
    published: float
    recomputed: float
    status: Status
    explanation: str = ""


def _short(name: str) -> str:
    return name.replace("Meta-Llama-3.1-", "Llama-").replace("-Instruct-Turbo", "").replace("-it", "")


def _unreadable_by_authors(path: Path, kind: str) -> int:
    """Texts the authors' parser could not read but ours does (judge: they recorded -1)."""
    count = 0
    for record in read_json(path):
        if kind == "judge" and -1 in (record.get("score_1"), record.get("score_2")):
            try:
                parse_pair_scores(record["response"], 10)
                count += 1
            except ParseError:
                pass
        if kind == "debate":
            for key in ("response_1", "response_2", "response_3"):
                try:
                    parse_pair_scores(record.get(key) or "", 10, labels=("1", "2"))
                except ParseError:
                    count += 1
    return count


def _status(published: float, ours: float, theirs: float, why: str, digits: int = 3) -> tuple[Status, str]:
    if round(ours, digits) == round(published, digits):
        return "match", ""
    if round(theirs, digits) == round(published, digits):
        return "explained", f"{why}; as the authors scored them (--as-authors): {theirs:.{digits}f}"
    return "differs", f"as the authors scored them: {theirs:.{digits}f}"


def _agreement(dataset: str, as_authors: bool, tables: set[str]) -> Iterator[Number]:
    root = root_of("paper-outputs") / "paper-outputs" / dataset
    reported = root_of("paper-outputs") / "paper-outputs" / "reported-kappa" / DATASETS[dataset]
    pairs = read_named(f"paper-outputs/{dataset}")
    human = [p.human for p in pairs]
    judges = [root / "combined-scoring-10" / f"{m}.json" for m in MODELS]
    ours = recorded_labels(pairs, judges, "judge", as_authors=as_authors)
    theirs = recorded_labels(pairs, judges, "judge", as_authors=True)
    unread = {path.stem: _unreadable_by_authors(path, "judge") for path in judges}

    def why(members: list[str]) -> str:
        counts = [f"{unread[m]} of {_short(m)}'s" for m in members if unread[m]]
        return f"{' and '.join(counts)} texts the authors could not parse (they recorded -1) are read by ours"

    if "judge" in tables:
        for (members, published) in read_json(reported / "llm-as-a-judge.json"):
            (name,) = members
            value, authors = cohen_kappa(human, ours[name]), cohen_kappa(human, theirs[name])
            status, note = _status(published, value, authors, why([name]))
            yield Number(table="judge", dataset=dataset, evaluator=_short(name), published=published, recomputed=value,
                         status=status, explanation=note)
    if "debate" in tables:
        for (members, published) in read_json(reported / "llm-debate.json"):
            path = root / "debate" / f"{members[0]}.json"
            if not path.is_file():
                continue  # the authors kept the debate texts of this judge for FairEval only
            debate_labels = recorded_labels(pairs, [path], "debate", as_authors=as_authors)[path.stem]
            debate_authors = recorded_labels(pairs, [path], "debate", as_authors=True)[path.stem]
            unreadable = _unreadable_by_authors(path, "debate")
            status, note = _status(published, cohen_kappa(human, debate_labels), cohen_kappa(human, debate_authors),
                                   f"{unreadable} final texts have no readable scores: ours leaves them out of the referees' mean, "
                                   "the authors scored them 0/0")
            yield Number(table="debate", dataset=dataset, evaluator=f"debate {_short(members[0])}", published=published,
                         recomputed=cohen_kappa(human, debate_labels), status=status, explanation=note)
    if "jury" in tables:
        for (members, published) in read_json(reported / "llms-as-a-jury.json"):
            value = cohen_kappa(human, jury_labels(ours, members))
            authors = cohen_kappa(human, jury_labels(theirs, members))
            status, note = _status(published, value, authors, why(members))
            yield Number(table="jury", dataset=dataset, evaluator=" + ".join(_short(m) for m in members), published=published,
                         recomputed=value, status=status, explanation=note)


def _win_rates() -> Iterator[Number]:
    root = root_of("paper-outputs") / "paper-outputs" / "capybara-winrate"
    for (generator, reviewer), published in WIN_RATES.items():
        for baseline, expected in zip(BASELINES, published):
            path = root / f"{generator}__{reviewer}__vs_{baseline}.json"
            value = 100 * recorded_winrate(path)["win_rate"]
            status, note = _status(expected, value, value, "", digits=1)
            yield Number(table="winrate", dataset="capybara", evaluator=f"{_short(generator)} → {_short(reviewer)} vs {baseline}",
                         published=expected, recomputed=value, status=status, explanation=note)


def reproduce(tables: set[str], as_authors: bool = False) -> list[Number]:
    """Every published number with recorded outputs behind it, in the chosen tables."""
    numbers = list(itertools.chain.from_iterable(_agreement(d, as_authors, tables) for d in DATASETS))
    order = {t: i for i, t in enumerate(TABLES)}
    numbers.sort(key=lambda n: (order[n.table], n.dataset))
    if "winrate" in tables:
        numbers += list(_win_rates())
    return numbers


def summary(numbers: list[Number]) -> dict[str, Any]:
    counts = {s: sum(n.status == s for n in numbers) for s in ("match", "explained", "differs")}
    return {"numbers": len(numbers), **counts}
