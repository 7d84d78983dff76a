"""Python's cyclic garbage collector, set for a long batch.

A batch makes thousands of short-lived containers per model call (messages, configs, pydantic
models), so the collector runs often (about 1,800 times in 1,000 prompts), and each of its older
collections walks every object the imports made: a few hundred thousand, from LangChain,
LangGraph and pydantic, that live until the process ends. Frozen, they are out of its walks:
about 9% of the client's CPU per prompt on a scripted server. The collection thresholds stay as
they are: raised, they let garbage wait longer, and a run's peak memory then grows with its
length for a while.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def settle() -> None:
    """Move what exists now (modules, clients, compiled graphs) out of the collector's walks; for a process that runs
    batches until it ends (a Ray worker)."""
    gc.collect()
    gc.freeze()


@contextmanager
def settled() -> Iterator[None]:
    """`settle` for one batch; afterwards, what was frozen is collected as before."""
    settle()
    try:
        yield
    finally:
        gc.unfreeze()
