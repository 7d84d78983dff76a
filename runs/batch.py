"""Run one async job per item with bounded concurrency, reporting each completion."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

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
    keep: bool = True,
) -> list[R | ItemFailure]:
    """Results in input order; a failing item yields an ItemFailure instead of stopping the rest.

    `concurrency` workers take the items in turn, so only that many are in flight, and held, at once.
    Without `keep` the results are only handed to `on_done` and none is returned: a journal keeps them.
    """
    results: list[R | ItemFailure | None] = [None] * len(items) if keep else []
    pending = iter(enumerate(items))  # shared by the workers: each takes the next item when it is free

    async def worker() -> None:
        for index, item in pending:
            try:
                result: R | ItemFailure = await job(item)
            except Exception as exc:  # noqa: BLE001 - recorded per item, reported by the caller
                result = ItemFailure(index, exc)
            if keep:
                results[index] = result
            if on_done:
                on_done(index, result)

    await asyncio.gather(*(worker() for _ in range(min(max(1, concurrency), len(items)))))
    return cast(list[R | ItemFailure], results)  # every item has its result, in input order
