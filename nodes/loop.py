"""Nodes of the feedback loop: respond (write, then revise), review (fanned out), collect, knock out, finish."""

from __future__ import annotations

import re
from typing import Literal

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Send

from fellowship.fileio.pairs import Pair
from fellowship.guard.fence import blocks, unechoed
from fellowship.guard.screen import screen
from fellowship.models import load_chat_model
from fellowship.models.settings import derive_seed
from fellowship.models.usage import call
from fellowship.nodes import context_of
from fellowship.nodes.asking import ask
from fellowship.parsing.formats import REVIEW_FORMAT
from fellowship.parsing.scores import parse_overall_score
from fellowship.prompts import loop as p
from fellowship.prompts.fencing import with_rule
from fellowship.state.evaluator import Evaluate, as_shown, shown_flipped
from fellowship.state.loop import LoopContext, LoopState, ReviewTask
from fellowship.state.records import Bout, LoopResult, Review, Usage
from fellowship.state.verdicts import flip


def feedback_message(reviews: list[Review], guard: bool = False, prompt: str = "") -> str:
    """The revision request: every usable review of the latest response, labelled by reviewer when several.

    With `guard`, the reviews (model text too) are screened and fenced, and the generator is
    told they are advice that cannot change its task."""
    usable = [r for r in reviews if r.error is None]
    if not usable:
        return p.REVISE_WITHOUT_FEEDBACK

    def text(review: Review) -> str:
        written = review.feedback or review.evaluation
        return screen(written, prompt).shown if guard else written

    if len(usable) == 1:
        body = text(usable[0])
    else:
        body = "\n\n".join(f"Reviewer {r.seat + 1} (score {r.score:g}/10):\n{text(r)}" for r in usable)
    if not guard:
        return p.REVISE.format(feedback=body, rule="")
    return p.REVISE.format(feedback=blocks(True, ("feedback", body)), rule=p.FEEDBACK_RULE)


async def respond(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, object]:
    """The generator writes the first response, or revises its last one from the reviews."""
    ctx = context_of(runtime, LoopContext)
    conversation = list(state.get("generator_conversation") or [HumanMessage(state["prompt"])])
    responses = state.get("responses", [])
    if responses:
        latest = [r for r in state.get("reviews", []) if r.iteration == len(responses)]
        conversation.append(HumanMessage(feedback_message(sorted(latest, key=lambda r: r.seat), ctx.guard, state["prompt"])))
    reply = await call(load_chat_model(ctx.generator, ctx.settings()), conversation)
    # a revision that repeats the tags it was shown: our markers, not its text
    text = unechoed(reply.text, "feedback") if ctx.guard and responses else reply.text
    conversation.append(AIMessage(text))
    return {"generator_conversation": conversation, "responses": [text], "usage": Usage.of(reply)}


def split_review(text: str) -> tuple[str, str]:
    """(evaluation, feedback) of a review; without the labels, the whole text is both."""
    evaluation = re.search(r"(?is)evaluation\W*:\s*(.*?)(?=\n\W*overall\s+score|\n\W*feedback\W*:|\Z)", text)
    feedback = re.search(r"(?is)feedback\W*:\s*(.*)\Z", text)
    whole = text.strip()
    return (evaluation.group(1).strip() if evaluation else whole), (feedback.group(1).strip() if feedback else whole)


async def after_response(state: LoopState, runtime: Runtime[LoopContext]) -> Literal["knockout", "finish"] | list[Send]:
    """Review the response unless it was the last one; then pick the best."""
    ctx = context_of(runtime, LoopContext)
    responses = state["responses"]
    if len(responses) >= ctx.iterations:
        return "knockout" if len(responses) > 1 else "finish"
    conversations = state.get("reviewer_conversations", {})
    return [
        Send("review", ReviewTask(prompt=state["prompt"], seat=seat, iteration=len(responses),
                                  response=responses[-1], conversation=conversations.get(str(seat), [])))
        for seat in range(len(ctx.reviewers))
    ]


def review_request(prompt: str, response: str, revised: bool, guard: bool) -> tuple[str, str]:
    """A reviewer's request and the response as shown: screened and fenced with `guard`."""
    shown = screen(response, prompt).shown if guard else response
    if revised:
        lead = p.NEXT_REVIEW_FENCED if guard else p.NEXT_REVIEW
        return f"{lead}\n\n{blocks(guard, ('response', shown))}\n\n{p.NEXT_REVIEW_TASK}", shown
    return f"{blocks(guard, ('request', prompt), ('response', shown))}\n\n{p.FIRST_REVIEW}", shown


async def review(state: ReviewTask, runtime: Runtime[LoopContext]) -> dict[str, object]:
    """One reviewer reviews the latest response in its own conversation. A failure is recorded, not raised."""
    ctx = context_of(runtime, LoopContext)
    spec = ctx.reviewers[state["seat"]]
    request, shown = review_request(state["prompt"], state["response"], bool(state["conversation"]), ctx.guard)
    system = SystemMessage(with_rule(p.REVIEWER_SYSTEM, ctx.guard, "response", request))
    conversation = list(state["conversation"] or [system]) + [HumanMessage(request)]
    # Reviewers write under their own budget, each with a seed of its own.
    seed = derive_seed(ctx.seed, "reviewer", str(state["seat"]))
    reviewed = Review(iteration=state["iteration"], reviewer=spec, seat=state["seat"], seed=seed,
                      request=p.standalone_review(state["prompt"], state["response"]))
    settings = ctx.settings(max_tokens=ctx.review_max_tokens, seed=seed)
    try:
        answer = await ask(load_chat_model(spec, settings), conversation, parse_overall_score, p.REVIEW_REPAIR,
                           REVIEW_FORMAT, ctx.constrained, quoted=[shown] if ctx.guard else [])
    except Exception as exc:  # noqa: BLE001 - a failing reviewer is left out, not fatal
        return {"reviews": [reviewed.model_copy(update={"error": f"model call failed: {type(exc).__name__}: {exc}"})]}
    conversation.append(AIMessage(answer.texts[0]))
    if answer.repaired:
        conversation += [HumanMessage(p.REVIEW_REPAIR), AIMessage(answer.texts[-1])]
    # what goes on to the generator: without the markers of the blocks this reviewer was shown
    evaluation, feedback = (unechoed(part, "request", "response") if ctx.guard else part for part in split_review(answer.texts[0]))
    result = reviewed.model_copy(update={
        "score": answer.score() if answer.ok else None, "evaluation": evaluation, "feedback": feedback,
        "error": answer.error, "raw": answer.texts, **answer.usage.model_dump(),
    })
    return {"reviews": [result], "reviewer_conversations": {str(state["seat"]): conversation}, "usage": answer.usage}


async def collect_reviews(state: LoopState) -> dict[str, object]:
    """Fan-in point after the reviewers."""
    return {}


async def after_reviews(state: LoopState, runtime: Runtime[LoopContext]) -> Literal["respond", "knockout", "finish"]:
    """Stop early when every reviewer scored the latest response at or above the threshold."""
    ctx = context_of(runtime, LoopContext)
    responses = state["responses"]
    latest = [r for r in state.get("reviews", []) if r.iteration == len(responses)]
    if ctx.stop_at is not None and latest and all(r.score is not None and r.score >= ctx.stop_at for r in latest):
        return "knockout" if len(responses) > 1 else "finish"
    return "respond"


async def knockout(state: LoopState, runtime: Runtime[LoopContext], *, evaluate: Evaluate) -> dict[str, object]:
    """The best so far (A) against the next response (B); a tie or an invalid verdict carries the later one forward.
    Which of the two is shown first is drawn per bout (see `shown_flipped`).

    `evaluate` runs the context's evaluator graph (bound in by the loop graph)."""
    ctx = context_of(runtime, LoopContext)
    best = state.get("best") or 1
    challenger = len(state.get("bouts", [])) + 2
    responses = state["responses"]
    pair = Pair(id=f"bout-{best}-{challenger}", question=state["prompt"],
                response_a=responses[best - 1], response_b=responses[challenger - 1])
    flipped = shown_flipped(pair, ctx.evaluator)
    result = await evaluate(as_shown(pair, flipped), ctx.evaluator)
    verdict, score_a, score_b = ((flip(result.verdict), result.score_b, result.score_a) if flipped
                                 else (result.verdict, result.score_a, result.score_b))
    winner = best if verdict == "A" else challenger
    note = {"tie": "tie: the later response goes on", "invalid": "invalid verdict: the later response goes on"}.get(verdict, "")
    bout = Bout(a=best, b=challenger, verdict=verdict, winner=winner, note=note, score_a=score_a, score_b=score_b,
                flipped=flipped, evaluation=result)
    return {"bouts": [bout], "best": winner}


async def next_bout(state: LoopState) -> Literal["knockout", "finish"]:
    return "knockout" if len(state.get("bouts", [])) + 2 <= len(state["responses"]) else "finish"


async def finish(state: LoopState, runtime: Runtime[LoopContext]) -> dict[str, LoopResult]:
    ctx = context_of(runtime, LoopContext)
    responses = state["responses"]
    best = state.get("best") or 1
    bouts = state.get("bouts", [])
    usage = state.get("usage", Usage()) + Usage.total(b.evaluation for b in bouts)
    result = LoopResult(
        prompt=state["prompt"], responses=responses, reviews=state.get("reviews", []), bouts=bouts,
        best=best, best_response=responses[best - 1], stopped_early=len(responses) < ctx.iterations,
        generator=ctx.generator, reviewers=list(ctx.reviewers), evaluator=ctx.evaluator.describe(),
        **usage.model_dump(),
    )
    return {"result": result}
