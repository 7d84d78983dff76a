"""Run one async job per item with bounded concurrency, reporting each completion."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")


class ItemFailure(Exception):
    """A job that raised; carries the item it was for."""

    def __init__(self, index: int, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.index, self.cause = index, cause


Admit = Callable[[int], bool]
"""Whether one more item may start, given how many are in flight (a budget); once it says no with none in flight,
no further item starts."""


class Gate(Generic[T]):
    """Hands out the next item while `admit` lets it; a refusal waits for an item in flight to finish."""

    def __init__(self, items: Sequence[T], admit: Admit | None) -> None:
        self.pending = iter(enumerate(items))  # shared by the workers: each takes the next item when it is free
        self.admit, self.in_flight, self.finished = admit, 0, asyncio.Event()
        self.closed = False  # refused with nothing in flight: no item starts any more

    async def next(self) -> tuple[int, T] | None:
        while not self.closed:
            if self.admit is None or self.admit(self.in_flight):
                taken = next(self.pending, None)
                if taken is not None:
                    self.in_flight += 1
                return taken
            if self.in_flight == 0:
                self.closed = True
                break
            self.finished.clear()
            await self.finished.wait()
        return None

    def done(self) -> None:
        self.in_flight -= 1
        self.finished.set()

    async def serve(self, call: Callable[[T], Awaitable[R]], on_done: Callable[[int, R | ItemFailure], None]) -> None:
        """One worker: take items while the gate lets it, call each, and hand on its result or its failure."""
        while (taken := await self.next()) is not None:
            index, item = taken
            try:
                result: R | ItemFailure = await call(item)
            except Exception as exc:  # noqa: BLE001 - recorded per item, reported by the caller
                result = ItemFailure(index, exc)
            try:
                on_done(index, result)  # before the gate hears of it: a budget counts the item first
            finally:
                self.done()


def recorder(results: list[R | ItemFailure | None] | None,
             on_done: Callable[[int, R | ItemFailure], None] | None) -> Callable[[int, R | ItemFailure], None]:
    """What a finished item does: its result into `results` (when kept), then `on_done`."""
    def record(index: int, result: R | ItemFailure) -> None:
        if results is not None:
            results[index] = result
        if on_done:
            on_done(index, result)

    return record


async def run_all(
    items: Sequence[T],
    job: Callable[[T], Awaitable[R]],
    *,
    concurrency: int,
    on_done: Callable[[int, R | ItemFailure], None] | None = None,
    keep: bool = True,
    admit: Admit | None = None,
) -> list[R | ItemFailure]:
    """Results in input order; a failing item yields an ItemFailure instead of stopping the rest.

    `concurrency` workers take the items in turn, so only that many are in flight, and held, at once.
    Without `keep` the results are only handed to `on_done` and none is returned: a journal keeps them.
    With `admit`, items it does not let start are left undone (their results stay None).
    """
    results: list[R | ItemFailure | None] = [None] * len(items) if keep else []
    gate = Gate(items, admit)
    record = recorder(results if keep else None, on_done)
    await asyncio.gather(*(gate.serve(job, record) for _ in range(min(max(1, concurrency), len(items)))))
    return cast(list[R | ItemFailure], results)  # in input order; None only for an item `admit` held back
