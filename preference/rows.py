"""Turn one prompt's candidates and comparisons into DPO and KTO rows.

Rules (also in the README):
- single-model improvement (`single`): each decisive comparison between candidates gives a
  DPO row, chosen = the winner's response, rejected = the loser's. KTO rows come from the
  kept DPO rows: chosen -> label true, rejected -> label false; a response that would get
  both labels is dropped.
- workflow improvement (`workflow`): inside each feedback loop, every decisive knockout bout
  between two of its responses gives a DPO row (later revisions vs earlier ones); and each
  review is a KTO row for the reviewer: desirable when the revision it prompted won its
  bout, undesirable when it lost.
- Filters on every comparison: invalid verdicts, ties, orders that disagreed under swap,
  score margins below the minimum, and identical responses are dropped and counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fellowship.prompts import loop as loop_prompts
from fellowship.state.records import Candidate, Comparison, LoopResult

KINDS = ("single", "workflow")


@dataclass
class Rows:
    dpo: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    kto: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    dropped: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class RowRules:
    kinds: tuple[str, ...] = KINDS
    min_margin: float = 0.0
    conversational: bool = False


def _verdict_problem(verdict: str, consistent: bool | None, score_a: float | None, score_b: float | None, min_margin: float) -> str | None:
    if verdict == "invalid":
        return "invalid verdict"
    if consistent is False:
        return "inconsistent under swap"
    if verdict == "tie":
        return "tie"
    if min_margin > 0:
        if score_a is None or score_b is None:
            return "no scores for the margin filter"
        if abs(score_a - score_b) < min_margin:
            return f"margin below {min_margin:g}"
    return None


def _evaluation_summary(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The evaluator's votes (jury) or final scores (debate), kept small."""
    if "votes" in evaluation:
        return {"votes": [{"member": v["member"], "verdict": v["verdict"], "score_a": v["score_a"], "score_b": v["score_b"]} for v in evaluation["votes"]]}
    if "finals" in evaluation:
        return {"finals": [{"referee": f["referee"], "score_a": f["score_a"], "score_b": f["score_b"]} for f in evaluation["finals"]]}
    return {"orders": evaluation.get("orders", [])}


def _source(candidate: Candidate) -> dict[str, Any]:
    return {"name": candidate.name, "kind": candidate.kind, "models": candidate.models, "seed": candidate.seed}


def _as_messages(role: str, text: str) -> list[dict[str, str]]:
    return [{"role": role, "content": text}]


class RowBuilder:
    def __init__(self, rules: RowRules, base_provenance: dict[str, Any]) -> None:
        self.rules = rules
        self.base = base_provenance

    def _dpo(self, prompt: str, chosen: str, rejected: str, provenance: dict[str, Any]) -> dict[str, Any]:
        if self.rules.conversational:
            row = {"prompt": _as_messages("user", prompt), "chosen": _as_messages("assistant", chosen),
                   "rejected": _as_messages("assistant", rejected)}
        else:
            row = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
        return {**row, "provenance": {**self.base, **provenance}}

    def _kto(self, prompt: str, completion: str, label: bool, provenance: dict[str, Any]) -> dict[str, Any]:
        if self.rules.conversational:
            row = {"prompt": _as_messages("user", prompt), "completion": _as_messages("assistant", completion), "label": label}
        else:
            row = {"prompt": prompt, "completion": completion, "label": label}
        return {**row, "provenance": {**self.base, **provenance}}

    def build(self, prompt: str, candidates: list[Candidate], comparisons: list[Comparison], record: dict[str, Any]) -> Rows:
        rows = Rows()
        if "single" in self.rules.kinds:
            self._single(rows, prompt, {c.name: c for c in candidates}, comparisons, record)
        if "workflow" in self.rules.kinds:
            for candidate in candidates:
                if candidate.loop is not None:
                    self._workflow(rows, prompt, candidate, record)
        return rows

    def _decide(self, rows: Rows, kind: str, verdict: str, consistent: bool | None, score_a: float | None,
                score_b: float | None, text_a: str, text_b: str) -> bool:
        problem = ("identical responses" if text_a.strip() == text_b.strip()
                   else _verdict_problem(verdict, consistent, score_a, score_b, self.rules.min_margin))
        if problem:
            rows.dropped[f"{kind}: {problem}"] += 1
            return False
        return True

    def _single(self, rows: Rows, prompt: str, by_name: dict[str, Candidate], comparisons: list[Comparison], record: dict[str, Any]) -> None:
        for c in comparisons:
            a, b = by_name[c.a], by_name[c.b]
            if not self._decide(rows, "single", c.verdict, c.consistent, c.score_a, c.score_b, a.response, b.response):
                continue
            (win, win_score), (lose, lose_score) = ((a, c.score_a), (b, c.score_b)) if c.verdict == "A" else ((b, c.score_b), (a, c.score_a))
            rows.dpo["single"].append(self._dpo(prompt, win.response, lose.response, {
                "kind": "single", "chosen_source": _source(win), "rejected_source": _source(lose),
                "chosen_score": win_score, "rejected_score": lose_score,
                "margin": None if win_score is None or lose_score is None else win_score - lose_score,
                "verdict": c.verdict, "consistent": c.consistent, "evaluation": _evaluation_summary(c.evaluation),
                **record}))
        labels: dict[str, set[bool]] = {}
        sources: dict[str, dict[str, Any]] = {}
        for row in rows.dpo["single"]:
            for text, label, source in ((row["chosen"], True, row["provenance"]["chosen_source"]), (row["rejected"], False, row["provenance"]["rejected_source"])):
                key = text if isinstance(text, str) else text[0]["content"]
                labels.setdefault(key, set()).add(label)
                sources[key] = source
        for text, found in labels.items():
            if len(found) > 1:
                rows.dropped["single: conflicting KTO labels"] += 1
                continue
            rows.kto["single"].append(self._kto(prompt, text, found.pop(), {"kind": "single", "source": sources[text], **record}))

    def _workflow(self, rows: Rows, prompt: str, candidate: Candidate, record: dict[str, Any]) -> None:
        loop: LoopResult = candidate.loop  # type: ignore[assignment]
        source = {"name": candidate.name, "models": candidate.models, "seed": candidate.seed}
        for bout in loop.bouts:
            text_a, text_b = loop.responses[bout.a - 1], loop.responses[bout.b - 1]
            consistent = bout.evaluation.get("consistent")
            if not self._decide(rows, "workflow", bout.verdict, consistent, bout.score_a, bout.score_b, text_a, text_b):
                continue
            win, lose = (bout.a, bout.b) if bout.verdict == "A" else (bout.b, bout.a)
            scores = {bout.a: bout.score_a, bout.b: bout.score_b}
            rows.dpo["workflow"].append(self._dpo(prompt, loop.responses[win - 1], loop.responses[lose - 1], {
                "kind": "workflow", "loop": source, "chosen_iteration": win, "rejected_iteration": lose,
                "chosen_score": scores[win], "rejected_score": scores[lose],
                "margin": None if scores[win] is None or scores[lose] is None else scores[win] - scores[lose],
                "verdict": bout.verdict, "consistent": consistent, "evaluation": _evaluation_summary(bout.evaluation),
                **record}))
        outcome = {bout.b: bout for bout in loop.bouts}
        for review in loop.reviews:
            if review.error is not None:
                rows.dropped["workflow: failed review"] += 1
                continue
            bout = outcome.get(review.iteration + 1)
            if bout is None or bout.verdict not in ("A", "B") or bout.evaluation.get("consistent") is False:
                rows.dropped["workflow: feedback outcome undecided"] += 1
                continue
            request = loop_prompts.REVIEWER_SYSTEM + "\n\n" + loop_prompts.FIRST_REVIEW.format(
                prompt=prompt, response=loop.responses[review.iteration - 1])
            rows.kto["workflow"].append(self._kto(request, review.raw[0], bout.verdict == "B", {
                "kind": "workflow-feedback", "loop": source, "reviewer": review.reviewer, "iteration": review.iteration,
                "review_score": review.score, "revision_bout": {"a": bout.a, "b": bout.b, "verdict": bout.verdict}, **record}))
