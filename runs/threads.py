"""Checkpointing for single CLI runs: which saver and thread the graphs of this task use."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from langgraph.graph.state import CompiledStateGraph

from fellowship.runs.batch import ItemFailure, run_all

T = TypeVar("T")
R = TypeVar("R")

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


async def checkpointed_items(items: Sequence[T], job: Callable[[T], Awaitable[R]], item_id: Callable[[T], str],
                             batch_id: str, **run_all_options: Any) -> list[R | ItemFailure]:
    """`run_all` with each item's graph runs checkpointed under its own thread `<batch_id>-<item id>`."""
    async with checkpointing(batch_id):

        async def one(item: T) -> R:
            _thread.set(f"{batch_id}-{item_id(item)}")  # task-local: each item runs in its own task
            return await job(item)

        return await run_all(items, one, **run_all_options)


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
