"""Label-quality diagnostics on hand-made decisions with known answers, and their warnings."""

from __future__ import annotations

import pytest

from fellowship.metrics.labels import Decision, binomial_p, label_report

LONG, SHORT = len("a long and careful answer"), len("short")  # the lengths of a kept pair's two answers


def decisions(n: int, first_wins: bool = True, flipped_every: int = 2) -> list[Decision]:
    """n comparisons of sources x and y, every `flipped_every`-th shown y first."""
    out = []
    for i in range(n):
        flipped = i % flipped_every == 1
        shown_first_is_a = not flipped
        verdict = ("A" if shown_first_is_a else "B") if first_wins else ("B" if shown_first_is_a else "A")
        out.append(Decision("single", "x", "y", verdict, flipped, None, 8, 3))
    return out


def test_a_judge_that_always_picks_the_first_shown_is_caught():
    report = label_report(decisions(10), [(LONG, SHORT)] * 5 + [(SHORT, LONG)] * 5, {"x": ["m1"], "y": ["m2"]}, ["judge"])
    pos = report["position"]
    assert (pos["count"], pos["n"], pos["share"]) == (10, 10, 1.0)
    assert pos["ci"][0] == pytest.approx(0.722, abs=1e-3) and pos["p_value"] == pytest.approx(2 / 1024)
    assert report["sources"] == {"x": {"n": 10, "wins": 5, "win_rate": 0.5}, "y": {"n": 10, "wins": 5, "win_rate": 0.5}}
    assert len(report["warnings"]) == 1 and "10 of 10 decisive verdicts went to the answer shown first" in report["warnings"][0]
    assert "--swap" in report["warnings"][0]


def test_a_judge_that_always_picks_the_longer_is_caught():
    pairs = [(LONG, SHORT)] * 9 + [(SHORT, LONG)]
    report = label_report(decisions(10, flipped_every=2), pairs, {}, [])
    size = report["length"]
    assert (size["count"], size["n"], size["share"]) == (9, 10, 0.9) and size["median_ratio"] == pytest.approx(LONG / SHORT)
    assert any("chosen is the longer answer in 90% of 10 pairs" in w for w in report["warnings"])


def test_a_judge_that_prefers_its_own_model_is_caught():
    # x is written by the judge's model and wins 8 of 10; y wins 2.
    own = [Decision("single", "x", "y", "A" if i < 8 else "B", i % 2 == 1) for i in range(10)]
    report = label_report(own, [], {"x": ["judge-model"], "y": ["other"]}, ["judge-model"])
    (entry,) = report["self_preference"]
    assert (entry["source"], entry["win_rate"], entry["others_win_rate"]) == ("x", 0.8, 0.2)
    assert any("possible self-preference" in w for w in report["warnings"])


def test_a_balanced_run_raises_no_warning():
    balanced = [Decision("single", "x", "y", "A" if i % 2 else "B", i % 4 < 2, True, 6, 4) for i in range(12)]
    report = label_report(balanced, [(LONG, SHORT), (SHORT, LONG)] * 3, {"x": ["judge"], "y": ["other"]}, ["judge"])
    assert report["position"]["share"] == 0.5 and report["length"]["share"] == 0.5
    assert report["position"]["swap_consistency"]["share"] == 1.0 and report["margins"]["median"] == 2
    assert report["warnings"] == []


def test_ties_and_invalid_verdicts_are_not_decisive_and_few_verdicts_warn_nothing():
    few = decisions(4) + [Decision("single", "x", "y", "tie"), Decision("workflow", "response 1", "response 2", "invalid")]
    report = label_report(few, [], {}, [])
    assert (report["decisions"], report["decisive"], report["position"]["n"]) == (6, 4, 4)
    assert report["warnings"] == []  # 4 of 4 is too few to say


def test_binomial_p_value():
    assert binomial_p(5, 10) == pytest.approx(1.0)
    assert binomial_p(9, 10) == pytest.approx(22 / 1024)
    assert binomial_p(600, 1200) == pytest.approx(1.0) and binomial_p(700, 1200) < 1e-8
