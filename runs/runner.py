"""The one way fellowship runs many items: here or on Ray, journalled or checkpointed, with progress.

Every batch command hands its items and a job to `Batch`: `journalled` appends each
finished item to a resume journal (`runs.journal`) and skips what it already holds;
`checkpointed` keeps each item's graph runs under a thread of its own, so a single item
can be resumed or inspected with `--thread`. Either way a failing item is recorded and the
rest go on, and the `Meter` shows how far the batch has got. The garbage collector is set for
a long batch while one runs (`runs.collector`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from fellowship.fileio.errors import InputError
from fellowship.fileio.prompts import PromptItem
from fellowship.runs.batch import Admit, ItemFailure, run_all
from fellowship.runs.collector import settled
from fellowship.runs.journal import Journal, input_hash
from fellowship.runs.threads import checkpointed_items
from fellowship.tracing.local import active as local_tracer

T = TypeVar("T")
R = TypeVar("R")
Row = dict[str, Any]


class Meter(Protocol):
    """What shows a batch's progress (`views.progress.Bar` on a terminal)."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, note: str) -> None: ...

    def finish(self) -> None: ...

    def say(self, line: str) -> None: ...


class Silent:
    """A meter that shows nothing (library use, benchmarks)."""

    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, note: str) -> None:
        pass

    def finish(self) -> None:
        pass

    def say(self, line: str) -> None:
        pass


def hash_of(item: Any) -> str:
    """What an item asks, exactly: all of its fields (a prompt's id and text, not its place)."""
    return input_hash(item.asked() if isinstance(item, PromptItem) else item.model_dump_json())


def open_journal(path: Path, config: dict[str, Any]) -> Journal:
    """The results file `path` as this run's journal; InputError for a folder, a missing folder or another run's file."""
    if path.is_dir():
        raise InputError("is a folder: give a file for the results", path)
    if not path.parent.is_dir():
        raise InputError(f"the folder {path.parent} does not exist; create it or give another path", path)
    return Journal(path, config)


@dataclass(frozen=True)
class Batch:
    """How a batch runs: its name (progress, Ray), items at once (per worker), Ray workers or none, its meter,
    and what its items are called in messages."""

    label: str
    concurrency: int
    workers: int | None = None
    meter: Meter = field(default_factory=Silent)
    noun: str = "items"

    async def _run(self, items: Sequence[T], job: Callable[[T], Awaitable[R]],
                   on_done: Callable[[int, R | ItemFailure], None], keep: bool = True,
                   admit: Admit | None = None) -> list[R | ItemFailure]:
        if self.workers:  # each Ray worker settles its own collector
            from fellowship.runs.cluster import run_on_cluster

            return await run_on_cluster(items, job, workers=self.workers, concurrency=self.concurrency, command=self.label,
                                        on_done=on_done, keep=keep, admit=admit)
        with settled():
            return await run_all(items, job, concurrency=self.concurrency, on_done=on_done, keep=keep, admit=admit)

    async def journalled(self, items: Sequence[T], job: Callable[[T], Awaitable[Any]], journal: Journal, *,
                         key: Callable[[T], Row], digest: Callable[[T], str] = hash_of,
                         note: Callable[[Row], str] | None = None, failure: str = "model call failed: ",
                         admit: Admit | None = None) -> list[str]:
        """Run the items `journal` lacks (or holds for another input), appending each row as it finishes.

        A row is `key(item)`, the item's `input_hash` and the job's result (a model or a dict), or an `error` (`failure`
        and the exception, with the tokens it `spent` where it says). `note(row)` is the progress note after a row (empty:
        the last one stays). `admit` (a budget) decides whether the next item may start (see `runs.batch.Gate`). Returns the
        ids of the items done for their current input, in item order (`journal.rows` reads their rows); no row is held
        meanwhile.
        """
        # Nothing per item is kept beside the items: ids and hashes are taken again where needed (a hash is a
        # microsecond), so a run's memory is its items and the journal's index.
        def id_of(item: T) -> str:
            return str(key(item)["id"])

        todo = journal.pending((id_of(item), digest(item)) for item in items)
        if len(todo) < len(items):
            self.meter.say(f"resuming: {len(items) - len(todo)} of {len(items)} {self.noun} already in {journal.path}")
        if redone := sum(journal.changed(id_of(item), digest(item)) for item in items):
            self.meter.say(f"{redone} of the {self.noun} changed since done: doing them again "
                           "(their new rows replace the old)")
        failures = 0
        last = ""

        def done(position: int, result: Any) -> None:
            nonlocal failures, last
            item = items[todo[position]]
            row = {**key(item), "input_hash": digest(item)}
            if isinstance(result, ItemFailure):
                failures += 1
                row["error"] = f"{failure}{result}"
                if spent := getattr(result.cause, "spent", None):  # the tokens it took before failing (`models.usage.metered`)
                    row["spent"] = spent
                if (tracer := local_tracer()) is not None:  # outside the trace sample, its error is still kept
                    figures = list((spent or {}).values())
                    tracer.note_failure(self.label, str(row["id"]), row["error"],
                                        (sum(f[0] for f in figures), sum(f[1] for f in figures)))
            else:
                row.update(result.model_dump() if isinstance(result, BaseModel) else result)
            journal.append(row)
            if note is not None:
                last = note(row) or last
            self.meter.advance(" · ".join(part for part in (last, f"failed {failures}" if failures else "") if part))

        self.meter.start(self.label, len(todo))
        try:
            await self._run([items[i] for i in todo], job, done, keep=False, admit=admit)
        finally:
            self.meter.finish()
        return [item_id for item in items if journal.holds(item_id := id_of(item), digest(item))]

    async def into_file(self, path: Path, config: dict[str, Any], items: Sequence[T], job: Callable[[T], Awaitable[Any]], *,
                        key: Callable[[T], Row], digest: Callable[[T], str] = hash_of) -> list[Row]:
        """`journalled` into the results file `path`, which this run holds until it ends (see `open_journal`): the rows of
        the items done for their current input, in item order."""
        journal = open_journal(path, json.loads(json.dumps(config)))  # as the file reads back: tuples are lists
        try:
            return list(journal.rows(await self.journalled(items, job, journal, key=key, digest=digest)))
        finally:
            journal.close()

    async def checkpointed(self, items: Sequence[T], job: Callable[[T], Awaitable[R]], *, item_id: Callable[[T], str],
                           note: Callable[[R | ItemFailure], str] | None = None) -> list[R | ItemFailure]:
        """Run every item here, each under the checkpoint thread `<batch>-<item id>` (announced); results in item order."""
        if self.workers:
            raise ValueError("checkpointed batches run in this process, not on Ray")
        batch_id = str(uuid.uuid4())
        self.meter.say(f"threads {batch_id}-<id> (one per item; resume one with --thread)")

        def done(index: int, result: R | ItemFailure) -> None:
            self.meter.advance(note(result) if note else "")

        self.meter.start(self.label, len(items))
        try:
            with settled():
                return await checkpointed_items(items, job, item_id, batch_id, concurrency=self.concurrency, on_done=done)
        finally:
            self.meter.finish()
