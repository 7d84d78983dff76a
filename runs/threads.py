"""Checkpointing for single CLI runs: which saver and thread the graphs of this task use."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from langgraph.graph.state import CompiledStateGraph

_saver: ContextVar[Any] = ContextVar("fellowship_saver", default=None)
_thread: ContextVar[str | None] = ContextVar("fellowship_thread", default=None)


@asynccontextmanager
async def checkpointing(thread_id: str | None = None) -> AsyncIterator[str]:
    """Within this block, graphs run by `graph_for` keep checkpoints under one thread id (yielded)."""
    from fellowship.runs.stepping import saver

    thread_id = thread_id or str(uuid.uuid4())
    async with saver() as checkpoints:
        saver_token, thread_token = _saver.set(checkpoints), _thread.set(thread_id)
        try:
            yield thread_id
        finally:
            _saver.reset(saver_token)
            _thread.reset(thread_token)


def graph_for(name: str, default: CompiledStateGraph) -> CompiledStateGraph:
    """The graph compiled with the active checkpointer, or `default` (no checkpointer) outside `checkpointing`."""
    checkpoints = _saver.get()
    if checkpoints is None:
        return default
    from fellowship.graphs.registry import builders

    return builders()[name]().compile(checkpointer=checkpoints, name=name)


def current_thread(suffix: str = "") -> str | None:
    thread = _thread.get()
    return f"{thread}{suffix}" if thread else None
