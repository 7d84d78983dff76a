"""Checkpointing for single CLI runs: which saver and thread the graphs of this task use."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fellowship.graphs import running
from fellowship.runs.batch import ItemFailure, run_all
from fellowship.runs.stepping import saver

T = TypeVar("T")
R = TypeVar("R")


@asynccontextmanager
async def checkpoint_thread(thread_id: str | None = None) -> AsyncIterator[str]:
    """Within this block, the graphs run keep checkpoints in the project's SQLite file under one thread id (yielded)."""
    thread_id = thread_id or str(uuid.uuid4())
    async with saver() as checkpoints:
        with running.use_checkpointer(checkpoints, thread_id):
            yield thread_id


async def checkpointed_items(items: Sequence[T], job: Callable[[T], Awaitable[R]], item_id: Callable[[T], str],
                             batch_id: str, **run_all_options: Any) -> list[R | ItemFailure]:
    """`run_all` with each item's graph runs checkpointed under its own thread `<batch_id>-<item id>`."""
    async with checkpoint_thread(batch_id):

        async def one(item: T) -> R:
            running.set_thread(f"{batch_id}-{item_id(item)}")  # task-local: each item runs in its own task
            return await job(item)

        return await run_all(items, one, **run_all_options)


async def checkpointed_one(make: Callable[[], Awaitable[R]], announce: Callable[[str], None]) -> R:
    """One run under a new checkpoint thread, whose id is announced first (to resume or inspect it)."""
    async with checkpoint_thread() as thread_id:
        announce(thread_id)
        return await make()
