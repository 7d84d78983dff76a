"""The judge graph with scripted fake models: every strategy and parser path."""

from __future__ import annotations

import pytest

from fellowship.graphs.judge import graph
from fellowship.state.judge import JudgeContext
from tests.fakes import GrammarScriptedChatModel, ScriptedChatModel, block

PAIR = {"question": "What is 2+2?", "response_a": "4", "response_b": "5"}


async def run(fake_models, script, **context):
    model = ScriptedChatModel(script=script)
    fake_models["fake:judge"] = model
    out = await graph.ainvoke(PAIR, context=JudgeContext(model="fake:judge", **context))
    return out["verdict"], model


async def test_combined_scores_pick_the_winner(fake_models):
    verdict, model = await run(fake_models, ["A is right.\n### Score Assistant A: 9/10\n### Score Assistant B: 2/10"])
    assert (verdict.verdict, verdict.score_a, verdict.score_b) == ("A", 9, 2)
    assert verdict.explanation == "A is right."
    assert verdict.input_tokens == 10 and verdict.output_tokens == 5
    assert len(model.calls) == 1
    prompt = model.calls[0][-1].text
    assert "What is 2+2?" in prompt and "### Score Assistant A: X/10" in prompt


@pytest.mark.parametrize("strategy, scale", [("combined-5", 5), ("combined-100", 100)])
async def test_combined_scales(fake_models, strategy, scale):
    reply = f"### Score Assistant A: 3/{scale}\n### Score Assistant B: 3/{scale}"
    verdict, model = await run(fake_models, [reply], strategy=strategy)
    assert verdict.verdict == "tie" and verdict.strategy == strategy
    assert f"X/{scale}" in model.calls[0][-1].text


async def test_direct_choice(fake_models):
    verdict, _ = await run(fake_models, ["B is wrong.\nVerdict: A"], strategy="direct")
    assert verdict.verdict == "A" and verdict.score_a is None


async def test_direct_c_is_a_tie(fake_models):
    verdict, _ = await run(fake_models, ["Same.\nVerdict: C"], strategy="direct")
    assert verdict.verdict == "tie"


async def test_independent_scores_each_response_in_its_own_conversation(fake_models):
    def script(messages):
        return "Overall Score: 8/10" if block(messages[-1].text, "assistant_answer") == "4" else "Overall Score: 3/10"

    verdict, model = await run(fake_models, script, strategy="independent")
    assert (verdict.verdict, verdict.score_a, verdict.score_b) == ("A", 8, 3)
    assert len(model.calls) == 2
    assert all(len(call) == 2 for call in model.calls)  # a fresh system + user conversation each
    seen = sorted(call[-1].text.count("<assistant_answer") for call in model.calls)
    assert seen == [1, 1]


async def test_repair_turn_recovers_in_the_same_conversation(fake_models):
    verdict, model = await run(fake_models, ["A seems better overall.", "### Score Assistant A: 7/10\n### Score Assistant B: 4/10"])
    assert verdict.verdict == "A" and verdict.repairs == 1
    assert len(model.calls) == 2
    repair_conversation = model.calls[1]
    assert repair_conversation[2].text == "A seems better overall."  # the model's own first reply
    assert "could not read your scores" in repair_conversation[3].text
    assert verdict.raw == ["A seems better overall.", "### Score Assistant A: 7/10\n### Score Assistant B: 4/10"]


async def test_unparseable_after_repair_is_invalid_never_a_tie(fake_models):
    verdict, _ = await run(fake_models, ["Both are nice.", "Really, both are nice."])
    assert verdict.verdict == "invalid"
    assert verdict.score_a is None and verdict.score_b is None
    assert "unparseable after a repair turn" in verdict.error
    assert verdict.raw == ["Both are nice.", "Really, both are nice."]


async def test_out_of_scale_score_is_invalid_not_clipped(fake_models):
    bad = "### Score Assistant A: 12/10\n### Score Assistant B: 3/10"
    verdict, _ = await run(fake_models, [bad, bad])
    assert verdict.verdict == "invalid"
    assert "outside the scale" in verdict.error


def _by_order(a_first: str, b_first: str):
    """A scripted judge whose scores depend on which response it sees first."""

    def script(messages):
        text = messages[-1].text
        return a_first if block(text, "assistant_a") == "4" else b_first

    return script


async def test_swap_consistent_winner(fake_models):
    script = _by_order("### Score Assistant A: 9/10\n### Score Assistant B: 2/10",
                       "### Score Assistant A: 3/10\n### Score Assistant B: 8/10")
    verdict, model = await run(fake_models, script, swap=True)
    assert len(model.calls) == 2
    assert verdict.verdict == "A" and verdict.consistent is True
    assert [(o.order, o.verdict) for o in verdict.orders] == [("AB", "A"), ("BA", "A")]
    assert (verdict.score_a, verdict.score_b) == (8.5, 2.5)


async def test_swap_position_bias_becomes_a_tie(fake_models):
    first_wins = "### Score Assistant A: 9/10\n### Score Assistant B: 2/10"
    verdict, _ = await run(fake_models, lambda messages: first_wins, swap=True)
    assert verdict.verdict == "tie" and verdict.consistent is False
    assert [(o.order, o.verdict) for o in verdict.orders] == [("AB", "A"), ("BA", "B")]


async def test_swap_direct_maps_positions_back(fake_models):
    verdict, _ = await run(fake_models, lambda messages: "Verdict: B" if block(messages[-1].text, "assistant_a") == "4" else "Verdict: A",
                           strategy="direct", swap=True)
    assert [(o.order, o.verdict) for o in verdict.orders] == [("AB", "B"), ("BA", "B")]
    assert verdict.verdict == "B" and verdict.consistent is True


async def test_swap_with_one_invalid_order_is_invalid(fake_models):
    def script(messages):
        if block(messages[1].text, "assistant_a") == "4":
            return "### Score Assistant A: 9/10\n### Score Assistant B: 2/10"
        return "no idea"

    verdict, _ = await run(fake_models, script, swap=True)
    assert verdict.verdict == "invalid" and verdict.consistent is None
    assert verdict.error.startswith("BA:")


async def test_repair_turn_is_grammar_constrained_where_the_backend_can(fake_models):
    model = GrammarScriptedChatModel(script=["Hmm.", "### Score Assistant A: 6/10\n### Score Assistant B: 6/10"])
    fake_models["fake:gbnf"] = model
    verdict = (await graph.ainvoke(PAIR, context=JudgeContext(model="fake:gbnf")))["verdict"]
    assert verdict.verdict == "tie"
    assert "grammar" not in model.call_kwargs[0]
    assert model.call_kwargs[1]["grammar"].startswith('root ::= "### Score Assistant A: " v0 "/10" "\\n" "### Score Assistant B: " v1 '
                                                      '"/10"')


async def test_plain_backends_get_no_grammar(fake_models):
    verdict, model = await run(fake_models, ["Hmm.", "### Score Assistant A: 6/10\n### Score Assistant B: 6/10"])
    assert all("grammar" not in kwargs for kwargs in model.call_kwargs)
