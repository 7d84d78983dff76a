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
- Responses with text aimed at the evaluator (see `guard.screen`) follow the `suspect`
  policy: `drop` (default) drops every comparison that holds a flagged response, so a
  flagged response is never `chosen`; `reject` makes the flagged response the rejected
  one when the other is clean, whatever the verdict (both flagged: dropped); `keep` only
  records the flags. Each response's flags are in its provenance.

Every row of every kind carries the same provenance keys (null where one does not apply),
so the files of a run load together (`load_dataset("json", data_files="DIR/*_dpo.jsonl")`).
A value that only some kinds have is stored where the others have one too, because
Arrow types a column that is null throughout the first file as null, and will not cast
the next file's values to it: a response's `iteration` is 1 for a single model's answer,
and a review's own score stays in its text (its `score` is null, as the evaluator did not
score it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from fellowship.guard.screen import FLAG_KINDS, Screening, screen
from fellowship.state.records import Candidate, Comparison, DebateVerdict, Evaluation, JuryVerdict, LoopResult

Suspect = Literal["keep", "drop", "reject"]

KINDS = ("single", "workflow")


@dataclass(frozen=True)
class Outcome:
    """What one comparison became: a row (`dropped` None) or a drop and its reason; for reports that show each one."""

    kind: str  # single or workflow
    names: tuple[str, str]  # the sources compared, or a loop's responses ("response 1")
    texts: tuple[str, str]
    verdict: str  # the one the row follows (the suspect policy may have overridden the evaluator's)
    dropped: str | None
    scores: tuple[float | None, float | None]
    confidence: float | None
    evaluation: Evaluation | None
    flags: tuple[tuple[str, ...], tuple[str, ...]]
    flipped: bool = False  # b was shown first

    @property
    def margin(self) -> float | None:
        a, b = self.scores
        return None if a is None or b is None else abs(a - b)


@dataclass
class Rows:
    dpo: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    kto: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    dropped: Counter[str] = field(default_factory=Counter)
    screened: int = 0  # distinct responses screened
    flagged: Counter[str] = field(default_factory=Counter)  # flagged responses, by kind of finding ("any" for all)
    outcomes: list[Outcome] = field(default_factory=list)  # each comparison's (one prompt's: `add_counts` leaves them)

    def add(self, other: "Rows") -> None:
        for kind in KINDS:
            self.dpo[kind] += other.dpo[kind]
            self.kto[kind] += other.kto[kind]
        self.add_counts(other)

    def add_counts(self, other: "Rows") -> None:
        """Add `other`'s counts, not its rows."""
        self.dropped.update(other.dropped)
        self.screened += other.screened
        self.flagged.update(other.flagged)

    def count(self) -> int:
        return sum(len(v) for v in self.dpo.values()) + sum(len(v) for v in self.kto.values())


@dataclass(frozen=True)
class RowRules:
    kinds: tuple[str, ...] = KINDS
    min_margin: float = 0.0
    conversational: bool = False
    suspect: Suspect = "drop"
    min_confidence: float = 0.0


def confidence_of(evaluation: Evaluation | None) -> float | None:
    """The evaluator's probability of its verdict, where it was read (judge and jury; a debate gives none)."""
    return getattr(evaluation, "confidence", None)


def _verdict_problem(verdict: str, consistent: bool | None, score_a: float | None, score_b: float | None, min_margin: float,
                     confidence: float | None = None, min_confidence: float = 0.0) -> str | None:
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
    if min_confidence > 0:
        if confidence is None:
            return "no confidence for the confidence filter"
        if confidence < min_confidence:
            return f"confidence below {min_confidence:g}"
    return None


def _evaluation_summary(evaluation: Evaluation | None) -> dict[str, Any]:
    """The evaluator's orders (judge, debate under swap), votes (jury) or final scores (debate), in one shape for every evaluator."""
    orders = [] if evaluation is None or isinstance(evaluation, JuryVerdict) else evaluation.orders
    return {
        "orders": [o.model_dump(include={"order", "verdict", "score_a", "score_b"}) for o in orders],
        "votes": ([v.model_dump(include={"member", "verdict", "score_a", "score_b"}) for v in evaluation.votes]
                  if isinstance(evaluation, JuryVerdict) else None),
        "finals": ([f.model_dump(include={"referee", "score_a", "score_b"}) for f in evaluation.finals]
                   if isinstance(evaluation, DebateVerdict) else None),
    }


def flag_record(screening: Screening | None) -> dict[str, bool]:
    """Screening's findings as one boolean per kind (a fixed shape, so every file's column types agree)."""
    found = set(screening.flags) if screening is not None else set()
    return {kind: kind in found for kind in FLAG_KINDS}


def response_ref(source: str, kind: str, models: list[str], seed: int | None, iteration: int, score: float | None,
                 screening: Screening | None = None) -> dict[str, Any]:
    """Where a response (or review) came from: the source, its models and seed, which of its responses, its score,
    and what screening found in it."""
    return {"source": source, "kind": kind, "models": models, "seed": seed, "iteration": iteration, "score": score,
            "flags": flag_record(screening)}


def _candidate_ref(candidate: Candidate, score: float | None, screening: Screening) -> dict[str, Any]:
    iteration = candidate.loop.best if candidate.loop is not None else 1
    return response_ref(candidate.name, candidate.kind, candidate.models, candidate.seed, iteration, score, screening)


def _suspect_reason(a: Screening, b: Screening) -> str:
    aimed = [s for s in (a, b) if any(f.kind != "degenerate" for f in s.findings)]
    return "text aimed at the evaluator" if aimed else "degenerate response"


def _margin(chosen: float | None, rejected: float | None) -> float | None:
    return None if chosen is None or rejected is None else chosen - rejected


def _as_messages(role: str, text: str) -> list[dict[str, str]]:
    return [{"role": role, "content": text}]


@dataclass(frozen=True)
class Decision:
    """The comparison a row comes from: what was shown as A and B, and what the evaluator decided."""

    shown: tuple[str, str]
    verdict: str
    consistent: bool | None
    evaluation: Evaluation | None
    margin: float | None = None
    overridden: bool = False  # the suspect policy, not the evaluator, decided which response is chosen
    flipped: bool = False  # b was shown first


class RowBuilder:
    def __init__(self, rules: RowRules, base_provenance: dict[str, Any]) -> None:
        self.rules = rules
        self.base = base_provenance
        self._screenings: dict[str, Screening] = {}  # of the prompt being built: each response screened once

    def _screen(self, text: str, prompt: str) -> Screening:
        if text not in self._screenings:
            self._screenings[text] = screen(text, prompt)
        return self._screenings[text]

    def _provenance(self, kind: str, record: dict[str, Any], decision: Decision, *, chosen: dict[str, Any] | None = None,
                    rejected: dict[str, Any] | None = None, completion: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            **self.base, "kind": kind, "chosen": chosen, "rejected": rejected, "completion": completion,
            "confidence": confidence_of(decision.evaluation),
            "comparison": {"a": decision.shown[0], "b": decision.shown[1], "flipped": decision.flipped, "verdict": decision.verdict,
                           "consistent": decision.consistent, "margin": decision.margin,
                           "suspect": {"policy": self.rules.suspect, "overridden": decision.overridden},
                           "evaluation": _evaluation_summary(decision.evaluation)},
            **record,
        }

    def _text(self, role: str, text: str) -> str | list[dict[str, str]]:
        return _as_messages(role, text) if self.rules.conversational else text

    def _dpo(self, prompt: str, chosen: str, rejected: str, provenance: dict[str, Any]) -> dict[str, Any]:
        return {"prompt": self._text("user", prompt), "chosen": self._text("assistant", chosen),
                "rejected": self._text("assistant", rejected), "provenance": provenance}

    def _kto(self, prompt: str, completion: str, label: bool, provenance: dict[str, Any]) -> dict[str, Any]:
        return {"prompt": self._text("user", prompt), "completion": self._text("assistant", completion), "label": label,
                "provenance": provenance}

    def build(self, prompt: str, candidates: list[Candidate], comparisons: list[Comparison], record: dict[str, Any]) -> Rows:
        rows = Rows()
        self._screenings = {}
        if "single" in self.rules.kinds:
            self._single(rows, prompt, {c.name: c for c in candidates}, comparisons, record)
        if "workflow" in self.rules.kinds:
            for candidate in candidates:
                if candidate.loop is not None:
                    self._workflow(rows, prompt, candidate, record)
        rows.screened = len(self._screenings)
        for found in self._screenings.values():
            rows.flagged.update([*found.flags, "any"] if found.suspect else [])
        return rows

    def _suspect(self, text_a: str, text_b: str, prompt: str, verdict: str) -> tuple[str, bool, str | None, Screening, Screening]:
        """The suspect policy on one comparison: (the verdict to follow, whether the policy overrode the evaluator's,
        why the comparison is dropped as suspect or None, both screenings)."""
        a, b = self._screen(text_a, prompt), self._screen(text_b, prompt)
        if self.rules.suspect == "keep" or not (a.suspect or b.suspect):
            return verdict, False, None, a, b
        if self.rules.suspect == "reject" and a.suspect != b.suspect:
            return ("B" if a.suspect else "A"), True, None, a, b
        return verdict, False, _suspect_reason(a, b), a, b

    def _decide(self, rows: Rows, kind: str, names: tuple[str, str], verdict: str, consistent: bool | None,
                score_a: float | None, score_b: float | None, text_a: str, text_b: str, prompt: str,
                evaluation: Evaluation | None, flipped: bool) -> tuple[str, bool, Screening, Screening] | None:
        """The verdict a row follows, whether the suspect policy overrode the evaluator's, and both screenings;
        None when the comparison is dropped (counted by reason). Either way its outcome is noted."""
        confidence = confidence_of(evaluation)
        verdict, overridden, suspect, a, b = self._suspect(text_a, text_b, prompt, verdict)
        problem = ("identical responses" if text_a.strip() == text_b.strip()
                   else suspect or (None if overridden else _verdict_problem(verdict, consistent, score_a, score_b, self.rules.min_margin,
                                                                             confidence, self.rules.min_confidence)))
        rows.outcomes.append(Outcome(kind, names, (text_a, text_b), verdict, problem, (score_a, score_b), confidence, evaluation,
                                     (tuple(a.flags), tuple(b.flags)), flipped))
        if problem:
            rows.dropped[f"{kind}: {problem}"] += 1
            return None
        return verdict, overridden, a, b

    def _single(self, rows: Rows, prompt: str, by_name: dict[str, Candidate], comparisons: list[Comparison],
                record: dict[str, Any]) -> None:
        # For the KTO rows: each response's labels, and the first comparison that gave it one.
        labels: dict[str, set[bool]] = {}
        decided: dict[str, tuple[Decision, dict[str, Any]]] = {}
        for c in comparisons:
            a, b = by_name[c.a], by_name[c.b]
            kept = self._decide(rows, "single", (c.a, c.b), c.verdict, c.consistent, c.score_a, c.score_b, a.response, b.response,
                                prompt, c.evaluation, c.flipped)
            if kept is None:
                continue
            verdict, overridden, seen_a, seen_b = kept
            (win, win_score, win_seen), (lose, lose_score, lose_seen) = (
                ((a, c.score_a, seen_a), (b, c.score_b, seen_b)) if verdict == "A" else ((b, c.score_b, seen_b), (a, c.score_a, seen_a)))
            chosen, rejected = _candidate_ref(win, win_score, win_seen), _candidate_ref(lose, lose_score, lose_seen)
            decision = Decision((c.a, c.b), c.verdict, c.consistent, c.evaluation, _margin(win_score, lose_score), overridden,
                                c.flipped)
            rows.dpo["single"].append(self._dpo(prompt, win.response, lose.response,
                                                self._provenance("single", record, decision, chosen=chosen, rejected=rejected)))
            for response, label, ref in ((win.response, True, chosen), (lose.response, False, rejected)):
                labels.setdefault(response, set()).add(label)
                decided.setdefault(response, (decision, ref))
        for text, found in labels.items():
            if len(found) > 1:
                rows.dropped["single: conflicting KTO labels"] += 1
                continue
            decision, ref = decided[text]
            rows.kto["single"].append(self._kto(prompt, text, found.pop(), self._provenance("single", record, decision, completion=ref)))

    def _workflow(self, rows: Rows, prompt: str, candidate: Candidate, record: dict[str, Any]) -> None:
        loop: LoopResult | None = candidate.loop
        if loop is None:
            return

        def ref(iteration: int, score: float | None, screening: Screening) -> dict[str, Any]:
            return response_ref(candidate.name, "loop", candidate.models, candidate.seed, iteration, score, screening)

        for bout in loop.bouts:
            text_a, text_b = loop.responses[bout.a - 1], loop.responses[bout.b - 1]
            consistent = bout.evaluation.consistent
            kept = self._decide(rows, "workflow", (f"{candidate.name}: response {bout.a}", f"{candidate.name}: response {bout.b}"),
                                bout.verdict, consistent, bout.score_a, bout.score_b, text_a, text_b, prompt, bout.evaluation,
                                bout.flipped)
            if kept is None:
                continue
            verdict, overridden, seen_a, seen_b = kept
            win, lose = (bout.a, bout.b) if verdict == "A" else (bout.b, bout.a)
            scores = {bout.a: bout.score_a, bout.b: bout.score_b}
            seen = {bout.a: seen_a, bout.b: seen_b}
            decision = Decision((f"response {bout.a}", f"response {bout.b}"), bout.verdict, consistent, bout.evaluation,
                                _margin(scores[win], scores[lose]), overridden, bout.flipped)
            rows.dpo["workflow"].append(self._dpo(prompt, loop.responses[win - 1], loop.responses[lose - 1], self._provenance(
                "workflow", record, decision, chosen=ref(win, scores[win], seen[win]), rejected=ref(lose, scores[lose], seen[lose]))))
        bouts = {bout.b: bout for bout in loop.bouts}
        for review in loop.reviews:
            if review.error is not None:
                rows.dropped["workflow: failed review"] += 1
                continue
            prompted = bouts.get(review.iteration + 1)  # the bout of the revision this review prompted
            if prompted is None:
                rows.dropped["workflow: feedback outcome undecided"] += 1
                continue
            verdict, overridden, suspect, *_ = self._suspect(loop.responses[prompted.a - 1], loop.responses[prompted.b - 1],
                                                             prompt, prompted.verdict)
            if suspect:
                rows.dropped["workflow: feedback outcome suspect"] += 1
                continue
            if verdict not in ("A", "B") or (not overridden and prompted.evaluation.consistent is False):
                rows.dropped["workflow: feedback outcome undecided"] += 1
                continue
            reviewer = response_ref(candidate.name, "reviewer", [review.reviewer], review.seed, review.iteration, None)
            decision = Decision((f"response {prompted.a}", f"response {prompted.b}"), prompted.verdict,
                                prompted.evaluation.consistent, prompted.evaluation, _margin(prompted.score_b, prompted.score_a),
                                overridden, prompted.flipped)
            rows.kto["workflow"].append(self._kto(review.request, review.raw[0], verdict == "B", self._provenance(
                "workflow-feedback", record, decision, completion=reviewer)))
