"""The local trace store: finished root runs' trees in a SQLite file, its cap and its sample.

Stored per run: names, run types, timings, token usage, inputs, outputs and errors;
never the models' serialized settings (where API keys would live). The file is capped
(`FELLOWSHIP_TRACES_MB`, default 256 MB): past the cap the oldest runs are dropped, runs
that failed last, down to nine tenths of it, so a long run keeps its newest traces and its
failures in bounded space.

Tracing every node of every prompt costs a batch about a fifth of its time, so a process
traces the runs of its first 100 items in full, then a sample of the rest
(`FELLOWSHIP_TRACE_SAMPLE`, default 5%), chosen by item id so that a rerun traces the same
items. An item outside the sample that fails is still stored: a one-node record of its error.

`tracing.tracer` writes the runs; `tracing.local` turns tracing on for a process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

DEFAULT_CAP_MB = 256.0
DEFAULT_SAMPLE = 0.05
TRACED_FIRST = 100  # items of a process traced in full whatever the sample: short runs and development keep every trace
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, command TEXT, name TEXT, status TEXT, started REAL, seconds REAL,
    input_tokens INTEGER, output_tokens INTEGER, tree TEXT
)"""


def cap_mb() -> float:
    """The cap of the trace file in MB (`FELLOWSHIP_TRACES_MB`; 0 means no cap)."""
    try:
        return max(0.0, float(os.environ.get("FELLOWSHIP_TRACES_MB", DEFAULT_CAP_MB)))
    except ValueError:
        return DEFAULT_CAP_MB


def sample_rate() -> float:
    """The share of items traced after the first ones (`FELLOWSHIP_TRACE_SAMPLE`, 0 to 1; 1 traces every item)."""
    try:
        return min(1.0, max(0.0, float(os.environ.get("FELLOWSHIP_TRACE_SAMPLE", DEFAULT_SAMPLE))))
    except ValueError:
        return DEFAULT_SAMPLE


def share_of(item_id: str) -> float:
    """Where an item id falls in [0, 1): the same place in every process and run."""
    return int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:8], "big") / 2**64


def state_dir() -> Path:
    """The project-local state folder (`FELLOWSHIP_HOME`, default ./.fellowship)."""
    return Path(os.environ.get("FELLOWSHIP_HOME", ".fellowship"))


def recent(path: Path | None = None, limit: int = 20) -> list[dict[str, Any]]:
    path = path or state_dir() / "traces.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, command, name, status, started, seconds, input_tokens, output_tokens FROM runs "
                          "ORDER BY started DESC LIMIT ?", (limit,)).fetchall()
    keys = ("id", "command", "graph", "status", "started", "seconds", "input_tokens", "output_tokens")
    return [dict(zip(keys, row)) for row in rows]


def load(run_id: str, path: Path | None = None) -> dict[str, Any] | None:
    """The tree of the run whose id starts or ends with `run_id` (None when no run or several match)."""
    path = path or state_dir() / "traces.sqlite"
    if not path.exists():
        return None
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT tree FROM runs WHERE id LIKE ? OR id LIKE ? ORDER BY started DESC",
                          (run_id + "%", "%" + run_id)).fetchall()
    return json.loads(rows[0][0]) if len(rows) == 1 else None
