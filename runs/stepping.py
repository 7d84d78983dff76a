"""Checkpointed graph runs: stepping node by node, a thread's history, and forks from a checkpoint."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from pydantic import BaseModel

from fellowship.graphs.registry import WORKFLOWS
from fellowship.graphs.running import Graph, run_config
from fellowship.state import records
from fellowship.tracing.store import state_dir


def serializer() -> JsonPlusSerializer:
    """Checkpoint serializer that loads this project's records (and only the known safe types besides)."""
    ours = [(records.__name__, name) for name, value in vars(records).items()
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == records.__name__]
    return JsonPlusSerializer(allowed_msgpack_modules=ours)


@asynccontextmanager
async def saver() -> AsyncIterator[AsyncSqliteSaver]:
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(folder / "checkpoints.sqlite")) as checkpoints:
        checkpoints.serde = serializer()
        yield checkpoints


@asynccontextmanager
async def checkpointed(graph_name: str) -> AsyncIterator[Graph]:
    """The named graph compiled with the project-local SQLite checkpointer."""
    async with saver() as checkpoints:
        yield WORKFLOWS[graph_name].build().compile(checkpointer=checkpoints, name=graph_name)


async def update_state(graph: Graph, config: RunnableConfig, context: BaseModel, values: dict[str, Any]) -> RunnableConfig:
    """`aupdate_state`, with the run context at hand for the routers that the update re-evaluates.

    The one use of LangGraph's internals in the project: `aupdate_state` takes no context,
    yet it runs the routers after the edited node, and ours read the context (the debate's
    rounds, the loop's iterations); without it they would route by the defaults. LangGraph
    reads a run's runtime from this config key. If a release moves it, this import fails,
    and tests/unit/test_stepping.py::test_editing_the_round_counter_reroutes fails too.
    """
    from langgraph._internal._constants import CONFIG_KEY_RUNTIME
    from langgraph.runtime import Runtime

    configurable = config.get("configurable", {})
    updated = await graph.aupdate_state({**config, "configurable": {**configurable, CONFIG_KEY_RUNTIME: Runtime(context=context)}}, values)
    return {**config, "configurable": {k: v for k, v in updated.get("configurable", {}).items() if k != CONFIG_KEY_RUNTIME}}


def new_thread() -> str:
    return str(uuid.uuid4())


async def thread_origin(thread_id: str) -> tuple[str, BaseModel] | None:
    """(graph name, context) a thread was started with, from its first checkpoint's metadata."""
    if not (state_dir() / "checkpoints.sqlite").exists():
        return None
    async with saver() as checkpoints:
        first = None
        async for item in checkpoints.alist({"configurable": {"thread_id": thread_id}}):
            first = item
    metadata: dict[str, Any] = dict(first.metadata) if first is not None else {}  # our keys, beside LangGraph's
    if "graph" not in metadata:
        return None
    name = str(metadata["graph"])
    return name, WORKFLOWS[name].context.model_validate_json(str(metadata.get("context_json", "{}")))


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The state fields that a step added or changed."""
    return {k: v for k, v in after.items() if k not in before or _plain(before[k]) != _plain(v)}


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: o.model_dump() if hasattr(o, "model_dump") else str(o)))


def plain(value: Any) -> Any:
    """State values as JSON-ready data (pydantic records dumped)."""
    return _plain(value)


def parse_assignment(text: str, fields: Callable[[], list[str]]) -> tuple[str, Any]:
    """`field=value` with value as JSON when it parses, else as text."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError("expected FIELD=VALUE")
    if name not in fields():
        raise ValueError(f"unknown field {name!r} (fields: {', '.join(fields())})")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


HELP = ("commands: [c]ontinue to the next stop (Enter) · [r]un to the end · [s]tate [FIELD] · [e]dit FIELD=VALUE · "
        "[q]uit (the thread stays resumable) · [h]elp")


def _brief(value: Any, limit: int = 300) -> str:
    text = json.dumps(plain(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def step_session(graph_name: str, context: BaseModel, inputs: dict[str, Any] | None, thread_id: str,
                       breaks: list[str] | None, ask: Callable[[str], str | None], say: Callable[[str], None]) -> str:
    """Run a graph stopping before each node (or the `breaks`), taking commands at each stop.

    Returns how the session ended: "done" or "quit".
    """
    async with checkpointed(graph_name) as graph:
        config = run_config(graph_name, thread_id=thread_id, context=context)
        nodes = [n for n in graph.get_graph().nodes if not n.startswith("__")]
        stops = breaks or nodes
        unknown = [b for b in stops if b not in nodes]
        if unknown:
            raise ValueError(f"no node {', '.join(unknown)} in {graph_name} (nodes: {', '.join(nodes)})")
        before = plain((await graph.aget_state(config)).values)
        pending: dict[str, Any] | None = inputs
        interrupt: list[str] | None = stops
        while True:
            await graph.ainvoke(pending, config, context=context, interrupt_before=interrupt)
            pending = None
            snapshot = await graph.aget_state(config)
            after = plain(snapshot.values)
            step = snapshot.metadata.get("step") if snapshot.metadata else None
            for field, value in changes(before, after).items():
                say(f"  changed {field}: {_brief(value)}")
            before = after
            if not snapshot.next:
                say(f"finished at step {step}; thread {thread_id}")
                return "done"
            say(f"step {step}: next {', '.join(snapshot.next)}")
            while True:
                command = ask("step> ")
                if command is None:
                    command = "q"
                verb, _, rest = command.strip().partition(" ")
                if verb in ("", "c", "continue"):
                    interrupt = stops
                    break
                if verb in ("r", "run"):
                    interrupt = None
                    break
                if verb in ("s", "state"):
                    values = plain(snapshot.values)
                    say(json.dumps(values.get(rest.strip(), f"(no field {rest.strip()!r})") if rest.strip() else values,
                                   ensure_ascii=False, indent=2))
                elif verb in ("e", "edit"):
                    try:
                        field, value = parse_assignment(rest, WORKFLOWS[graph_name].fields)
                        config = await update_state(graph, config, context, {field: value})
                        snapshot = await graph.aget_state(config)
                        say(f"  set {field}")
                    except ValueError as exc:
                        say(f"  cannot edit: {exc}")
                elif verb in ("q", "quit"):
                    say(f"stopped; resume with: fellowship step {graph_name} --thread {thread_id}")
                    return "quit"
                else:
                    say(HELP)


async def resume(thread_id: str, graph_name: str) -> dict[str, Any]:
    """Run an unfinished thread of `graph_name` to its end; returns the final state values."""
    origin = await thread_origin(thread_id)
    if origin is None:
        raise LookupError(f"no checkpoints for thread {thread_id!r}")
    name, context = origin
    if name != graph_name:
        raise LookupError(f"thread {thread_id} ran the {name} graph, not {graph_name}")
    async with checkpointed(name) as graph:
        config = run_config(name, thread_id=thread_id, context=context)
        if (await graph.aget_state(config)).next:
            await graph.ainvoke(None, config, context=context)
        return (await graph.aget_state(config)).values


async def history(thread_id: str) -> tuple[str, list[dict[str, Any]]]:
    """The thread's checkpoints, oldest first: step, the node(s) that ran into it, next, time, id."""
    origin = await thread_origin(thread_id)
    if origin is None:
        raise LookupError(f"no checkpoints for thread {thread_id!r} in {state_dir() / 'checkpoints.sqlite'}")
    name, context = origin
    async with checkpointed(name) as graph:
        snapshots = [s async for s in graph.aget_state_history(run_config(name, thread_id=thread_id, context=context))]
    snapshots.reverse()
    rows = []
    for index, snap in enumerate(snapshots):
        ran = list(snapshots[index - 1].next) if index else ["(input)"]
        rows.append({"step": snap.metadata.get("step") if snap.metadata else None, "ran": ran, "next": list(snap.next),
                     "created_at": snap.created_at,
                     "checkpoint_id": snap.config["configurable"]["checkpoint_id"]})
    return name, rows


async def fork(thread_id: str, checkpoint_id: str, assignments: list[str]) -> tuple[str, str, dict[str, Any]]:
    """Continue a thread from an earlier checkpoint, optionally with changed fields; returns the final values."""
    origin = await thread_origin(thread_id)
    if origin is None:
        raise LookupError(f"no checkpoints for thread {thread_id!r}")
    name, context = origin
    async with checkpointed(name) as graph:
        config = run_config(name, thread_id=thread_id, context=context, checkpoint_id=checkpoint_id)
        snapshot = await graph.aget_state(config)
        if snapshot.config["configurable"].get("checkpoint_id") != checkpoint_id:
            raise LookupError(f"no checkpoint {checkpoint_id!r} in thread {thread_id!r}")
        config = {**config, "configurable": dict(snapshot.config["configurable"])}
        for assignment in assignments:
            field, value = parse_assignment(assignment, WORKFLOWS[name].fields)
            config = await update_state(graph, config, context, {field: value})
        await graph.ainvoke(None, config, context=context)
        final = await graph.aget_state(run_config(name, thread_id=thread_id, context=context))
        return name, final.config["configurable"]["checkpoint_id"], plain(final.values)
