"""Chat-model backends behind one spec string (`local:smollm2`, `openai:gpt-4o`, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fellowship.models.settings import ModelOptions, ModelSettings
from fellowship.models.spec import ModelSpec, SpecError

if TYPE_CHECKING:
    from fellowship.models.factory import load_chat_model, register_model

__all__ = ["ModelOptions", "ModelSettings", "ModelSpec", "SpecError", "load_chat_model", "register_model"]


def __getattr__(name: str) -> Any:
    # The factory imports LangChain: what builds a model pays for that, not the CLI's start (its help, its options).
    if name in ("load_chat_model", "register_model"):
        from fellowship.models import factory

        return getattr(factory, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
