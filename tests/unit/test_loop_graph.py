"""The feedback loop with scripted generator, reviewers and judge."""

from __future__ import annotations

import pytest

from fellowship.graphs.loop import graph
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.loop import LoopContext
from tests.fakes import ScriptedChatModel, block

PROMPT = {"prompt": "Write a haiku about autumn."}


def generator() -> ScriptedChatModel:
    counter = iter(range(1, 100))
    return ScriptedChatModel(script=lambda messages: f"draft {next(counter)}")


def reviewer(score: float = 6, name: str = "R") -> ScriptedChatModel:
    counter = iter(range(1, 100))
    return ScriptedChatModel(script=lambda m: f"Evaluation: {name} looked.\nOverall Score: {score}/10\nFeedback: {name} says fix "
                                              f"{next(counter)}.")


def judge_by(choice) -> ScriptedChatModel:
    """A judge whose verdict on (A, B) is choice(a_text, b_text) -> 'A' | 'B' | 'tie' | 'junk'."""
    def script(messages):
        text = messages[1].text if len(messages) > 1 else messages[0].text
        a = block(text, "assistant_a")
        b = block(text, "assistant_b")
        verdict = choice(a, b)
        scores = {"A": (8, 3), "B": (3, 8), "tie": (5, 5)}.get(verdict)
        return "no scores here" if scores is None else f"### Score Assistant A: {scores[0]}/10\n### Score Assistant B: {scores[1]}/10"
    return ScriptedChatModel(script=script)


def context(**kw) -> LoopContext:
    # The judges here decide by position: the order is fixed (the drawn order has its own tests).
    base = dict(generator="fake:gen", reviewers=("fake:rev",), evaluator=EvaluatorConfig(model="fake:judge", fixed_order=True))
    return LoopContext(**{**base, **kw})


async def test_three_responses_two_reviews_and_conversations_carry_over(fake_models):
    gen = fake_models["fake:gen"] = generator()
    rev = fake_models["fake:rev"] = reviewer()
    fake_models["fake:judge"] = judge_by(lambda a, b: "B")
    result = (await graph.ainvoke(PROMPT, context=context()))["result"]
    assert result.responses == ["draft 1", "draft 2", "draft 3"]
    assert [r.iteration for r in result.reviews] == [1, 2]  # the last response needs no review
    # The generator's third call holds its whole conversation: prompt, drafts, both feedback turns.
    third = [m.text for m in gen.calls[2]]
    assert third[0] == "Write a haiku about autumn."
    assert third[1] == "draft 1" and "R says fix 1." in third[2] and third[3] == "draft 2" and "R says fix 2." in third[4]
    assert gen.calls[0][0].type == "human" and len(gen.calls[0]) == 1  # no system prompt for the generator
    # The reviewer's second call sees its first review and the revised response.
    second = [m.text for m in rev.calls[1]]
    assert "draft 1" in second[1] and "R says fix 1." in second[2] and "draft 2" in second[3]
    assert result.reviews[0].score == 6 and result.reviews[0].feedback == "R says fix 1."
    assert result.reviews[0].evaluation == "R looked."


async def test_two_reviewers_feedback_in_one_labelled_message(fake_models):
    gen = fake_models["fake:gen"] = generator()
    fake_models["fake:r1"] = reviewer(7, "First")
    fake_models["fake:r2"] = reviewer(4, "Second")
    fake_models["fake:judge"] = judge_by(lambda a, b: "A")
    result = (await graph.ainvoke(PROMPT, context=context(reviewers=("fake:r1", "fake:r2"), iterations=2)))["result"]
    message = gen.calls[1][-1].text
    assert "Reviewer 1 (score 7/10):\nFirst says fix 1." in message
    assert "Reviewer 2 (score 4/10):\nSecond says fix 1." in message
    assert len(gen.calls) == 2 and sorted(r.reviewer for r in result.reviews) == ["fake:r1", "fake:r2"]


async def test_knockout_winner_and_tie_carries_the_later_forward(fake_models):
    fake_models["fake:gen"] = generator()
    fake_models["fake:rev"] = reviewer()
    # draft 1 beats draft 2; draft 1 vs draft 3 is a tie, so draft 3 goes on.
    fake_models["fake:judge"] = judge_by(lambda a, b: "A" if (a, b) == ("draft 1", "draft 2") else "tie")
    result = (await graph.ainvoke(PROMPT, context=context()))["result"]
    assert [(b.a, b.b, b.verdict, b.winner) for b in result.bouts] == [(1, 2, "A", 1), (1, 3, "tie", 3)]
    assert result.best == 3 and result.best_response == "draft 3"
    assert "later response goes on" in result.bouts[1].note


async def test_invalid_bout_is_recorded_not_hidden(fake_models):
    fake_models["fake:gen"] = generator()
    fake_models["fake:rev"] = reviewer()
    fake_models["fake:judge"] = judge_by(lambda a, b: "junk")
    result = (await graph.ainvoke(PROMPT, context=context(iterations=2)))["result"]
    assert result.bouts[0].verdict == "invalid" and result.best == 2
    assert "invalid verdict" in result.bouts[0].note
    assert result.bouts[0].evaluation.raw == ["no scores here", "no scores here"]


@pytest.mark.parametrize("iterations, calls", [(1, 1), (2, 2), (4, 4)])
async def test_iteration_count(fake_models, iterations, calls):
    gen = fake_models["fake:gen"] = generator()
    fake_models["fake:rev"] = reviewer()
    fake_models["fake:judge"] = judge_by(lambda a, b: "B")
    result = (await graph.ainvoke(PROMPT, context=context(iterations=iterations)))["result"]
    assert len(gen.calls) == calls and len(result.responses) == iterations
    assert len(result.bouts) == iterations - 1 and result.best == iterations


async def test_early_stop_when_every_reviewer_is_satisfied(fake_models):
    gen = fake_models["fake:gen"] = generator()
    fake_models["fake:r1"] = reviewer(9)
    fake_models["fake:r2"] = reviewer(8.5)
    fake_models["fake:judge"] = judge_by(lambda a, b: "B")
    result = (await graph.ainvoke(PROMPT, context=context(reviewers=("fake:r1", "fake:r2"), stop_at=8.5)))["result"]
    assert len(gen.calls) == 1 and result.stopped_early and result.best == 1 and result.bouts == []


async def test_no_early_stop_below_the_threshold(fake_models):
    fake_models["fake:gen"] = generator()
    fake_models["fake:r1"] = reviewer(9)
    fake_models["fake:r2"] = reviewer(8)
    fake_models["fake:judge"] = judge_by(lambda a, b: "B")
    result = (await graph.ainvoke(PROMPT, context=context(reviewers=("fake:r1", "fake:r2"), stop_at=8.5)))["result"]
    assert len(result.responses) == 3 and not result.stopped_early


async def test_a_failing_reviewer_is_left_out(fake_models):
    gen = fake_models["fake:gen"] = generator()
    fake_models["fake:good"] = reviewer(7, "Good")

    def broken(messages):
        raise ConnectionError("reviewer down")

    fake_models["fake:bad"] = ScriptedChatModel(script=broken)
    fake_models["fake:judge"] = judge_by(lambda a, b: "B")
    result = (await graph.ainvoke(PROMPT, context=context(reviewers=("fake:good", "fake:bad"), iterations=2)))["result"]
    bad = [r for r in result.reviews if r.reviewer == "fake:bad"][0]
    assert "reviewer down" in bad.error and bad.score is None
    feedback = gen.calls[1][-1].text
    assert "Good says fix 1." in feedback and "Reviewer" not in feedback  # only the usable review, unlabelled


async def test_unparseable_review_gets_a_repair_turn(fake_models):
    fake_models["fake:gen"] = generator()
    fake_models["fake:rev"] = ScriptedChatModel(script=["Looks fine to me. Add a season word.", "Overall Score: 5/10"])
    fake_models["fake:judge"] = judge_by(lambda a, b: "B")
    result = (await graph.ainvoke(PROMPT, context=context(iterations=2)))["result"]
    review = result.reviews[0]
    assert review.score == 5 and review.raw == ["Looks fine to me. Add a season word.", "Overall Score: 5/10"]
    assert review.feedback == "Looks fine to me. Add a season word."


async def test_each_bout_draws_its_order_and_maps_the_verdict_back(fake_models):
    """A judge that prefers the later draft by content: the later draft wins each bout, whichever was shown first."""
    flips = []
    for n in range(6):
        fake_models["fake:gen"] = generator()
        fake_models["fake:rev"] = reviewer()
        fake_models["fake:judge"] = judge_by(lambda a, b: "A" if a > b else "B")  # "draft 3" > "draft 2" > "draft 1"
        ctx = context(evaluator=EvaluatorConfig(model="fake:judge"))
        result = (await graph.ainvoke({"prompt": f"Prompt {n}"}, context=ctx))["result"]
        assert [(b.a, b.b, b.verdict, b.winner) for b in result.bouts] == [(1, 2, "B", 2), (2, 3, "B", 3)]
        flips += [b.flipped for b in result.bouts]
    assert True in flips and False in flips
