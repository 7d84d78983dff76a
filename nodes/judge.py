"""Nodes of the judge graph: plan the calls, make each call, decide the verdict."""

from __future__ import annotations

from functools import partial

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Send

from fellowship.models import load_chat_model
from fellowship.nodes import context_of
from fellowship.nodes.asking import Parser, ask
from fellowship.parsing.formats import CHOICE_FORMAT, AnswerFormat, overall_score_format, pair_scores_format
from fellowship.parsing.scores import (
    explanation_of,
    parse_choice,
    parse_overall_score,
    parse_pair_scores,
)
from fellowship.prompts import judge as p
from fellowship.state.judge import CallTask, JudgeContext, JudgeState
from fellowship.state.records import Order, OrderVerdict, Reading, Usage, Verdict
from fellowship.state.verdicts import agree, flip, label_of, mean_known


def scale_of(strategy: str) -> int:
    return int(strategy.split("-")[1]) if strategy.startswith("combined-") else 10


def plan_calls(state: JudgeState, runtime: Runtime[JudgeContext]) -> list[Send]:
    """Fan out one call per presentation order, or one per response for independent scoring."""
    ctx = context_of(runtime, JudgeContext)
    q, a, b = state["question"], state["response_a"], state["response_b"]
    if ctx.strategy == "independent":
        return [
            Send("judge_call", CallTask(question=q, order="AB", part="A", first=a, second="")),
            Send("judge_call", CallTask(question=q, order="AB", part="B", first=b, second="")),
        ]
    orders: list[tuple[Order, str, str]] = [("AB", a, b)]
    if ctx.swap:
        orders.append(("BA", b, a))
    return [Send("judge_call", CallTask(question=q, order=o, part="pair", first=x, second=y)) for o, x, y in orders]


def judge_messages(strategy: str, task: CallTask) -> tuple[list[BaseMessage], Parser, str, AnswerFormat]:
    """The conversation, parser, repair text and answer format of one judge call."""
    if task["part"] != "pair":
        user = p.SINGLE_BLOCK.format(question=task["question"], answer=task["first"])
        messages = [SystemMessage(p.SINGLE_SYSTEM), HumanMessage(user)]
        return messages, parse_overall_score, p.SINGLE_REPAIR, overall_score_format()
    pair = p.PAIR_BLOCK.format(question=task["question"], first=task["first"], second=task["second"])
    if strategy == "direct":
        parser: Parser = parse_choice
        user, repair, fmt = pair + "\n\n" + p.DIRECT_TASK, p.DIRECT_REPAIR, CHOICE_FORMAT
    else:
        scale = scale_of(strategy)
        user = pair + "\n\n" + p.COMBINED_TASK.format(scale=scale)
        parser, repair = partial(parse_pair_scores, scale=scale), p.COMBINED_REPAIR.format(scale=scale)
        fmt = pair_scores_format(scale)
    return [SystemMessage(p.PAIRWISE_SYSTEM), HumanMessage(user)], parser, repair, fmt


async def judge_call(state: CallTask, runtime: Runtime[JudgeContext]) -> dict[str, list[Reading]]:
    """One model conversation (with its repair turn) for one order or one response."""
    ctx = context_of(runtime, JudgeContext)
    model = load_chat_model(ctx.model, ctx.settings())
    messages, parser, repair, fmt = judge_messages(ctx.strategy, state)
    answer = await ask(model, messages, parser, repair, fmt, ctx.constrained)
    return {"readings": [Reading(order=state["order"], part=state["part"], answer=answer)]}


def order_verdict(order: Order, readings: list[Reading]) -> tuple[OrderVerdict, str | None]:
    """Map one order's readings back to responses A and B; returns the error when invalid."""
    errors = [f"{r.part if r.part != 'pair' else order}: {r.answer.error}" for r in readings if not r.answer.ok]
    if errors:
        return OrderVerdict(order=order, verdict="invalid"), "; ".join(errors)
    if readings[0].part != "pair":  # independent scoring: one reading per response
        scores = {r.part: r.answer.score() for r in readings}
        return OrderVerdict(order=order, verdict=label_of(scores["A"], scores["B"]), score_a=scores["A"], score_b=scores["B"]), None
    answer = readings[0].answer
    if isinstance(answer.value, str):  # direct comparison: a positional choice
        choice = answer.choice()
        return OrderVerdict(order=order, verdict=choice if order == "AB" else flip(choice)), None
    first, second = answer.scores()
    score_a, score_b = (first, second) if order == "AB" else (second, first)
    return OrderVerdict(order=order, verdict=label_of(score_a, score_b), score_a=score_a, score_b=score_b), None


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
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        seconds=max((r.answer.seconds for r in readings), default=0.0),
    )


def decide(state: JudgeState, runtime: Runtime[JudgeContext]) -> dict[str, Verdict]:
    """Turn the collected readings into the verdict."""
    ctx = context_of(runtime, JudgeContext)
    return {"verdict": combine(state["readings"], model=ctx.model, strategy=ctx.strategy, swap=ctx.swap)}
