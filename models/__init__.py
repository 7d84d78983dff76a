"""Chat-model backends behind one spec string (`local:smollm2`, `openai:gpt-4o`, ...)."""

from fellowship.models.factory import load_chat_model, register_model
from fellowship.models.settings import ModelOptions, ModelSettings
from fellowship.models.spec import ModelSpec, SpecError

__all__ = ["ModelOptions", "ModelSettings", "ModelSpec", "SpecError", "load_chat_model", "register_model"]
