"""Run one async job per item with bounded concurrency, reporting each completion."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class ItemFailure(Exception):
    """A job that raised; carries the item it was for."""

    def __init__(self, index: int, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.index, self.cause = index, cause


async def run_all(
    items: Sequence[T],
    job: Callable[[T], Awaitable[R]],
    *,
    concurrency: int,
    on_done: Callable[[int, R | ItemFailure], None] | None = None,
) -> list[R | ItemFailure]:
    """Results in input order; a failing item yields an ItemFailure instead of stopping the rest."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(index: int, item: T) -> R | ItemFailure:
        async with gate:
            try:
                result: R | ItemFailure = await job(item)
            except Exception as exc:  # noqa: BLE001 - recorded per item, reported by the caller
                result = ItemFailure(index, exc)
        if on_done:
            on_done(index, result)
        return result

    return list(await asyncio.gather(*(one(i, item) for i, item in enumerate(items))))  # in input order
