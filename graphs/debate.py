"""LLM Debate: referees with personas discuss for some rounds, then each scores alone.

    START --> open_debate --next_speaker--> referee_turn --next_speaker--> referee_turn  (same or next round)
                                                                  \\--> closing_score  (one per referee, concurrent)
    closing_score --> conclude --> END
    open_debate --(a degenerate answer, with the defences on)--> conclude

The referees see both answers and each other's turns as screening leaves them (`guard.screen`).
`referee_turn` lets the current speaker talk and advances the speaker and round
counters; `next_speaker` loops until the round counter passes the rounds, then fans
out the closing scores. `conclude` averages the scores of the finals that parsed.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from fellowship.nodes.debate import closing_score, conclude, next_speaker, open_debate, referee_turn
from fellowship.state.debate import DebateContext, DebateOutput, DebateState
from fellowship.state.judge import PairInput


def build_debate() -> StateGraph[DebateState, DebateContext, PairInput, DebateOutput]:
    return (
        StateGraph(DebateState, context_schema=DebateContext, input_schema=PairInput, output_schema=DebateOutput)
        .add_node("open_debate", open_debate)
        .add_node("referee_turn", referee_turn)
        .add_node("closing_score", closing_score)
        .add_node("conclude", conclude)
        .add_edge(START, "open_debate")
        .add_conditional_edges("open_debate", next_speaker, ["referee_turn", "closing_score", "conclude"])
        .add_conditional_edges("referee_turn", next_speaker, ["referee_turn", "closing_score", "conclude"])
        .add_edge("closing_score", "conclude")
        .add_edge("conclude", END)
    )


graph = build_debate().compile(name="debate")
