"""Preference-data generation for one prompt: candidates, then comparisons.

    START --plan_candidates--> make_candidate (one per configured source, concurrent)
          --> collect_candidates --plan_comparisons--> compare (every pair, concurrent) --> END
                                                  \\--> knockout_candidates --next_candidate--> itself | END

A source is a single model or a feedback loop: the loop graph is `make_candidate`'s
subgraph. The comparisons run the context's evaluator graph, one of three: the nodes'
metadata (`runs`) names them for the drawings.
The rows of the DPO and KTO datasets are built from the result (see `preference/`).
"""

from __future__ import annotations

from functools import partial

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from fellowship.graphs import loop
from fellowship.graphs.evaluate import evaluate
from fellowship.nodes.generate import (
    collect_candidates,
    compare,
    knockout_candidates,
    make_candidate,
    next_candidate,
    plan_candidates,
    plan_comparisons,
)
from fellowship.state.generate import CandidateTask, GenerateContext, GenerateInput, GenerateOutput, GenerateState
from fellowship.state.records import Candidate

EVALUATORS = {"runs": ["judge", "jury", "debate"]}


async def candidate_with_loop(state: CandidateTask, runtime: Runtime[GenerateContext]) -> dict[str, list[Candidate]]:
    """`make_candidate` with the loop graph; LangGraph finds the graph this names and treats it as the node's subgraph."""
    return await make_candidate(state, runtime, loop=loop.graph)


def build_generate() -> StateGraph[GenerateState, GenerateContext, GenerateInput, GenerateOutput]:
    return (
        StateGraph(GenerateState, context_schema=GenerateContext, input_schema=GenerateInput, output_schema=GenerateOutput)
        .add_node("make_candidate", candidate_with_loop)
        .add_node("collect_candidates", collect_candidates)
        .add_node("compare", partial(compare, evaluate=evaluate), metadata=EVALUATORS)
        .add_node("knockout_candidates", partial(knockout_candidates, evaluate=evaluate), metadata=EVALUATORS)
        .add_conditional_edges(START, plan_candidates, ["make_candidate"])
        .add_edge("make_candidate", "collect_candidates")
        .add_conditional_edges("collect_candidates", plan_comparisons, ["compare", "knockout_candidates"])
        .add_edge("compare", END)
        .add_conditional_edges("knockout_candidates", next_candidate, ["knockout_candidates", END])
    )


graph = build_generate().compile(name="generate")
