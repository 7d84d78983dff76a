"""Nodes of the generation graph: candidates in parallel, then the evaluator's comparisons."""

from __future__ import annotations

import time
from itertools import combinations
from typing import Literal

from langchain_core.messages import HumanMessage
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Send

from fellowship.fileio.pairs import Pair
from fellowship.models import load_chat_model
from fellowship.models.settings import derive_seed
from fellowship.models.usage import call
from fellowship.nodes import context_of
from fellowship.state.evaluator import Evaluate, as_shown, shown_flipped
from fellowship.state.generate import (
    CandidateTask,
    CompareTask,
    GenerateContext,
    GenerateState,
)
from fellowship.state.loop import LoopContext, LoopInput, LoopOutput, LoopState
from fellowship.state.records import Candidate, Comparison, LoopResult, Usage
from fellowship.state.verdicts import flip

LoopGraph = CompiledStateGraph[LoopState, LoopContext, LoopInput, LoopOutput]


async def plan_candidates(state: GenerateState, runtime: Runtime[GenerateContext]) -> list[Send]:
    return [Send("make_candidate", CandidateTask(id=state["id"], prompt=state["prompt"], seat=seat))
            for seat in range(len(context_of(runtime, GenerateContext).candidates))]


async def make_candidate(state: CandidateTask, runtime: Runtime[GenerateContext], *, loop: LoopGraph) -> dict[str, list[Candidate]]:
    """One configured source answers the prompt: a single model call, or a whole feedback loop
    (the `loop` graph, which the generate graph passes in)."""
    ctx = context_of(runtime, GenerateContext)
    config = ctx.candidates[state["seat"]]
    # Each source samples with a seed of its own for this prompt: two sources of one model
    # differ at temperature > 0, and a rerun gives the same answers.
    seed = derive_seed(ctx.seed, config.name, state["prompt"])
    started = time.perf_counter()
    if config.kind == "single":
        reply = await call(load_chat_model(config.models[0], ctx.settings(seed=seed)), [HumanMessage(state["prompt"])])
        candidate = Candidate(name=config.name, kind="single", models=list(config.models), response=reply.text, seed=seed,
                              seconds=round(time.perf_counter() - started, 3), **Usage.of(reply).model_dump())
    else:
        loop_ctx = LoopContext(generator=config.models[0], reviewers=config.models[1:], iterations=ctx.iterations,
                               review_max_tokens=ctx.review_max_tokens, evaluator=ctx.evaluator, **{**ctx.options(), "seed": seed})
        result: LoopResult = (await loop.ainvoke({"prompt": state["prompt"]}, context=loop_ctx))["result"]
        candidate = Candidate(name=config.name, kind="loop", models=list(config.models), response=result.best_response,
                              seed=seed, loop=result, input_tokens=result.input_tokens, output_tokens=result.output_tokens,
                              seconds=round(time.perf_counter() - started, 3))
    return {"candidates": [candidate]}


async def collect_candidates(state: GenerateState) -> dict[str, object]:
    """Fan-in point after the candidates."""
    return {}


def _ordered(state: GenerateState, runtime: Runtime[GenerateContext]) -> list[Candidate]:
    order = {c.name: i for i, c in enumerate(context_of(runtime, GenerateContext).candidates)}
    return sorted(state.get("candidates", []), key=lambda c: order[c.name])


async def plan_comparisons(state: GenerateState, runtime: Runtime[GenerateContext]) -> Literal["knockout_candidates"] | list[Send]:
    """Every pair of candidates at once, or a knockout in the configured order."""
    candidates = _ordered(state, runtime)
    if context_of(runtime, GenerateContext).pairing == "knockout":
        return "knockout_candidates"
    return [Send("compare", CompareTask(id=state["id"], prompt=state["prompt"], a=a, b=b)) for a, b in combinations(candidates, 2)]


async def _compare(evaluate: Evaluate, ctx: GenerateContext, item_id: str, prompt: str, a: Candidate, b: Candidate) -> Comparison:
    if a.response.strip() == b.response.strip():  # nothing to prefer: spare the evaluator
        return Comparison(a=a.name, b=b.name, verdict="tie", skipped="identical responses")
    pair = Pair(id=f"{item_id}:{a.name}-vs-{b.name}", question=prompt, response_a=a.response, response_b=b.response)
    flipped = shown_flipped(pair, ctx.evaluator)  # which answer is shown first is drawn, so position bias cannot favour a source
    result = await evaluate(as_shown(pair, flipped), ctx.evaluator)
    verdict, score_a, score_b = ((flip(result.verdict), result.score_b, result.score_a) if flipped
                                 else (result.verdict, result.score_a, result.score_b))
    return Comparison(a=a.name, b=b.name, verdict=verdict, score_a=score_a, score_b=score_b, consistent=result.consistent,
                      flipped=flipped, evaluation=result)


async def compare(state: CompareTask, runtime: Runtime[GenerateContext], *, evaluate: Evaluate) -> dict[str, list[Comparison]]:
    """One pair of candidates, judged by the context's evaluator (`evaluate`, bound in by the graph)."""
    ctx = context_of(runtime, GenerateContext)
    return {"comparisons": [await _compare(evaluate, ctx, state["id"], state["prompt"], state["a"], state["b"])]}


async def knockout_candidates(state: GenerateState, runtime: Runtime[GenerateContext], *, evaluate: Evaluate) -> dict[str, object]:
    """The champion so far (A) against the next candidate (B); a tie or invalid verdict carries the later one."""
    candidates = _ordered(state, runtime)
    by_name = {c.name: c for c in candidates}
    champion = by_name[state.get("champion") or candidates[0].name]
    challenger = candidates[len(state.get("comparisons", [])) + 1]
    comparison = await _compare(evaluate, context_of(runtime, GenerateContext), state["id"], state["prompt"], champion, challenger)
    winner = champion.name if comparison.verdict == "A" else challenger.name
    return {"comparisons": [comparison], "champion": winner}


async def next_candidate(state: GenerateState, runtime: Runtime[GenerateContext]) -> Literal["knockout_candidates", "__end__"]:
    sources = len(context_of(runtime, GenerateContext).candidates)
    return "knockout_candidates" if len(state.get("comparisons", [])) + 1 < sources else "__end__"
