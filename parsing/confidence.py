"""An evaluator's decision as a probability, read from the token log-probabilities of its reply.

Where a backend returns them (OpenAI's chat form: each token with its log-probability and
its most likely alternatives), the answer is found in the tokens the way the parser finds
it in the text, and at the token that holds its value (the letter of a choice, the first
token of a score) the alternatives give the probability of each value the format allows,
as AlpacaEval's weighted annotators read their preference token. Tokens that differ only
in spaces are one value; the token the model wrote stands for the whole value it began
(the "1" of a "10"); alternatives outside the returned ones count as zero, and the rest is
renormalised. Two scores are taken as independent: the probability that A wins is the
chance that A's score is the higher one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from fellowship.parsing.scores import choice_match, overall_score_match, pair_score_match

Tokens = list[dict[str, Any]]
Distribution = dict[str, float]  # a value of the answer (a letter, a score as text) -> its probability
Outcomes = dict[str, float]  # "A", "B", "tie" -> probability


def tokens_of(metadata: dict[str, Any]) -> Tokens | None:
    """The reply's tokens with their log-probabilities, from a message's `response_metadata`, or None."""
    logprobs = metadata.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    return content or None


def _index_at(tokens: Tokens, offset: int) -> int | None:
    position = 0
    for index, token in enumerate(tokens):
        position += len(token["token"])
        if position > offset:
            return index
    return None


def _alternatives(entry: dict[str, Any]) -> dict[str, float]:
    """Probability of each alternative at one position, by its text without spaces (the written token among them)."""
    seen: dict[str, float] = {}
    for alt in [entry, *(entry.get("top_logprobs") or [])]:
        seen.setdefault(alt["token"], math.exp(alt["logprob"]))
    grouped: dict[str, float] = {}
    for token, p in seen.items():
        grouped[token.strip()] = grouped.get(token.strip(), 0.0) + p
    return grouped


def _distribution(tokens: Tokens, match: re.Match[str], allowed: Callable[[str], str | None]) -> Distribution | None:
    index = _index_at(tokens, match.start(1))
    if index is None:
        return None
    written = tokens[index]["token"].strip()
    dist: Distribution = {}
    for token, p in _alternatives(tokens[index]).items():
        value = allowed(match.group(1) if token == written else token)
        if value is not None:
            dist[value] = dist.get(value, 0.0) + p
    total = sum(dist.values())
    return {value: p / total for value, p in dist.items()} if total > 0 else None


def _score_on(scale: int) -> Callable[[str], str | None]:
    def allowed(text: str) -> str | None:
        text = text.strip().rstrip("/").strip()
        try:
            value = float(text)
        except ValueError:
            return None
        return f"{value:g}" if 0 <= value <= scale else None

    return allowed


def _letter(text: str) -> str | None:
    text = text.strip().upper()
    return text if text in ("A", "B", "C") else None


def choice_distribution(tokens: Tokens, quoted: Sequence[str] = ()) -> dict[str, Distribution] | None:
    """A direct comparison's letter (A, B or C for a tie): its distribution where the parser reads it."""
    found = choice_match("".join(t["token"] for t in tokens), quoted)
    dist = _distribution(tokens, found, _letter) if found else None
    return {"choice": dist} if dist else None


def pair_score_distributions(tokens: Tokens, quoted: Sequence[str] = (), *, scale: int,
                             last: bool = True) -> dict[str, Distribution] | None:
    """Both scores of a combined-scoring reply, each where the parser reads it (`last`: a live reply's last line)."""
    text = "".join(t["token"] for t in tokens)
    out = {}
    for label in ("A", "B"):
        found = pair_score_match(text, label, last=last, quoted=quoted)
        dist = _distribution(tokens, found, _score_on(scale)) if found else None
        if dist is None:
            return None
        out[label] = dist
    return out


def overall_score_distribution(tokens: Tokens, quoted: Sequence[str] = (), *, scale: int = 10) -> dict[str, Distribution] | None:
    """A single response's score, where the parser reads it (its last line)."""
    found = overall_score_match("".join(t["token"] for t in tokens), quoted)
    dist = _distribution(tokens, found, _score_on(scale)) if found else None
    return {"score": dist} if dist else None


def choice_outcomes(choice: Distribution) -> Outcomes:
    return {"A": choice.get("A", 0.0), "B": choice.get("B", 0.0), "tie": choice.get("C", 0.0)}


def score_outcomes(a: Distribution, b: Distribution) -> Outcomes:
    """The chances that A's score is higher, lower, or equal, the two scores independent."""
    out = {"A": 0.0, "B": 0.0, "tie": 0.0}
    for score_a, pa in a.items():
        for score_b, pb in b.items():
            key = "A" if float(score_a) > float(score_b) else "B" if float(score_a) < float(score_b) else "tie"
            out[key] += pa * pb
    return out
