"""Nodes of the debate graph: referees speak in turn for some rounds, then each scores alone."""

from __future__ import annotations

from functools import partial
from typing import Literal

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Send

from fellowship.guard.fence import blocks
from fellowship.guard.screen import screen
from fellowship.models import load_chat_model
from fellowship.models.usage import call
from fellowship.nodes import context_of
from fellowship.nodes.asking import ask
from fellowship.parsing.formats import pair_scores_format
from fellowship.parsing.scores import parse_pair_scores
from fellowship.prompts import debate as p
from fellowship.prompts.fencing import with_rule
from fellowship.state.debate import DebateContext, DebateState, FinalTask
from fellowship.state.records import DebateVerdict, Final, PairScreening, Turn, Usage
from fellowship.state.verdicts import label_of, mean_known


def transcript(turns: list[Turn], question: str = "", guard: bool = False) -> str:
    """The discussion so far; with `guard`, each turn as screening leaves it (referees read each other too)."""
    if not turns:
        return p.NO_DISCUSSION
    return "\n\n".join(f"[{t.referee}, round {t.round}]\n{(screen(t.text, question).shown if guard else t.text).strip()}"
                        for t in turns)


def referee_messages(ctx: DebateContext, seat: int, state: DebateState | FinalTask, turns: list[Turn], task: str) -> list[BaseMessage]:
    referee = ctx.referees[seat]
    question, screening = state["question"], PairScreening.of(state["question"], state["response_a"], state["response_b"])
    first, second = (screening.a.shown, screening.b.shown) if ctx.guard else (state["response_a"], state["response_b"])
    discussion = transcript(turns, question, ctx.guard)
    case = blocks(ctx.guard, ("question", question), ("assistant_1", first), ("assistant_2", second), ("discussion", discussion))
    return [
        SystemMessage(with_rule(p.SYSTEM.format(referee=referee, persona=p.PERSONAS[referee]), ctx.guard, "assistant_1", case)),
        HumanMessage(case + "\n\n" + task),
    ]


async def open_debate(state: DebateState) -> dict[str, int]:
    return {"round": 1, "speaker": 0}


def screening_of(state: DebateState) -> PairScreening:
    return PairScreening.of(state["question"], state["response_a"], state["response_b"])


async def referee_turn(state: DebateState, runtime: Runtime[DebateContext]) -> dict[str, object]:
    """The current speaker sees the whole discussion so far and adds a brief turn."""
    ctx = context_of(runtime, DebateContext)
    seat, round_ = state["speaker"], state["round"]
    model_spec = ctx.model_of(seat)
    messages = referee_messages(ctx, seat, state, state.get("turns", []), p.TURN.format(round=round_, rounds=ctx.rounds))
    reply = await call(load_chat_model(model_spec, ctx.settings()), messages)
    turn = Turn(referee=ctx.referees[seat], model=model_spec, round=round_, text=reply.text, **Usage.of(reply).model_dump())
    last_seat = seat == len(ctx.referees) - 1
    return {"turns": [turn], "speaker": 0 if last_seat else seat + 1, "round": round_ + 1 if last_seat else round_}


async def next_speaker(state: DebateState, runtime: Runtime[DebateContext]) -> Literal["referee_turn", "conclude"] | list[Send]:
    """Keep talking while the round counter is within the rounds; then every referee scores, concurrently.
    With the defences on, a degenerate answer is ruled on at once."""
    ctx = context_of(runtime, DebateContext)
    if ctx.guard and screening_of(state).ruling() is not None:
        return "conclude"
    if state["round"] <= ctx.rounds:
        return "referee_turn"
    return [
        Send("closing_score", FinalTask(
            question=state["question"], response_a=state["response_a"], response_b=state["response_b"],
            turns=state.get("turns", []), seat=seat,
        ))
        for seat in range(len(ctx.referees))
    ]


async def closing_score(state: FinalTask, runtime: Runtime[DebateContext]) -> dict[str, list[Final]]:
    """One referee's own final scores, with the repair turn when they cannot be read."""
    ctx = context_of(runtime, DebateContext)
    model_spec = ctx.model_of(state["seat"])
    messages = referee_messages(ctx, state["seat"], state, state["turns"], p.FINAL)
    parser = partial(parse_pair_scores, scale=10, labels=("1", "2"), last=ctx.guard)
    fmt = pair_scores_format(10, labels=("1", "2"))
    screening = PairScreening.of(state["question"], state["response_a"], state["response_b"])
    quoted = [screening.a.shown, screening.b.shown] if ctx.guard else []  # what the referee was shown
    answer = await ask(load_chat_model(model_spec, ctx.settings()), messages, parser, p.FINAL_REPAIR, fmt, ctx.constrained,
                       quoted=quoted)
    score_a, score_b = answer.scores() if answer.ok else (None, None)
    final = Final(referee=ctx.referees[state["seat"]], model=model_spec, score_a=score_a, score_b=score_b,
                  error=answer.error, raw=answer.texts, **answer.usage.model_dump())
    return {"finals": [final]}


async def conclude(state: DebateState, runtime: Runtime[DebateContext]) -> dict[str, DebateVerdict]:
    """Mean scores over the referees whose final parsed; the higher mean wins (or the rule on a degenerate answer)."""
    ctx = context_of(runtime, DebateContext)
    screening = screening_of(state)
    ruling = screening.ruling() if ctx.guard else None
    if ruling is not None:
        return {"verdict": DebateVerdict(verdict=ruling[0], rounds=ctx.rounds, flags=screening.flags(), ruled=ruling[1])}
    order = {name: i for i, name in enumerate(ctx.referees)}
    finals = sorted(state.get("finals", []), key=lambda f: order[f.referee])
    valid = [f for f in finals if f.error is None]
    turns = state.get("turns", [])
    usage = Usage.total([*turns, *finals])
    score_a, score_b = mean_known(f.score_a for f in valid), mean_known(f.score_b for f in valid)
    if score_a is not None and score_b is not None:
        label, error = label_of(score_a, score_b), None
    else:
        label, error = "invalid", "no referee's final scores could be read"
    verdict = DebateVerdict(
        verdict=label, score_a=score_a, score_b=score_b, error=error, rounds=ctx.rounds, turns=turns,
        finals=finals, invalid_finals=len(finals) - len(valid), flags=screening.flags(), **usage.model_dump(),
    )
    return {"verdict": verdict}
