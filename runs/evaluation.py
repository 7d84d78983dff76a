"""Run the evaluator graphs on one pair: judge, jury or debate."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig

from fellowship.fileio.pairs import Pair
from fellowship.graphs.debate import graph as debate_graph
from fellowship.graphs.judge import graph as judge_graph
from fellowship.graphs.jury import graph as jury_graph
from fellowship.models import ModelOptions
from fellowship.models.settings import JUDGE_MAX_TOKENS
from fellowship.nodes.judge import agree, mean_known
from fellowship.runs.threads import current_thread, graph_for
from fellowship.state.debate import DebateContext
from fellowship.state.judge import JudgeContext, Strategy
from fellowship.state.jury import JuryContext
from fellowship.state.records import DebateVerdict, JuryVerdict, OrderVerdict, Verdict
from fellowship.tracing.local import active as local_tracer


def run_config(graph: str, item_id: str, tags: list[str], max_concurrency: int | None = None,
               thread_id: str | None = None, context: Any = None) -> RunnableConfig:
    """Names, tags and metadata every traced run carries; with a thread, what resuming it needs."""
    config: RunnableConfig = {"run_name": graph, "tags": [f"graph:{graph}", *tags], "metadata": {"item_id": item_id}}
    if max_concurrency:
        config["max_concurrency"] = max_concurrency
    if thread_id:
        config["metadata"].update(thread_id=thread_id, graph=graph)
        if context is not None:  # a string: checkpoint metadata keeps plain values only
            config["metadata"]["context_json"] = json.dumps(dataclasses.asdict(context), default=str)
        config["configurable"] = {"thread_id": thread_id}
    if (tracer := local_tracer()) is not None:
        config["callbacks"] = [tracer]
    return config


def _inputs(pair: Pair, flipped: bool = False) -> dict[str, Any]:
    a, b = (pair.response_b, pair.response_a) if flipped else (pair.response_a, pair.response_b)
    return {"question": pair.question, "response_a": a, "response_b": b}


def _timed(started: float) -> float:
    return round(time.perf_counter() - started, 3)


async def judge_pair(pair: Pair, ctx: JudgeContext, max_concurrency: int | None = None) -> Verdict:
    started = time.perf_counter()
    config = run_config("judge", pair.id, [f"strategy:{ctx.strategy}", f"model:{ctx.model}"], max_concurrency, current_thread(), ctx)
    out = await graph_for("judge", judge_graph).ainvoke(_inputs(pair), context=ctx, config=config)
    return out["verdict"].model_copy(update={"seconds": _timed(started)})


async def jury_pair(pair: Pair, ctx: JuryContext, max_concurrency: int | None = None) -> JuryVerdict:
    started = time.perf_counter()
    tags = [f"strategy:{ctx.strategy}", *(f"model:{m}" for m in dict.fromkeys(ctx.members))]
    config = run_config("jury", pair.id, tags, max_concurrency, current_thread(), ctx)
    out = await graph_for("jury", jury_graph).ainvoke(_inputs(pair), context=ctx, config=config)
    return out["verdict"].model_copy(update={"seconds": _timed(started)})


async def debate_pair(pair: Pair, ctx: DebateContext, swap: bool = False, max_concurrency: int | None = None,
                      thread_id: str | None = None) -> DebateVerdict:
    """One debate; under `swap` a second debate with B shown first, run concurrently."""
    started = time.perf_counter()
    tags = [f"rounds:{ctx.rounds}", *(f"model:{m}" for m in dict.fromkeys(ctx.referee_models or (ctx.model,)))]
    flips = (False, True) if swap else (False,)
    graph = graph_for("debate", debate_graph)
    outs = await asyncio.gather(*(
        graph.ainvoke(_inputs(pair, f), context=ctx,
                      config=run_config("debate", pair.id, tags, max_concurrency,
                                        thread_id or current_thread("-swapped" if f else ""), ctx))
        for f in flips
    ))
    first: DebateVerdict = outs[0]["verdict"]
    if not swap:
        return first.model_copy(update={"seconds": _timed(started)})
    second: DebateVerdict = outs[1]["verdict"]
    flip = {"A": "B", "B": "A", "tie": "tie", "invalid": "invalid"}
    orders = [
        OrderVerdict(order="AB", verdict=first.verdict, score_a=first.score_a, score_b=first.score_b),
        OrderVerdict(order="BA", verdict=flip[second.verdict], score_a=second.score_b, score_b=second.score_a),  # type: ignore[arg-type]
    ]
    label, consistent = agree(orders)
    return first.model_copy(update={
        "verdict": label,
        "score_a": None if label == "invalid" else mean_known([o.score_a for o in orders]),
        "score_b": None if label == "invalid" else mean_known([o.score_b for o in orders]),
        "error": first.error or second.error,
        "swap": True, "consistent": consistent, "orders": orders, "reversed_debate": second,
        "input_tokens": first.input_tokens + second.input_tokens,
        "output_tokens": first.output_tokens + second.output_tokens,
        "seconds": _timed(started),
    })


EvaluatorKind = Literal["judge", "jury", "debate"]


@dataclass(frozen=True)
class EvaluatorConfig(ModelOptions):
    """Which evaluator decides between two responses, for workflows that need one (loop, win rate).

    Its model options are its own: a full judgement needs more tokens than a candidate may
    write, and evaluators judge greedily (temperature 0, as in the paper) by default.
    """

    max_tokens: int = JUDGE_MAX_TOKENS
    kind: EvaluatorKind = "judge"
    model: str = "local:smollm2"
    members: tuple[str, ...] = ()
    referee_models: tuple[str, ...] = ()
    strategy: Strategy = "combined-10"
    swap: bool = False
    rounds: int = 2

    def __post_init__(self) -> None:  # lists from a JSON context become tuples
        object.__setattr__(self, "members", tuple(self.members))
        object.__setattr__(self, "referee_models", tuple(self.referee_models))

    def describe(self) -> str:
        if self.kind == "jury":
            return f"jury of {', '.join(self.members)} ({self.strategy}{', swap' if self.swap else ''})"
        if self.kind == "debate":
            return f"debate on {', '.join(self.referee_models or (self.model,))} ({self.rounds} rounds{', swap' if self.swap else ''})"
        return f"judge {self.model} ({self.strategy}{', swap' if self.swap else ''})"

    async def evaluate(self, pair: Pair, max_concurrency: int | None = None) -> Verdict | JuryVerdict | DebateVerdict:
        if self.kind == "jury":
            ctx = JuryContext(members=self.members, strategy=self.strategy, swap=self.swap, **self.options())
            return await jury_pair(pair, ctx, max_concurrency)
        if self.kind == "debate":
            ctx2 = DebateContext(model=self.model, referee_models=self.referee_models, rounds=self.rounds, **self.options())
            return await debate_pair(pair, ctx2, self.swap, max_concurrency)
        ctx3 = JudgeContext(model=self.model, strategy=self.strategy, swap=self.swap, **self.options())
        return await judge_pair(pair, ctx3, max_concurrency)
