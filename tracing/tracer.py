"""The LangChain tracer that writes finished root runs' trees into the local trace store (`tracing.store`)."""

from __future__ import annotations

import atexit
import json
import queue
import sqlite3
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from langchain_core.load import dumpd
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run

from fellowship.tracing.store import SCHEMA, TRACED_FIRST, cap_mb, sample_rate, share_of, state_dir


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return dumpd(value) if hasattr(value, "to_json") else str(value)


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, default=_plain))
    except (TypeError, ValueError):
        return str(value)


def _usage(outputs: Any) -> tuple[int, int]:
    """Token usage found in a chat model run's outputs."""
    found = [0, 0]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            usage = node.get("usage_metadata")
            if isinstance(usage, dict) and "input_tokens" in usage:
                found[0] += usage.get("input_tokens", 0)
                found[1] += usage.get("output_tokens", 0)
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(outputs)
    return found[0], found[1]


def tree_of(run: Run) -> dict[str, Any]:
    children = [tree_of(child) for child in sorted(run.child_runs, key=lambda r: (r.start_time, r.dotted_order or ""))]
    tokens = _usage(run.outputs) if run.run_type == "llm" else (
        sum(c["input_tokens"] for c in children), sum(c["output_tokens"] for c in children))
    return {
        "id": str(run.id), "name": run.name, "run_type": run.run_type, "tags": run.tags or [],
        "start": run.start_time.timestamp(), "seconds": (run.end_time - run.start_time).total_seconds() if run.end_time else None,
        "error": run.error, "inputs": _jsonable(run.inputs), "outputs": _jsonable(run.outputs),
        "metadata": _jsonable({k: v for k, v in (run.extra or {}).get("metadata", {}).items() if not k.startswith("ls_")}),
        "input_tokens": tokens[0], "output_tokens": tokens[1], "children": children,
    }


class LocalTracer(BaseTracer):
    """Writes each finished root run (with its whole tree) to `<state>/traces.sqlite`."""

    run_inline = True

    def __init__(self, command: str, path: Path | None = None, cap: float | None = None, sample: float | None = None) -> None:
        super().__init__()
        self.command = command
        self.path = path or state_dir() / "traces.sqlite"
        self.cap = int((cap_mb() if cap is None else cap) * 1_000_000)  # bytes; 0: no cap
        self.sample = sample_rate() if sample is None else sample
        self.dropped = 0  # runs this process dropped to stay under the cap
        self.first: set[str] = set()  # the items traced in full whatever the sample
        self.traced = 0  # root runs this process traced in full
        self.noted = 0  # failed items outside the sample, stored as a record of their error
        # Finished runs are written by a thread of their own, several to a transaction: a write on the
        # event loop (a tree to JSON, an SQLite commit) held up every model call in flight.
        self._queue: queue.Queue[Run | dict[str, Any]] = queue.Queue()
        self._writer = threading.Thread(target=self._write_forever, name="fellowship-traces", daemon=True)
        self._writer.start()
        atexit.register(self.flush)

    def covers(self, item_id: str | None) -> bool:
        """Whether the runs of `item_id` are traced in full: runs of no item, the first items, and the sample."""
        return item_id is None or item_id in self.first or share_of(item_id) < self.sample

    def wants(self, item_id: str | None) -> bool:
        """Whether to trace a root run of `item_id` (counted as traced when yes)."""
        if not self.covers(item_id) and len(self.first) < TRACED_FIRST:
            self.first.add(str(item_id))
        if self.covers(item_id):
            self.traced += 1
            return True
        return False

    def note_failure(self, command: str, item_id: str, error: str, tokens: tuple[int, int] = (0, 0)) -> None:
        """Store a failed item outside the sample as a one-node record: its error and the tokens it spent."""
        if self.covers(item_id):
            return  # its whole run is traced
        self.noted += 1
        self._queue.put({
            "id": str(uuid.uuid4()), "name": command, "run_type": "chain", "tags": ["failure outside the trace sample"],
            "start": time.time(), "seconds": None, "error": error, "inputs": {}, "outputs": {},
            "metadata": {"item_id": item_id}, "input_tokens": tokens[0], "output_tokens": tokens[1], "children": [],
        })

    def _persist_run(self, run: Run) -> None:
        self._queue.put(run)

    def _end_trace(self, run: Run) -> None:
        super()._end_trace(run)
        # langchain-core's tracer forgets a finished run in `run_map` but keeps its `order_map` entry for the
        # tracer's life: about 5 KB a prompt over a long batch (15 runs each). Its children have started by now.
        self.order_map.pop(run.id, None)

    def flush(self) -> None:
        """Wait until every finished run is in the file."""
        self._queue.join()

    def _write_forever(self) -> None:
        while True:
            runs: list[Run | dict[str, Any]] = [self._queue.get()]
            while len(runs) < 200:
                try:
                    runs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(runs)
            except Exception as exc:  # noqa: BLE001 - traces are best effort: a full disk must not stop the run
                print(f"fellowship: local traces not written ({type(exc).__name__}: {exc})", file=sys.stderr)
            finally:
                for _ in runs:
                    self._queue.task_done()

    def _write(self, runs: list[Run | dict[str, Any]]) -> None:
        rows = []
        for run in runs:
            tree = run if isinstance(run, dict) else tree_of(run)
            rows.append((tree["id"], self.command, tree["name"], "error" if tree["error"] else "ok", tree["start"], tree["seconds"],
                         tree["input_tokens"], tree["output_tokens"], json.dumps(tree)))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.path) as db:
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # before the table exists: freed pages leave the file
            db.execute(SCHEMA)
            db.executemany("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        if self.cap and self.path.stat().st_size > self.cap:
            self._trim()

    def _trim(self) -> None:
        """Drop the oldest runs (failed ones last) until the file is under nine tenths of the cap."""
        with sqlite3.connect(self.path, isolation_level=None) as db:
            if db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:  # a file from before the cap: convert it once
                db.execute("PRAGMA auto_vacuum = INCREMENTAL")
                db.execute("VACUUM")
            while self.path.stat().st_size > self.cap * 0.9:
                count = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                if count <= 1:
                    break
                gone = db.execute("DELETE FROM runs WHERE id IN (SELECT id FROM runs ORDER BY status = 'error', started "
                                  "LIMIT ?)", (max(1, count // 10),)).rowcount
                self.dropped += gone
                db.execute("PRAGMA incremental_vacuum")
