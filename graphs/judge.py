"""LLM-as-a-Judge: one model compares two responses with one of the paper's strategies.

    START --plan_calls--> judge_call (one per order, or per response) --> decide --> END
          \\--(a degenerate response)--------------------------------> decide

`plan_calls` screens both responses for text aimed at the judge (`guard.screen`) and is a
conditional edge that fans out with `Send`: one call for a plain run, two under `swap`
(both presentation orders), two for independent scoring (one conversation per response);
with the defences on, a response that answers nothing goes straight to `decide`, which
rules against it. The calls run concurrently; `decide` combines them.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from fellowship.nodes.judge import decide, judge_call, plan_calls
from fellowship.state.judge import JudgeContext, JudgeOutput, JudgeState, PairInput


def build_judge() -> StateGraph[JudgeState, JudgeContext, PairInput, JudgeOutput]:
    return (
        StateGraph(JudgeState, context_schema=JudgeContext, input_schema=PairInput, output_schema=JudgeOutput)
        .add_node("judge_call", judge_call)
        .add_node("decide", decide)
        .add_conditional_edges(START, plan_calls, ["judge_call", "decide"])
        .add_edge("judge_call", "decide")
        .add_edge("decide", END)
    )


graph = build_judge().compile(name="judge")
