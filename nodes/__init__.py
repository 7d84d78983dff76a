"""Graph nodes: plain functions `(state, runtime) -> update`, routers and fan-outs."""

from __future__ import annotations

from typing import TypeVar

from langgraph.runtime import Runtime
from pydantic import BaseModel

C = TypeVar("C", bound=BaseModel)


def context_of(runtime: Runtime[C], schema: type[C]) -> C:
    """The run's context, or the schema's defaults when a caller (a server run, say) gave none."""
    return runtime.context if runtime.context is not None else schema()
