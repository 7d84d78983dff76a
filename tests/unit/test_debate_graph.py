"""The debate graph with scripted referees: turn order, what each turn sees, rounds, final means."""

from __future__ import annotations

import pytest

from fellowship.graphs.debate import graph
from fellowship.state.debate import DebateContext
from tests.fakes import InFlight, ScriptedChatModel

PAIR = {"question": "Why is the sky blue?", "response_a": "Rayleigh scattering.", "response_b": "Because it reflects the sea."}
REFEREES = ("General Public", "Psychologist", "Critic")


def referee_of(messages) -> str:
    return next(name for name in REFEREES if f"You are {name}," in messages[0].text)


def scripted(finals: dict[str, str], latency: float = 0.0, in_flight: InFlight | None = None) -> ScriptedChatModel:
    """Turns say who spoke in which call; closing replies come from `finals`."""
    counter = iter(range(1000))

    def script(messages):
        who = referee_of(messages)
        if "The discussion is over" in messages[1].text:
            return finals[who]
        return f"turn {next(counter)} by {who}"

    return ScriptedChatModel(script=script, latency=latency, in_flight=in_flight)


FINALS = {
    "General Public": "A explains it.\nScore Assistant 1: 9/10\nScore Assistant 2: 2/10",
    "Psychologist": "Score Assistant 1: 8/10\nScore Assistant 2: 3/10",
    "Critic": "Score Assistant 1: 6/10\nScore Assistant 2: 7/10",
}


async def test_turn_order_rounds_and_what_each_turn_sees(fake_models):
    model = fake_models["fake:ref"] = scripted(FINALS)
    out = await graph.ainvoke(PAIR, context=DebateContext(model="fake:ref", rounds=2))
    verdict = out["verdict"]
    assert [(t.referee, t.round) for t in verdict.turns] == [(r, n) for n in (1, 2) for r in REFEREES]
    turn_calls = [c for c in model.calls if "The discussion is over" not in c[1].text]
    assert len(turn_calls) == 6
    for index, call in enumerate(turn_calls):
        prompt = call[1].text
        assert "Rayleigh scattering." in prompt and "Because it reflects the sea." in prompt
        for earlier in range(index):  # every earlier turn, including earlier speakers of this round
            assert f"turn {earlier} by" in prompt
        assert f"turn {index} by" not in prompt
    for call in model.calls[-3:]:  # every closing judgement sees the whole discussion
        assert all(f"turn {i} by" in call[1].text for i in range(6))


async def test_means_over_referees(fake_models):
    fake_models["fake:ref"] = scripted(FINALS)
    verdict = (await graph.ainvoke(PAIR, context=DebateContext(model="fake:ref", rounds=1)))["verdict"]
    assert [f.referee for f in verdict.finals] == list(REFEREES)
    assert verdict.score_a == pytest.approx(23 / 3) and verdict.score_b == pytest.approx(4)
    assert verdict.verdict == "A" and verdict.invalid_finals == 0


async def test_one_unparseable_referee_is_left_out_of_the_means(fake_models):
    finals = dict(FINALS, Critic="Both are interesting.")
    fake_models["fake:ref"] = scripted(finals)
    verdict = (await graph.ainvoke(PAIR, context=DebateContext(model="fake:ref", rounds=1)))["verdict"]
    critic = verdict.finals[2]
    assert critic.error and critic.score_a is None and critic.raw == ["Both are interesting.", "Both are interesting."]
    assert verdict.invalid_finals == 1
    assert (verdict.score_a, verdict.score_b) == (8.5, 2.5)


async def test_no_readable_final_is_invalid(fake_models):
    fake_models["fake:ref"] = scripted({r: "no scores" for r in REFEREES})
    verdict = (await graph.ainvoke(PAIR, context=DebateContext(model="fake:ref", rounds=1)))["verdict"]
    assert verdict.verdict == "invalid" and verdict.score_a is None and verdict.invalid_finals == 3


async def test_equal_means_tie(fake_models):
    same = "Score Assistant 1: 5/10\nScore Assistant 2: 5/10"
    fake_models["fake:ref"] = scripted({r: same for r in REFEREES})
    verdict = (await graph.ainvoke(PAIR, context=DebateContext(model="fake:ref", rounds=1)))["verdict"]
    assert verdict.verdict == "tie"


@pytest.mark.parametrize("rounds", [0, 1, 3])
async def test_round_counter(fake_models, rounds):
    model = fake_models["fake:ref"] = scripted(FINALS)
    verdict = (await graph.ainvoke(PAIR, context=DebateContext(model="fake:ref", rounds=rounds)))["verdict"]
    assert len(verdict.turns) == 3 * rounds and verdict.rounds == rounds
    assert len(model.calls) == 3 * rounds + 3


async def test_one_model_per_referee(fake_models):
    for name in ("fake:gp", "fake:psy", "fake:critic"):
        fake_models[name] = scripted(FINALS)
    ctx = DebateContext(referee_models=("fake:gp", "fake:psy", "fake:critic"), rounds=1)
    verdict = (await graph.ainvoke(PAIR, context=ctx))["verdict"]
    assert [t.model for t in verdict.turns] == ["fake:gp", "fake:psy", "fake:critic"]
    assert all(referee_of(c) == "Critic" for c in fake_models["fake:critic"].calls)


async def test_closing_scores_run_concurrently(fake_models):
    gauge = InFlight()
    fake_models["fake:ref"] = scripted(FINALS, latency=0.05, in_flight=gauge)
    await graph.ainvoke(PAIR, context=DebateContext(model="fake:ref", rounds=1))
    assert gauge.peak == 3  # the turns go one by one; the three closing scores overlap
