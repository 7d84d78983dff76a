"""A results file that doubles as a resume journal: one JSON row per finished item.

The first line records the run's configuration; a rerun with another configuration is
refused rather than mixed in. One process writes a journal at a time (`fileio.lock`): a
second is refused before it reads or rewrites anything. Rows are appended and flushed to
disk as items finish, so a killed run loses at most the item in flight; a torn last line
is dropped on resume. A row may record `input_hash`, the hash of exactly what it answered:
an item whose input changed since is done again, and its new row supersedes the old.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, TextIO

from fellowship.fileio.errors import InputError, OutputError
from fellowship.fileio.lock import RunLock
from fellowship.models.settings import derive_seed
from fellowship.prompts.loop import standalone_review

# Options added since journals were first written, each with the value that does what a journal
# without it did: such a journal still resumes under today's defaults.
ADDED_OPTIONS: dict[str, Any] = {"confidence": False, "logprobs": False}
_ABSENT = object()


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


def read_journal(path: Path) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]], list[str], list[str]]:
    """(the recorded configuration, the finished rows by id, the ids whose last try failed, the good lines) of a journal file.

    A kill can tear the last line, even inside a multi-byte character: it is decoded
    leniently and dropped; a bad line anywhere else is an InputError.
    """
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines(keepends=True)
    config: dict[str, Any] | None = None
    done: dict[str, dict[str, Any]] = {}
    failed: dict[str, None] = {}
    good: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # torn by a kill mid-write: drop it
                break
            raise InputError("not valid JSON in the results file", path, number) from None
        if not isinstance(row, dict):
            raise InputError("expected a JSON object", path, number)
        if number == 1:
            config = row.get("config")
        elif row.get("error") is None:  # failed items are retried
            done[str(row["id"])] = upgrade(row)
            failed.pop(str(row["id"]), None)
        else:
            failed[str(row["id"])] = None
        good.append(line if line.endswith("\n") else line + "\n")
    return config, done, list(failed), good


class Journal:
    """A journal held by this process until `close()` (a second writer gets RunLocked)."""

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.config = config
        self.done: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, str] = {}  # the error of each item whose last try failed
        self._handle: TextIO | None = None
        self._lock = RunLock(path)
        self._lock.acquire()
        try:
            self._load()
        except BaseException:
            self._lock.release()
            raise

    def changed(self, item_id: str, digest: str) -> bool:
        """Whether a finished item's input differs from what its row answered (rows of older runs record none)."""
        row = self.done.get(item_id)
        return row is not None and row.get("input_hash") not in (None, digest)

    def pending(self, ids_and_hashes: list[tuple[str, str]]) -> list[int]:
        """Positions of the items to do: not finished, or finished on another input."""
        return [i for i, (item_id, digest) in enumerate(ids_and_hashes) if item_id not in self.done or self.changed(item_id, digest)]

    def _load(self) -> None:
        if not self.path.exists():
            return
        config, self.done, failed, good = read_journal(self.path)
        self.errors = {item_id: "failed in an earlier run" for item_id in failed}
        if good and not same_config(config, self.config):
            raise InputError(
                "was written by a run with another configuration; give another --results file, "
                "or delete this one to start anew", self.path, 1,
            )
        self.path.write_text("".join(good), encoding="utf-8")

    def append(self, row: dict[str, Any]) -> None:
        if self._handle is None:
            fresh = not self.path.exists() or self.path.stat().st_size == 0
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
            if fresh:
                self._write({"config": self.config})
        self._write(row)
        if row.get("error") is None:
            self.done[str(row["id"])] = row
            self.errors.pop(str(row["id"]), None)
        else:
            self.errors[str(row["id"])] = str(row["error"])

    def _write(self, row: dict[str, Any]) -> None:
        assert self._handle is not None
        try:
            self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            raise OutputError(self.path, exc) from exc

    def close(self) -> None:
        """Close the file and let the next writer in."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._lock.release()
