"""Every workflow by name: its graph, how to build it, its state and context, and what it is for.

Which graphs run inside which nodes is not listed here: `inner_graphs` reads it from each
graph's own definition (the subgraphs LangGraph finds in its nodes, and the `runs` metadata
of the nodes that run one of several evaluator graphs).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from fellowship.graphs import debate, generate, judge, jury, loop
from fellowship.graphs.running import Build, Graph
from fellowship.state.debate import DebateContext, DebateState
from fellowship.state.generate import GenerateContext, GenerateState
from fellowship.state.judge import JudgeContext, JudgeState
from fellowship.state.jury import JuryContext, JuryState
from fellowship.state.loop import LoopContext, LoopState


@dataclass(frozen=True)
class Workflow:
    graph: Graph
    build: Build
    state: type[Any]
    context: type[BaseModel]
    description: str

    def fields(self) -> list[str]:
        """The state's fields, as `step` and `fork` may edit them."""
        return list(typing.get_type_hints(self.state))


WORKFLOWS: dict[str, Workflow] = {
    "judge": Workflow(judge.graph, judge.build_judge, JudgeState, JudgeContext,
                      "LLM-as-a-Judge: one model, one prompting strategy, optional order swap"),
    "jury": Workflow(jury.graph, jury.build_jury, JuryState, JuryContext,
                     "LLMs-as-a-Jury: members judge concurrently, plurality vote"),
    "debate": Workflow(debate.graph, debate.build_debate, DebateState, DebateContext,
                       "LLM Debate: referees discuss in rounds, then score concurrently"),
    "loop": Workflow(loop.graph, loop.build_loop, LoopState, LoopContext,
                     "LLM Feedback Loop: generator and reviewers over iterations, knockout selection"),
    "generate": Workflow(generate.graph, generate.build_generate, GenerateState, GenerateContext,
                         "one prompt to candidates and comparisons (the rows of the DPO/KTO datasets)"),
}


def inner_graphs(name: str) -> dict[str, list[str]]:
    """node -> the graphs it runs inside: its subgraph, or the evaluator graphs its metadata names."""
    graph = WORKFLOWS[name].graph
    inner = {node: [str(subgraph.name)] for node, subgraph in graph.get_subgraphs()}
    for node, data in graph.get_graph().nodes.items():
        if data.metadata and "runs" in data.metadata:
            inner[node] = list(data.metadata["runs"])
    return inner
