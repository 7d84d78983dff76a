"""LLMs-as-a-Jury: several models judge the same pair independently; the plurality decides.

    START --summon_members--> member_vote (one per member, concurrent) --> tally --> END

Each member runs the judge graph with the panel's strategy (and `swap`, per member): it is
`member_vote`'s subgraph, so `graph draw`, `langgraph dev` and Studio show it inside the node.
With `shuffle`, a seeded half of the seats see B first, so position bias does not
line up across the panel; their votes are mapped back before counting.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from fellowship.graphs import judge
from fellowship.nodes.jury import member_vote, summon_members, tally
from fellowship.state.judge import PairInput
from fellowship.state.jury import JuryContext, JuryOutput, JuryState, MemberTask
from fellowship.state.records import Vote


async def vote_with_judge(state: MemberTask, runtime: Runtime[JuryContext]) -> dict[str, list[Vote]]:
    """`member_vote` with the judge graph; LangGraph finds the graph this names and treats it as the node's subgraph."""
    return await member_vote(state, runtime, judge=judge.graph)


def build_jury() -> StateGraph[JuryState, JuryContext, PairInput, JuryOutput]:
    return (
        StateGraph(JuryState, context_schema=JuryContext, input_schema=PairInput, output_schema=JuryOutput)
        .add_node("member_vote", vote_with_judge)
        .add_node("tally", tally)
        .add_conditional_edges(START, summon_members, ["member_vote"])
        .add_edge("member_vote", "tally")
        .add_edge("tally", END)
    )


graph = build_jury().compile(name="jury")
