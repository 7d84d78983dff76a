"""An evaluator's decision read as a probability from token log-probabilities (hand-made tokens, known answers)."""

from __future__ import annotations

import math

import pytest

from fellowship.parsing.confidence import (
    choice_distribution,
    choice_outcomes,
    pair_score_distributions,
    score_outcomes,
)
from fellowship.parsing.scores import parse_pair_scores


def tok(text: str, p: float, *alternatives: tuple[str, float]) -> dict:
    """One token as OpenAI returns it: written with probability p, its alternatives (the written one among them)."""
    top = [{"token": text, "logprob": math.log(p)}] + [{"token": t, "logprob": math.log(q)} for t, q in alternatives]
    return {"token": text, "logprob": math.log(p), "top_logprobs": top}


def plain(text: str) -> dict:
    return tok(text, 0.99)


def test_a_choice_is_its_letters_share_among_a_b_and_c():
    tokens = [plain("B looks right."), plain("\nVerdict:"), tok(" A", 0.6, (" B", 0.2), ("B", 0.1), (" C", 0.05), (" The", 0.05))]
    dist = choice_distribution(tokens)["choice"]
    # " B" and "B" are one value; " The" is not a letter: the rest renormalised over A, B and C.
    assert dist == pytest.approx({"A": 0.6 / 0.95, "B": 0.3 / 0.95, "C": 0.05 / 0.95})
    assert choice_outcomes(dist) == pytest.approx({"A": 0.6 / 0.95, "B": 0.3 / 0.95, "tie": 0.05 / 0.95})


def test_the_last_verdict_is_read_and_a_line_copied_from_a_response_is_not():
    tokens = [plain("Verdict:"), tok(" B", 0.9, (" A", 0.1)), plain("\nOn reflection.\nVerdict:"), tok(" A", 0.7, (" B", 0.3))]
    assert choice_distribution(tokens)["choice"] == pytest.approx({"A": 0.7, "B": 0.3})
    copied = [plain("Response B says:\nVerdict: B\n"), plain("Verdict:"), tok(" A", 0.8, (" B", 0.2))]
    # The copied line stands in the response as shown: only the judge's own line is read.
    assert choice_distribution(copied, quoted=["Verdict: B"])["choice"] == pytest.approx({"A": 0.8, "B": 0.2})


def test_two_scores_give_the_chance_that_each_is_higher():
    tokens = [plain("Fine.\n### Score Assistant A:"), tok(" 8", 0.5, (" 7", 0.5)), plain("/10\n### Score Assistant B:"),
              tok(" 7", 1.0)]
    dists = pair_score_distributions(tokens, scale=10)
    assert dists == {"A": pytest.approx({"8": 0.5, "7": 0.5}), "B": pytest.approx({"7": 1.0})}
    assert score_outcomes(dists["A"], dists["B"]) == pytest.approx({"A": 0.5, "B": 0.0, "tie": 0.5})


def test_a_written_ten_stands_for_ten_and_values_off_the_scale_do_not_count():
    # SmolLM2 writes "10" as "1" then "0": the written "1" stands for 10, an alternative "1" would be 1.
    tokens = [plain("### Score Assistant A:"), tok(" 1", 0.6, (" 9", 0.3), (" 11", 0.1)), plain("0/10\n### Score Assistant B:"),
              tok(" 9", 1.0), plain("/10")]
    dists = pair_score_distributions(tokens, scale=10)
    assert dists["A"] == pytest.approx({"10": 0.6 / 0.9, "9": 0.3 / 0.9})
    assert score_outcomes(dists["A"], dists["B"]) == pytest.approx({"A": 0.6 / 0.9, "B": 0.0, "tie": 0.3 / 0.9})


def test_no_answer_in_the_tokens_reads_nothing():
    assert choice_distribution([plain("I cannot decide.")]) is None
    assert pair_score_distributions([plain("### Score Assistant A: 8/10")], scale=10) is None  # B missing


def test_scores_are_read_from_the_line_the_parser_reads_first_or_last():
    tokens = [plain("### Score Assistant A:"), tok(" 3", 0.9, (" 4", 0.1)), plain("/10\n### Score Assistant B:"), tok(" 5", 1.0),
              plain("/10\nOn reflection:\n### Score Assistant A:"), tok(" 8", 0.6, (" 9", 0.4)), plain("/10\n### Score Assistant B:"),
              tok(" 5", 1.0), plain("/10")]
    assert parse_pair_scores("".join(t["token"] for t in tokens), 10) == (3, 5)  # the recorded way: first lines
    assert pair_score_distributions(tokens, scale=10, last=False)["A"] == pytest.approx({"3": 0.9, "4": 0.1})
    assert parse_pair_scores("".join(t["token"] for t in tokens), 10, last=True) == (8, 5)  # a live reply: last lines
    assert pair_score_distributions(tokens, scale=10)["A"] == pytest.approx({"8": 0.6, "9": 0.4})
