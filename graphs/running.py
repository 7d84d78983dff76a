"""How the graphs of one task run: which checkpointer and thread, and what each run is traced as.

`runs/threads.py` opens a checkpointer for a CLI task and sets it here; every graph run
through `compiled()` inside that task then keeps its checkpoints under the task's thread.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import var_child_runnable_config
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel

from fellowship.tracing.local import active as local_tracer

Graph = CompiledStateGraph[Any, Any, Any, Any]
Build = Callable[[], StateGraph[Any, Any, Any, Any]]

_saver: ContextVar[BaseCheckpointSaver[Any] | None] = ContextVar("fellowship_saver", default=None)
_thread: ContextVar[str | None] = ContextVar("fellowship_thread", default=None)
# One compiled graph per checkpointer and builder: compiling costs more than a small graph's run.
_compiled: weakref.WeakKeyDictionary[BaseCheckpointSaver[Any], dict[Build, Graph]] = weakref.WeakKeyDictionary()


@contextmanager
def use_checkpointer(saver: BaseCheckpointSaver[Any], thread_id: str) -> Iterator[None]:
    """Within this block, graphs run through `compiled()` keep checkpoints in `saver` under `thread_id`."""
    saver_token, thread_token = _saver.set(saver), _thread.set(thread_id)
    try:
        yield
    finally:
        _saver.reset(saver_token)
        _thread.reset(thread_token)


def set_thread(thread_id: str) -> None:
    """The thread of the current task from here on (each item of a batch runs in a task of its own)."""
    _thread.set(thread_id)


def current_thread(suffix: str = "") -> str | None:
    thread = _thread.get()
    return f"{thread}{suffix}" if thread else None


def compiled(build: Build, default: Graph) -> Graph:
    """The graph compiled with the active checkpointer (once per checkpointer), or `default` outside `use_checkpointer`."""
    saver = _saver.get()
    if saver is None:
        return default
    graphs = _compiled.setdefault(saver, {})
    if build not in graphs:
        graphs[build] = build().compile(checkpointer=saver, name=default.name)
    return graphs[build]


def run_config(graph: str, item_id: str | None = None, tags: Sequence[str] = (), max_concurrency: int | None = None,
               thread_id: str | None = None, context: BaseModel | None = None, checkpoint_id: str | None = None) -> RunnableConfig:
    """What a graph run is traced as (name, tags, the item's id) and, with a thread, what resuming or stepping it needs:
    the thread (and a checkpoint to start from), with the graph's name and context in the checkpoints' metadata."""
    metadata: dict[str, Any] = {"item_id": item_id} if item_id is not None else {}
    config: RunnableConfig = {"run_name": graph, "tags": [f"graph:{graph}", *tags], "metadata": metadata}
    if max_concurrency:
        config["max_concurrency"] = max_concurrency
    if thread_id:
        metadata.update(thread_id=thread_id, graph=graph)
        if context is not None:  # a string: checkpoint metadata keeps plain values only
            metadata["context_json"] = context.model_dump_json()
        config["configurable"] = {"thread_id": thread_id, "checkpoint_ns": ""}
        if checkpoint_id:
            config["configurable"]["checkpoint_id"] = checkpoint_id
    # A root run is traced when the tracer samples its item; a graph run inside another (the judge inside generate)
    # inherits its parent's callbacks: traced as a branch of the parent's trace exactly when the parent is.
    if (tracer := local_tracer()) is not None and var_child_runnable_config.get() is None and tracer.wants(item_id):
        config["callbacks"] = [tracer]
    return config
