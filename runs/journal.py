"""A results file that doubles as a resume journal: one JSON row per finished item.

The first line records the run's configuration; a rerun with another configuration is
refused rather than mixed in. Rows are appended and flushed to disk as items finish,
so a killed run loses at most the item in flight; a torn last line is dropped on resume.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fellowship.fileio.errors import InputError


class Journal:
    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.config = config
        self.done: dict[str, dict[str, Any]] = {}
        self._load()
        self._handle = None

    def _load(self) -> None:
        if not self.path.exists():
            return
        # A kill can tear the last line inside a multi-byte character: decode leniently, and
        # let the JSON check below drop a torn last line and refuse anything else.
        lines = self.path.read_bytes().decode("utf-8", errors="replace").splitlines(keepends=True)
        good: list[str] = []
        for number, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                if number == len(lines):  # torn by a kill mid-write: drop it
                    break
                raise InputError("not valid JSON in the results file", self.path, number) from None
            if number == 1:
                if row.get("config") != self.config:
                    raise InputError(
                        "was written by a run with another configuration; give another --results file, "
                        "or delete this one to start anew", self.path, 1,
                    )
            elif row.get("error") is None:  # failed items are retried
                self.done[str(row["id"])] = row
            good.append(line if line.endswith("\n") else line + "\n")
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
