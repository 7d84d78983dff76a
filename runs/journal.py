"""A results file that doubles as a resume journal: one JSON row per finished item.

The first line records the run's configuration; a rerun with another configuration is
refused rather than mixed in. Rows are appended and flushed to disk as items finish,
so a killed run loses at most the item in flight; a torn last line is dropped on resume.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

from fellowship.fileio.errors import InputError


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
            done[str(row["id"])] = row
            failed.pop(str(row["id"]), None)
        else:
            failed[str(row["id"])] = None
        good.append(line if line.endswith("\n") else line + "\n")
    return config, done, list(failed), good


class Journal:
    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.config = config
        self.done: dict[str, dict[str, Any]] = {}
        self._load()
        self._handle: TextIO | None = None

    def _load(self) -> None:
        if not self.path.exists():
            return
        config, self.done, _, good = read_journal(self.path)
        if good and config != self.config:
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

    def _write(self, row: dict[str, Any]) -> None:
        assert self._handle is not None
        self._handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
