"""The LLM Feedback Loop: a generator revises its response from reviewers' feedback.

    START --> generate --after_response--> review (one per reviewer, concurrent) --> collect_reviews
                                      \\--> knockout | finish             (after the last response)
    collect_reviews --after_reviews--> generate | knockout | finish      (early stop, off by default)
    knockout --next_bout--> knockout | finish --> END

Each role keeps its own conversation in state: the generator sees its earlier responses
and the feedback; each reviewer its earlier reviews. The best response is picked by the
context's evaluator graph (bound into `knockout`) in a knockout: 1 vs 2, the winner vs 3,
...; a tie carries the later one forward.
"""

from __future__ import annotations

from functools import partial

from langgraph.graph import END, START, StateGraph

from fellowship.graphs.evaluate import evaluate
from fellowship.nodes.loop import after_response, after_reviews, collect_reviews, finish, knockout, next_bout, respond, review
from fellowship.state.loop import LoopContext, LoopInput, LoopOutput, LoopState


def build_loop() -> StateGraph[LoopState, LoopContext, LoopInput, LoopOutput]:
    return (
        StateGraph(LoopState, context_schema=LoopContext, input_schema=LoopInput, output_schema=LoopOutput)
        .add_node("respond", respond)
        .add_node("review", review)
        .add_node("collect_reviews", collect_reviews)
        .add_node("knockout", partial(knockout, evaluate=evaluate), metadata={"runs": ["judge", "jury", "debate"]})
        .add_node("finish", finish)
        .add_edge(START, "respond")
        .add_conditional_edges("respond", after_response, ["review", "knockout", "finish"])
        .add_edge("review", "collect_reviews")
        .add_conditional_edges("collect_reviews", after_reviews, ["respond", "knockout", "finish"])
        .add_conditional_edges("knockout", next_bout, ["knockout", "finish"])
        .add_edge("finish", END)
    )


graph = build_loop().compile(name="loop")

