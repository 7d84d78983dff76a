"""The jury graph with scripted members: the plurality and tie rule, invalid votes, shuffle, concurrency."""

from __future__ import annotations

import pytest

from fellowship.graphs.jury import graph
from fellowship.nodes.jury import seat_flips
from fellowship.state.jury import JuryContext
from fellowship.state.verdicts import plurality
from tests.fakes import InFlight, ScriptedChatModel, block

PAIR = {"question": "Name a prime.", "response_a": "7", "response_b": "8"}
SAYS = {
    "A": "### Score Assistant A: 8/10\n### Score Assistant B: 3/10",
    "B": "### Score Assistant A: 2/10\n### Score Assistant B: 9/10",
    "tie": "### Score Assistant A: 5/10\n### Score Assistant B: 5/10",
    "invalid": "I cannot decide.",
}


@pytest.mark.parametrize(
    "labels, expected",
    [
        (["A", "A", "B"], "A"),
        (["B", "B", "tie"], "B"),
        (["tie", "tie", "A"], "tie"),
        (["A", "B", "tie"], "tie"),  # 1-1-1
        (["A", "A", "B", "B"], "tie"),  # 2-2
        (["A", "A", "B", "B", "tie"], "tie"),  # 2-2-1
        (["A", "invalid", "invalid"], "A"),  # invalid votes are left out
        (["A", "B", "invalid"], "tie"),
        (["invalid", "invalid"], "invalid"),
        (["A"], "A"),
    ],
)
def test_plurality_and_the_tie_rule(labels, expected):
    assert plurality(labels) == expected


def panel(fake_models, labels, latency=0.0, in_flight=None):
    members = []
    for seat, label in enumerate(labels):
        spec = f"fake:member{seat}"
        fake_models[spec] = ScriptedChatModel(script=lambda m, label=label: SAYS[label], latency=latency, in_flight=in_flight)
        members.append(spec)
    return tuple(members)


async def test_jury_counts_votes_and_reports_invalid_ones(fake_models):
    members = panel(fake_models, ["A", "B", "A", "invalid"])
    out = await graph.ainvoke(PAIR, context=JuryContext(members=members))
    verdict = out["verdict"]
    assert verdict.verdict == "A"
    assert verdict.counts == {"A": 2, "B": 1, "invalid": 1}
    assert verdict.invalid_votes == 1
    assert [v.member for v in verdict.votes] == list(members)
    assert verdict.score_a == pytest.approx((8 + 2 + 8) / 3) and verdict.score_b == pytest.approx((3 + 9 + 3) / 3)
    assert verdict.votes[3].judgement.raw == [SAYS["invalid"], SAYS["invalid"]]  # the repair turn was tried


async def test_jury_two_two_split_is_a_tie(fake_models):
    out = await graph.ainvoke(PAIR, context=JuryContext(members=panel(fake_models, ["A", "B", "B", "A"])))
    assert out["verdict"].verdict == "tie"


async def test_all_invalid_is_invalid(fake_models):
    out = await graph.ainvoke(PAIR, context=JuryContext(members=panel(fake_models, ["invalid", "invalid"])))
    assert out["verdict"].verdict == "invalid" and out["verdict"].invalid_votes == 2


async def test_same_model_may_sit_twice(fake_models):
    fake_models["fake:same"] = ScriptedChatModel(script=lambda m: SAYS["B"])
    out = await graph.ainvoke(PAIR, context=JuryContext(members=("fake:same", "fake:same", "fake:same")))
    assert out["verdict"].verdict == "B" and len(out["verdict"].votes) == 3
    assert len(fake_models["fake:same"].calls) == 3


def test_shuffle_is_seeded():
    # Recorded runs name their shuffle seed: the seats a seed flips must not change between releases.
    assert seat_flips(8, 1) == [True, False, False, True, True, True, False, False]
    assert seat_flips(8, 2) != seat_flips(8, 1)


async def test_shuffled_seats_see_b_first_and_votes_map_back(fake_models):
    # Every member prefers the response "7" wherever it is shown.
    def prefers_seven(messages):
        text = messages[-1].text
        if block(text, "assistant_a") == "7":
            return "### Score Assistant A: 8/10\n### Score Assistant B: 3/10"
        return "### Score Assistant A: 3/10\n### Score Assistant B: 8/10"

    members = tuple(f"fake:m{i}" for i in range(8))
    for spec in members:
        fake_models[spec] = ScriptedChatModel(script=prefers_seven)
    out = await graph.ainvoke(PAIR, context=JuryContext(members=members, shuffle=True, shuffle_seed=1))
    votes = out["verdict"].votes
    assert [v.flipped for v in votes] == seat_flips(8, 1)
    assert all((v.verdict, v.score_a, v.score_b) == ("A", 8, 3) for v in votes)
    for vote, spec in zip(votes, members):
        shown_first = block(fake_models[spec].calls[0][-1].text, "assistant_a") == "8"
        assert shown_first == vote.flipped


async def test_swap_applies_per_member(fake_models):
    members = panel(fake_models, ["A", "A", "A"])  # always prefers the first shown: position bias
    out = await graph.ainvoke(PAIR, context=JuryContext(members=members, swap=True))
    assert all(v.judgement.consistent is False and v.verdict == "tie" for v in out["verdict"].votes)
    assert all(len(fake_models[m].calls) == 2 for m in members)


async def test_members_run_concurrently(fake_models):
    gauge = InFlight()
    members = panel(fake_models, ["A", "B", "A"], latency=0.05, in_flight=gauge)
    await graph.ainvoke(PAIR, context=JuryContext(members=members))
    assert gauge.peak == 3  # all three members were waiting on their model at once


async def test_max_concurrency_bounds_the_fan_out(fake_models):
    gauge = InFlight()
    members = panel(fake_models, ["A", "B", "A"], latency=0.05, in_flight=gauge)
    await graph.ainvoke(PAIR, context=JuryContext(members=members), config={"max_concurrency": 1})
    assert gauge.peak == 1
