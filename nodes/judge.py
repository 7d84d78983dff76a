"""Nodes of the judge graph: plan the calls (after screening the responses), make each call, decide the verdict."""

from __future__ import annotations

from functools import partial
from typing import Literal

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Send

from fellowship.guard.fence import blocks
from fellowship.models import load_chat_model
from fellowship.nodes import context_of
from fellowship.nodes.asking import Parser, Reader, ask
from fellowship.parsing.confidence import (
    choice_distribution,
    choice_outcomes,
    overall_score_distribution,
    pair_score_distributions,
    score_outcomes,
)
from fellowship.parsing.formats import CHOICE_FORMAT, AnswerFormat, overall_score_format, pair_scores_format
from fellowship.parsing.scores import (
    explanation_of,
    parse_choice,
    parse_overall_score,
    parse_pair_scores,
)
from fellowship.prompts import judge as p
from fellowship.prompts.fencing import with_rule
from fellowship.state.judge import CallTask, JudgeContext, JudgeState
from fellowship.state.records import Order, OrderVerdict, PairScreening, Reading, Usage, Verdict
from fellowship.state.verdicts import agree, flip, label_of, mean_known


def scale_of(strategy: str) -> int:
    return int(strategy.split("-")[1]) if strategy.startswith("combined-") else 10


def screening_of(state: JudgeState) -> PairScreening:
    return PairScreening.of(state["question"], state["response_a"], state["response_b"])


async def plan_calls(state: JudgeState, runtime: Runtime[JudgeContext]) -> Literal["decide"] | list[Send]:
    """Fan out one call per presentation order, or one per response for independent scoring.

    With the defences on, the judge sees each response as screening left it, and a
    degenerate response against a real one is decided by rule, with no call."""
    ctx = context_of(runtime, JudgeContext)
    screening = screening_of(state)
    if ctx.guard and screening.ruling() is not None:
        return "decide"
    q = state["question"]
    a, b = (screening.a.shown, screening.b.shown) if ctx.guard else (state["response_a"], state["response_b"])
    quoted = [a, b] if ctx.guard else []  # what the judge was shown: a line of it in the reply is a copy
    if ctx.strategy == "independent":
        return [
            Send("judge_call", CallTask(question=q, order="AB", part="A", first=a, second="", quoted=quoted)),
            Send("judge_call", CallTask(question=q, order="AB", part="B", first=b, second="", quoted=quoted)),
        ]
    orders: list[tuple[Order, str, str]] = [("AB", a, b)]
    if ctx.swap:
        orders.append(("BA", b, a))
    return [Send("judge_call", CallTask(question=q, order=o, part="pair", first=x, second=y, quoted=quoted)) for o, x, y in orders]


def judge_messages(strategy: str, task: CallTask, guard: bool = True) -> tuple[list[BaseMessage], Parser, str, AnswerFormat]:
    """The conversation, parser, repair text and answer format of one judge call.

    With `guard`, no text can close its block, the system prompt says what the blocks are,
    and the last answer block is read."""
    if task["part"] != "pair":
        user = blocks(guard, ("question", task["question"]), ("assistant_answer", task["first"])) + "\n\n" + p.SINGLE_TASK
        messages = [SystemMessage(with_rule(p.SINGLE_SYSTEM, guard, "assistant_answer", user)), HumanMessage(user)]
        return messages, parse_overall_score, p.SINGLE_REPAIR, overall_score_format()
    pair = blocks(guard, ("question", task["question"]), ("assistant_a", task["first"]), ("assistant_b", task["second"]))
    if strategy == "direct":
        parser: Parser = parse_choice
        user, repair, fmt = pair + "\n\n" + p.DIRECT_TASK, p.DIRECT_REPAIR, CHOICE_FORMAT
    else:
        scale = scale_of(strategy)
        user = pair + "\n\n" + p.COMBINED_TASK.format(scale=scale)
        parser, repair = partial(parse_pair_scores, scale=scale, last=guard), p.COMBINED_REPAIR.format(scale=scale)
        fmt = pair_scores_format(scale)
    return [SystemMessage(with_rule(p.PAIRWISE_SYSTEM, guard, "assistant_a", pair)), HumanMessage(user)], parser, repair, fmt


def distribution_reader(strategy: str, part: str, guard: bool) -> Reader:
    """How a judge call's answer is read from its tokens' log-probabilities: where `judge_messages`' parser reads it."""
    if part != "pair":
        return partial(overall_score_distribution, scale=10)
    if strategy == "direct":
        return choice_distribution
    return partial(pair_score_distributions, scale=scale_of(strategy), last=guard)


async def judge_call(state: CallTask, runtime: Runtime[JudgeContext]) -> dict[str, list[Reading]]:
    """One model conversation (with its repair turn) for one order or one response."""
    ctx = context_of(runtime, JudgeContext)
    model = load_chat_model(ctx.model, ctx.settings(logprobs=ctx.confidence))
    messages, parser, repair, fmt = judge_messages(ctx.strategy, state, ctx.guard)
    reader = distribution_reader(ctx.strategy, state["part"], ctx.guard) if ctx.confidence else None
    answer = await ask(model, messages, parser, repair, fmt, ctx.constrained, quoted=state["quoted"], distributions=reader)
    return {"readings": [Reading(order=state["order"], part=state["part"], answer=answer)]}


def _as_responses(order: Order, outcomes: dict[str, float]) -> dict[str, float]:
    """Chances of the shown first and second answer (and a tie) as chances of responses A and B."""
    return outcomes if order == "AB" else {"A": outcomes["B"], "B": outcomes["A"], "tie": outcomes["tie"]}


def order_probabilities(order: Order, readings: list[Reading]) -> dict[str, float] | None:
    """The chances of A, B and tie that one order's replies gave, where their distributions were read."""
    read = [r.answer.distributions for r in readings]
    if any(d is None for d in read):
        return None
    if readings[0].part != "pair":
        by_part = {r.part: r.answer.distributions["score"] for r in readings if r.answer.distributions}
        return score_outcomes(by_part["A"], by_part["B"])
    dist = read[0] or {}
    outcomes = choice_outcomes(dist["choice"]) if "choice" in dist else score_outcomes(dist["A"], dist["B"])
    return _as_responses(order, outcomes)


def order_verdict(order: Order, readings: list[Reading]) -> tuple[OrderVerdict, str | None]:
    """Map one order's readings back to responses A and B; returns the error when invalid."""
    errors = [f"{r.part if r.part != 'pair' else order}: {r.answer.error}" for r in readings if not r.answer.ok]
    if errors:
        return OrderVerdict(order=order, verdict="invalid"), "; ".join(errors)
    probabilities = order_probabilities(order, readings)
    if readings[0].part != "pair":  # independent scoring: one reading per response
        scores = {r.part: r.answer.score() for r in readings}
        return OrderVerdict(order=order, verdict=label_of(scores["A"], scores["B"]), score_a=scores["A"], score_b=scores["B"],
                            probabilities=probabilities), None
    answer = readings[0].answer
    if isinstance(answer.value, str):  # direct comparison: a positional choice
        choice = answer.choice()
        return OrderVerdict(order=order, verdict=choice if order == "AB" else flip(choice), probabilities=probabilities), None
    first, second = answer.scores()
    score_a, score_b = (first, second) if order == "AB" else (second, first)
    return OrderVerdict(order=order, verdict=label_of(score_a, score_b), score_a=score_a, score_b=score_b,
                        probabilities=probabilities), None


def verdict_confidence(label: str, orders: list[OrderVerdict]) -> float | None:
    """The probability of the final verdict: the mean over the orders judged of the chance each gave it."""
    if label == "invalid" or not orders or any(o.probabilities is None for o in orders):
        return None
    return sum((o.probabilities or {}).get(label, 0.0) for o in orders) / len(orders)


def _explanation(readings: list[Reading]) -> str:
    """The reasoning of the first reply in the AB order (per response for independent scores)."""
    parts = [(r.part, explanation_of(r.answer.texts[0])) for r in readings if r.answer.texts]
    if len(parts) == 1:
        return parts[0][1]
    return "\n\n".join(f"[{part}] {text}" for part, text in parts)


def combine(readings: list[Reading], *, model: str, strategy: str, swap: bool) -> Verdict:
    """The final verdict: one order's, or under swap the agreed winner (else a tie)."""
    by_order: dict[Order, list[Reading]] = {}
    for reading in readings:
        by_order.setdefault(reading.order, []).append(reading)
    decided = [order_verdict(order, by_order[order]) for order in ("AB", "BA") if order in by_order]
    orders = [v for v, _ in decided]
    errors = [e for _, e in decided if e]
    usage = Usage.total(r.answer.usage for r in readings)
    texts = [t for r in readings for t in r.answer.texts]
    label, consistent = agree([o.verdict for o in orders])
    return Verdict(
        verdict=label,
        score_a=None if errors else mean_known([o.score_a for o in orders]),
        score_b=None if errors else mean_known([o.score_b for o in orders]),
        explanation=_explanation(by_order.get("AB", [])),
        raw=texts,
        error="; ".join(errors) or None,
        repairs=sum(r.answer.repaired for r in readings),
        model=model,
        strategy=strategy,
        swap=swap and strategy != "independent",
        consistent=consistent,
        orders=orders,
        confidence=verdict_confidence(label, orders),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        seconds=max((r.answer.seconds for r in readings), default=0.0),
    )


async def decide(state: JudgeState, runtime: Runtime[JudgeContext]) -> dict[str, Verdict]:
    """Turn the collected readings into the verdict, or rule on a degenerate response.
    Screening's findings are recorded even when the defences are off."""
    ctx = context_of(runtime, JudgeContext)
    screening = screening_of(state)
    ruling = screening.ruling() if ctx.guard else None
    if ruling is not None:
        label, why = ruling
        return {"verdict": Verdict(verdict=label, explanation=why, model=ctx.model, strategy=ctx.strategy, flags=screening.flags(),
                                   ruled=why, swap=ctx.swap and ctx.strategy != "independent")}
    verdict = combine(state.get("readings", []), model=ctx.model, strategy=ctx.strategy, swap=ctx.swap)
    return {"verdict": verdict.model_copy(update={"flags": screening.flags()})}
