"""Every workflow by name, and which graphs run inside which nodes."""

from __future__ import annotations

from langgraph.graph.state import CompiledStateGraph


def graphs() -> dict[str, CompiledStateGraph]:
    """The compiled graphs (without checkpointer), by name."""
    from fellowship.graphs import debate, generate, judge, jury, loop

    return {"judge": judge.graph, "jury": jury.graph, "debate": debate.graph, "loop": loop.graph, "generate": generate.graph}


def builders() -> dict:
    """The uncompiled graphs, by name (the CLI compiles them with a checkpointer)."""
    from fellowship.graphs import debate, generate, judge, jury, loop

    return {"judge": judge.build_judge, "jury": jury.build_jury, "debate": debate.build_debate,
            "loop": loop.build_loop, "generate": generate.build_generate}


def context_types() -> dict[str, type]:
    """Each graph's run-context class, by name."""
    from fellowship.state.debate import DebateContext
    from fellowship.state.generate import GenerateContext
    from fellowship.state.judge import JudgeContext
    from fellowship.state.jury import JuryContext
    from fellowship.state.loop import LoopContext

    return {"judge": JudgeContext, "jury": JuryContext, "debate": DebateContext, "loop": LoopContext, "generate": GenerateContext}


# node -> the graphs it invokes inside (not structural subgraphs, so drawings list them apart)
NESTED: dict[str, dict[str, tuple[str, ...]]] = {
    "judge": {},
    "jury": {"member_vote": ("judge",)},
    "debate": {},
    "loop": {"knockout": ("judge", "jury", "debate")},
    "generate": {"make_candidate": ("loop",), "compare": ("judge", "jury", "debate"),
                 "knockout_candidates": ("judge", "jury", "debate")},
}

DESCRIPTIONS = {
    "judge": "LLM-as-a-Judge: one model, one prompting strategy, optional order swap",
    "jury": "LLMs-as-a-Jury: members judge concurrently, plurality vote",
    "debate": "LLM Debate: referees discuss in rounds, then score concurrently",
    "loop": "LLM Feedback Loop: generator and reviewers over iterations, knockout selection",
    "generate": "one prompt to candidates and comparisons (the rows of the DPO/KTO datasets)",
}
