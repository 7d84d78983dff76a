"""Local tracing for this process: on or off (`FELLOWSHIP_LOCAL_TRACES=0`), and its tracer.

The tracer (`tracing.tracer`) loads LangChain, so it is built when the first graph run asks
for it: a command's help and its option errors do not wait for that. What is stored, and
how much, is `tracing.store`'s.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from fellowship.tracing.store import TRACED_FIRST

if TYPE_CHECKING:
    from fellowship.tracing.tracer import LocalTracer

_command: str | None = None  # what `enable` named: the command whose runs this process traces
_active: LocalTracer | None = None


def enable(command: str) -> None:
    """Trace every graph run of this process locally (off with FELLOWSHIP_LOCAL_TRACES=0)."""
    global _command, _active
    _command = None if os.environ.get("FELLOWSHIP_LOCAL_TRACES", "1") == "0" else command
    _active = None


def active() -> LocalTracer | None:
    """This process's tracer, built on first use; None when tracing is off."""
    global _active
    if _active is None and _command is not None:
        from fellowship.tracing.tracer import LocalTracer

        _active = LocalTracer(_command)
    return _active


def flush() -> None:
    """Wait until this process's finished runs are in the trace file."""
    if _active is not None:
        _active.flush()


def store_report() -> dict[str, Any] | None:
    """Where this process's traces went and how much room they take (None with local traces off)."""
    tracer = active()
    if tracer is None:
        return None
    tracer.flush()
    size = tracer.path.stat().st_size if tracer.path.exists() else 0
    return {"path": str(tracer.path), "mb": round(size / 1e6, 3), "cap_mb": tracer.cap / 1e6 or None, "dropped": tracer.dropped,
            "sample": tracer.sample, "first": TRACED_FIRST, "traced": tracer.traced, "failures_noted": tracer.noted}
