"""Chat-model backends behind one spec string (`local:smollm2`, `openai:gpt-4o`, ...)."""

from fellowship.models.settings import ModelSettings
from fellowship.models.spec import ModelSpec, SpecError
from fellowship.models.factory import load_chat_model, register_model

__all__ = ["ModelSettings", "ModelSpec", "SpecError", "load_chat_model", "register_model"]
