"""What the model calls of one task spent, counted where the calls are made.

A callback handler would see every call too, but any handler at all makes LangChain and
LangGraph dispatch every node's start and end: a tenth of a batch's time. The nodes make
their calls through `call`, which adds each reply's tokens to the meter of the task it runs
in (`metered`); the graph's tasks share it through the context.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from fellowship.models.spec import SPEC_KEY

if TYPE_CHECKING:  # annotations only: the journal and the exports read `Spent` here without loading LangChain
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable

Spent = dict[str, list[int]]  # model spec -> [input tokens, output tokens, calls]

_spent: ContextVar[Spent | None] = ContextVar("fellowship_spent", default=None)


@contextmanager
def metered() -> Iterator[Spent]:
    """Count the tokens of the calls made within this block (and the tasks it starts), by model spec."""
    spent: Spent = {}
    token = _spent.set(spent)
    try:
        yield spent
    finally:
        _spent.reset(token)


async def call(model: BaseChatModel, messages: Sequence[BaseMessage], via: Runnable[Any, Any] | None = None) -> Any:
    """`model` answers `messages` (through `via`, a binding of it, where given); its tokens go to the current meter."""
    reply = await (via or model).ainvoke(list(messages))
    if (spent := _spent.get()) is not None:
        usage = getattr(reply, "usage_metadata", None) or {}
        figures = spent.setdefault(str((model.metadata or {}).get(SPEC_KEY, "unknown")), [0, 0, 0])
        figures[0] += usage.get("input_tokens", 0)
        figures[1] += usage.get("output_tokens", 0)
        figures[2] += 1
    return reply
