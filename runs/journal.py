"""A results file that doubles as a resume journal: one JSON row per finished item.

The first line records the run's configuration; a rerun with another configuration is
refused rather than mixed in. One process writes a journal at a time (`fileio.lock`): a
second is refused before it reads or rewrites anything. Rows are appended and handed to the
operating system as items finish, so a killed process loses at most the items in flight; the
file is synced to disk at most every SYNC_SECONDS and on close, so a power cut loses at most
that much. A torn last line is dropped on resume. The journal keeps an index of where each row lies, not the rows, so a
run's memory does not grow with its rows. A row may record `input_hash`, the hash of
exactly what it answered: an item whose input changed since is done again, and its new row
supersedes the old.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from fellowship.fileio.errors import InputError, OutputError
from fellowship.fileio.lock import RunLock
from fellowship.models.settings import derive_seed
from fellowship.prompts.loop import standalone_review
from fellowship.runs.spend import Spent, merge

# Options added since journals were first written, each with the value that does what a journal
# without it did: such a journal still resumes under today's defaults.
ADDED_OPTIONS: dict[str, Any] = {"confidence": False, "logprobs": False}
_ABSENT = object()
# An fsync per row held the event loop up to a millisecond (0.3 ms here) for every finished item.
SYNC_SECONDS = 1.0


def same_config(recorded: Any, current: Any) -> bool:
    """Whether a journal's recorded configuration is today's, an option added since counting as its old value."""
    if isinstance(recorded, dict) and isinstance(current, dict):
        for key in set(recorded) | set(current):
            if key in recorded and key in current:
                if not same_config(recorded[key], current[key]):
                    return False
            elif key in recorded or ADDED_OPTIONS.get(key, _ABSENT) != current[key]:
                return False
        return True
    if isinstance(recorded, list) and isinstance(current, list):
        return len(recorded) == len(current) and all(same_config(a, b) for a, b in zip(recorded, current))
    return bool(recorded == current)


def upgrade(row: dict[str, Any]) -> dict[str, Any]:
    """A row written by an earlier fellowship, in today's form (changed in place; every journal is read through this)."""
    for comparison in row.get("comparisons") or []:
        evaluation = comparison.get("evaluation")
        if isinstance(evaluation, dict) and set(evaluation) == {"skipped"}:  # before comparisons said `skipped`
            comparison.update(evaluation=None, skipped=evaluation["skipped"])
    for candidate in row.get("candidates") or []:
        if candidate.get("loop"):
            _upgrade_loop(candidate["loop"], candidate.get("seed"))
    if isinstance(row.get("loop"), dict):  # a win-rate row
        _upgrade_loop(row["loop"], None)
    return row


def _upgrade_loop(loop: dict[str, Any], seed: int | None) -> None:
    for review in loop.get("reviews") or []:
        if not review.get("request") and review["iteration"] <= len(loop["responses"]):  # before reviews kept their request
            review["request"] = standalone_review(loop["prompt"], loop["responses"][review["iteration"] - 1])
        if review.get("seed") is None and seed is not None:  # before reviews kept their seed: derived as the loop derives it
            review["seed"] = derive_seed(seed, "reviewer", str(review["seat"]))


def input_hash(*parts: str) -> str:
    """The hash of what an item asks (its prompt, or its question and responses)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a finished row lies in its journal, and what identifies it without reading it."""

    offset: int  # the byte where its line starts
    input_hash: str | None  # what it answered (rows of older runs record none)
    order: int  # its `index` (a prompt's place in its file), 0 where it has none

    @classmethod
    def of(cls, row: dict[str, Any], offset: int) -> Entry:
        """The entry of `row`, whose line starts at `offset`."""
        return cls(offset, row.get("input_hash"), row.get("index", 0))


@dataclass
class Scan:
    """What a journal holds, without its rows: one pass over the file, in memory the index only."""

    config: dict[str, Any] | None
    done: dict[str, Entry]  # the finished rows by id (the last one of an id)
    failed: list[str]  # ids whose last try failed
    end: int  # where the last whole line ends: a line torn by a kill lies after it
    newline: bool  # whether that line ends with a line break
    failed_spent: Spent = field(default_factory=dict)  # what every failed try spent (`models.usage.metered`), by model


def scan_journal(path: Path) -> Scan:
    """The index of a journal file. A kill can tear the last line, even inside a multi-byte
    character: it is decoded leniently and dropped; a bad line anywhere else is an InputError."""
    scan = Scan(None, {}, [], 0, True)
    failed: dict[str, None] = {}
    torn: int | None = None  # the number of an unreadable line: an error unless it is the last
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if torn is not None:
                raise InputError("not valid JSON in the results file", path, torn)
            try:
                row = json.loads(raw.decode("utf-8", errors="replace"))
            except json.JSONDecodeError:
                torn = number
                continue
            if not isinstance(row, dict):
                raise InputError("expected a JSON object", path, number)
            if number == 1:
                scan.config = row.get("config")
            elif row.get("error") is None:  # failed items are retried
                scan.done[str(row["id"])] = Entry.of(row, offset)
                failed.pop(str(row["id"]), None)
            else:
                failed[str(row["id"])] = None
                merge(scan.failed_spent, row.get("spent") or {})
            offset += len(raw)
            scan.end, scan.newline = offset, raw.endswith(b"\n")
    scan.failed = list(failed)
    return scan


def pending(done: Mapping[str, Entry], ids_and_hashes: Iterable[tuple[str, str]]) -> list[int]:
    """Positions of the items to do: not finished, or finished on another input (rows of older runs record none)."""
    return [i for i, (item_id, digest) in enumerate(ids_and_hashes)
            if item_id not in done or done[item_id].input_hash not in (None, digest)]


def pending_in(path: Path, ids_and_hashes: Sequence[tuple[str, str]], config: dict[str, Any] | None = None) -> list[int]:
    """`pending` against the journal at `path`, read without taking or changing it (a dry run): every item where there
    is none, or (given `config`) where it was written with another configuration and a run would refuse it."""
    scan = scan_journal(path) if path.is_file() else None
    if scan is None or (config is not None and not same_config(scan.config, json.loads(json.dumps(config)))):
        return list(range(len(ids_and_hashes)))
    return pending(scan.done, ids_and_hashes)


def read_row(handle: BinaryIO, entry: Entry) -> dict[str, Any]:
    """The row at `entry` of the journal open in `handle`, in today's form."""
    handle.seek(entry.offset)
    row: dict[str, Any] = json.loads(handle.readline().decode("utf-8", errors="replace"))
    return upgrade(row)


def journal_rows(path: Path, entries: Iterable[Entry]) -> Iterator[dict[str, Any]]:
    """The rows at `entries`, read one at a time."""
    with path.open("rb") as handle:
        for entry in entries:
            yield read_row(handle, entry)


class Journal:
    """A journal held by this process until `close()` (a second writer gets RunLocked).

    It keeps an index of its rows, not the rows: `row(id)` and `rows(ids)` read them back.
    """

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.config = config
        self.done: dict[str, Entry] = {}
        self.errors: dict[str, str] = {}  # the error of each item whose last try failed
        self.failed_spent: Spent = {}  # what failed tries spent, by model
        self._handle: BinaryIO | None = None
        self._reader: BinaryIO | None = None
        self._synced = 0.0  # when the file was last synced to disk (time.monotonic)
        self._lock = RunLock(path)
        self._lock.acquire()
        try:
            self._load()
        except BaseException:
            self._lock.release()
            raise

    def changed(self, item_id: str, digest: str) -> bool:
        """Whether a finished item's input differs from what its row answered (rows of older runs record none)."""
        entry = self.done.get(item_id)
        return entry is not None and entry.input_hash not in (None, digest)

    def holds(self, item_id: str, digest: str) -> bool:
        """Whether the item is done for this input."""
        return item_id in self.done and not self.changed(item_id, digest)

    def pending(self, ids_and_hashes: Iterable[tuple[str, str]]) -> list[int]:
        """Positions of the items to do: not finished, or finished on another input."""
        return pending(self.done, ids_and_hashes)

    def row(self, item_id: str) -> dict[str, Any]:
        """The finished row of `item_id`, read from the file."""
        if self._reader is None:
            self._reader = self.path.open("rb")
        return read_row(self._reader, self.done[item_id])

    def rows(self, ids: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The finished rows of `ids`, one at a time."""
        return (self.row(item_id) for item_id in ids)

    def _load(self) -> None:
        if not self.path.exists():
            return
        scan = scan_journal(self.path)
        self.done = scan.done
        self.errors = {item_id: "failed in an earlier run" for item_id in scan.failed}
        self.failed_spent = scan.failed_spent
        if scan.end and not same_config(scan.config, self.config):
            raise InputError(
                "was written by a run with another configuration; give another --results file, "
                "or delete this one to start anew", self.path, 1,
            )
        with self.path.open("r+b") as handle:  # drop a torn last line; end the last whole one
            handle.truncate(scan.end)
            if not scan.newline:
                handle.seek(scan.end)
                handle.write(b"\n")

    def append(self, row: dict[str, Any]) -> None:
        if self._handle is None:
            fresh = not self.path.exists() or self.path.stat().st_size == 0
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("ab")
            if fresh:
                self._write({"config": self.config})
        offset = self._write(row)
        if row.get("error") is None:
            self.done[str(row["id"])] = Entry.of(row, offset)
            self.errors.pop(str(row["id"]), None)
        else:
            self.errors[str(row["id"])] = str(row["error"])
            merge(self.failed_spent, row.get("spent") or {})

    def _write(self, row: dict[str, Any]) -> int:
        """Append `row` as one line, on disk before it returns; where the line starts."""
        assert self._handle is not None
        try:
            offset = self._handle.tell()
            self._handle.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
            self._handle.flush()
            if time.monotonic() - self._synced >= SYNC_SECONDS:
                self._sync()
        except OSError as exc:
            raise OutputError(self.path, exc) from exc
        return offset

    def _sync(self) -> None:
        assert self._handle is not None
        os.fsync(self._handle.fileno())
        self._synced = time.monotonic()

    def close(self) -> None:
        """Sync and close the file, and let the next writer in."""
        try:
            if self._handle is not None:
                self._sync()
        except OSError as exc:
            raise OutputError(self.path, exc) from exc
        finally:
            for handle in (self._handle, self._reader):
                if handle is not None:
                    handle.close()
            self._handle = self._reader = None
            self._lock.release()
