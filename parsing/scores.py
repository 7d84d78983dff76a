"""Read scores and choices out of free-form evaluator replies.

Every parser raises `ParseError` with a short reason when the reply does not hold a
well-formed answer; nothing here guesses a tie or clips a score into range.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

Choice = Literal["A", "B", "tie"]


class ParseError(ValueError):
    """The reply holds no answer in the expected format."""


_NUMBER = r"(-?\d+(?:\.\d+)?)"
# Markdown decoration models like to wrap around labels and numbers.
_DECOR = r"[\s*_`#>\[\]]*"


def _score_pattern(label_words: str, label: str) -> re.Pattern[str]:
    return re.compile(
        rf"score{_DECOR}(?:for{_DECOR})?(?:{label_words}){_DECOR}{label}\b{_DECOR}"
        rf"(?:\([^)\n]*\))?{_DECOR}[:=\-]?{_DECOR}{_NUMBER}{_DECOR}(?:(?:/|out\s+of){_DECOR}(\d+))?",
        re.IGNORECASE,
    )


def _checked(value: str, denominator: str | None, scale: int, what: str) -> float:
    score = float(value)
    if denominator is not None and int(denominator) != scale:
        raise ParseError(f"{what} is given out of {denominator}, expected out of {scale}")
    if not 0 <= score <= scale:
        raise ParseError(f"{what} {value} is outside the scale 0-{scale}")
    return score


def _lines(texts: Sequence[str]) -> set[str]:
    return {_plain_line(line) for text in texts for line in text.splitlines() if line.strip()}


def _plain_line(line: str) -> str:
    return " ".join(line.strip(" \t*_`#>").lower().split())


def _own(matches: list[re.Match[str]], text: str, quoted: Sequence[str]) -> list[re.Match[str]]:
    """The matches on lines the model wrote itself: a line that stands in a quoted text is a copy."""
    if not quoted:
        return matches
    copied = _lines(quoted)

    def line_of(match: re.Match[str]) -> str:
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        return _plain_line(text[start: len(text) if end < 0 else end])

    return [m for m in matches if line_of(m) not in copied]


def parse_pair_scores(
    text: str, scale: int, labels: tuple[str, str] = ("A", "B"), *, last: bool = False, quoted: Sequence[str] = ()
) -> tuple[float, float]:
    """Scores of both responses from a combined-scoring reply (`Score Assistant A: X/N`).

    By default the first occurrence of each label is read, as the paper's authors did (a
    model that "re-evaluates" after scoring does not get a second say): recorded texts are
    read so. A live evaluator's reply is read with `last`: its final answer block, so a
    score line it copied or quoted earlier does not count; and a line that stands in one
    of the `quoted` texts (the responses as it was shown them) is never its answer.
    """
    scores = []
    for label in labels:
        chosen = pair_score_match(text, label, last=last, quoted=quoted)
        if chosen is None:
            raise ParseError(f"no 'Score Assistant {label}: X/{scale}' line")
        scores.append(_checked(chosen.group(1), chosen.group(2), scale, f"score of {label}"))
    return scores[0], scores[1]


def pair_score_match(text: str, label: str, *, last: bool = False, quoted: Sequence[str] = ()) -> re.Match[str] | None:
    """The score line of `label` that `parse_pair_scores` reads (its value is group 1), or None."""
    matches = _own(list(_score_pattern(r"assistant|response|answer", re.escape(label)).finditer(text)), text, quoted)
    return (matches[-1] if last else matches[0]) if matches else None


_OVERALL = re.compile(
    rf"overall{_DECOR}score{_DECOR}[:=\-]?{_DECOR}{_NUMBER}{_DECOR}(?:(?:/|out\s+of){_DECOR}(\d+))?",
    re.IGNORECASE,
)


def parse_overall_score(text: str, scale: int = 10, *, quoted: Sequence[str] = ()) -> float:
    """The score of a single-response reply (`Overall Score: X/10`): its last one not copied from a `quoted` text."""
    last = overall_score_match(text, quoted)
    if last is None:
        raise ParseError(f"no 'Overall Score: X/{scale}' line")
    return _checked(last.group(1), last.group(2), scale, "overall score")


def overall_score_match(text: str, quoted: Sequence[str] = ()) -> re.Match[str] | None:
    """The `Overall Score` line that `parse_overall_score` reads (its value is group 1), or None."""
    matches = _own(list(_OVERALL.finditer(text)), text, quoted)
    return matches[-1] if matches else None


_CHOICE = re.compile(
    rf"(?:final{_DECOR})?(?:verdict|answer|choice|decision){_DECOR}(?:is)?{_DECOR}[:=\-]?{_DECOR}"
    rf"(?:assistant|response|option)?{_DECOR}([ABC])\b",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"\[\[\s*([ABC])\s*\]\]")


def parse_choice(text: str, *, quoted: Sequence[str] = ()) -> Choice:
    """The answer of a direct comparison: A, B, or C for a tie (the last one not copied from a `quoted` text)."""
    found = choice_match(text, quoted)
    if found is None:
        stripped = text.strip().strip("*_`#.[]() ").upper()
        if stripped in {"A", "B", "C"}:
            letter = stripped
        else:
            raise ParseError("no 'Verdict: A', 'Verdict: B' or 'Verdict: C' line")
    else:
        letter = found.group(1).upper()
    return "A" if letter == "A" else "B" if letter == "B" else "tie"  # the prompt's C is a tie


def choice_match(text: str, quoted: Sequence[str] = ()) -> re.Match[str] | None:
    """The verdict line that `parse_choice` reads (its letter is group 1), or None (a bare letter has no line)."""
    matches = _own(list(_CHOICE.finditer(text)), text, quoted) or _own(list(_BRACKETED.finditer(text)), text, quoted)
    return matches[-1] if matches else None


def explanation_of(text: str) -> str:
    """The reasoning part of a reply: everything before the first score or verdict line."""
    cut = re.search(r"(?im)^[\s*#>_]*(?:score|overall\s+score|(?:final\s+)?verdict)\b", text)
    return (text[: cut.start()] if cut else text).strip()
