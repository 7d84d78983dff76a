"""Nodes of the jury graph: summon the members, let each vote, count the votes."""

from __future__ import annotations

import random
from collections import Counter

from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from fellowship.nodes import context_of
from fellowship.nodes.judge import verdict_confidence
from fellowship.state.judge import JudgeContext, JudgeOutput, JudgeState, PairInput
from fellowship.state.jury import JuryContext, JuryState, MemberTask
from fellowship.state.records import JuryVerdict, Label, Usage, Verdict, Vote, flipped_flags
from fellowship.state.verdicts import flip, mean_known, plurality

JudgeGraph = CompiledStateGraph[JudgeState, JudgeContext, PairInput, JudgeOutput]


def seat_flips(members: int, seed: int) -> list[bool]:
    """Which seats see B first under the order shuffle: reproducible from the seed."""
    rng = random.Random(seed)
    return [rng.random() < 0.5 for _ in range(members)]


async def summon_members(state: JuryState, runtime: Runtime[JuryContext]) -> list[Send]:
    """Fan out one judge run per member; they run concurrently."""
    ctx = context_of(runtime, JuryContext)
    flips = seat_flips(len(ctx.members), ctx.shuffle_seed) if ctx.shuffle else [False] * len(ctx.members)
    return [
        Send("member_vote", MemberTask(
            question=state["question"], response_a=state["response_a"], response_b=state["response_b"],
            seat=seat, member=member, flipped=flipped,
        ))
        for seat, (member, flipped) in enumerate(zip(ctx.members, flips))
    ]


async def member_vote(state: MemberTask, runtime: Runtime[JuryContext], *, judge: JudgeGraph) -> dict[str, list[Vote]]:
    """One member judges the pair (in its seat's order) with the `judge` graph, which the jury graph passes in."""
    a, b = (state["response_b"], state["response_a"]) if state["flipped"] else (state["response_a"], state["response_b"])
    out = await judge.ainvoke(
        {"question": state["question"], "response_a": a, "response_b": b},
        context=context_of(runtime, JuryContext).judge_context(state["member"]),
    )
    judged: Verdict = out["verdict"]
    if state["flipped"]:
        label, score_a, score_b = flip(judged.verdict), judged.score_b, judged.score_a
    else:
        label, score_a, score_b = judged.verdict, judged.score_a, judged.score_b
    vote = Vote(member=state["member"], seat=state["seat"], verdict=label, score_a=score_a, score_b=score_b,
                flipped=state["flipped"], judgement=judged)
    return {"votes": [vote]}


async def tally(state: JuryState, runtime: Runtime[JuryContext]) -> dict[str, JuryVerdict]:
    """The panel's verdict by plurality, invalid votes left out and counted."""
    ctx = context_of(runtime, JuryContext)
    votes = sorted(state["votes"], key=lambda v: v.seat)
    labels = [v.verdict for v in votes]
    usage = Usage.total(v.judgement for v in votes)
    # Every member screened the same two responses; the first vote says what was found, under the pair's labels.
    first = votes[0] if votes else None
    flags = {} if first is None else flipped_flags(first.judgement.flags) if first.flipped else first.judgement.flags
    ruled = first.judgement.ruled if first is not None and all(v.judgement.ruled for v in votes) else None
    label = plurality(labels)
    verdict = JuryVerdict(
        verdict=label,
        confidence=jury_confidence(label, votes),
        score_a=mean_known(v.score_a for v in votes),
        score_b=mean_known(v.score_b for v in votes),
        counts=dict(Counter(labels)),
        invalid_votes=labels.count("invalid"),
        votes=votes,
        strategy=ctx.strategy,
        swap=ctx.swap,
        flags=flags,
        ruled=ruled,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        seconds=max((v.judgement.seconds for v in votes), default=0.0),
    )
    return {"verdict": verdict}


def jury_confidence(label: Label, votes: list[Vote]) -> float | None:
    """The mean over the valid votes of each member's probability of the panel's verdict (None where one is missing)."""
    valid = [v for v in votes if v.verdict != "invalid"]
    if label == "invalid" or not valid:
        return None
    values = [verdict_confidence(flip(label) if v.flipped else label, v.judgement.orders) for v in valid]
    return None if any(x is None for x in values) else sum(x for x in values if x is not None) / len(values)
