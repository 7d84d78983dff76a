"""Generation settings shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ModelSettings(BaseModel):
    """What every model call is made with. Frozen, so it can key the model cache."""

    model_config = ConfigDict(frozen=True)

    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(512, gt=0)
    seed: int | None = 0
    timeout: float = Field(120.0, gt=0, description="seconds per remote request")
    base_url: str | None = None
    max_retries: int = Field(3, ge=0, description="retries of transient remote failures")


@dataclass(frozen=True)
class ModelOptions:
    """The model-call options every run context carries (a base of the graphs' context dataclasses)."""

    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    timeout: float = 120.0
    base_url: str | None = None

    def options(self) -> dict[str, Any]:
        """These options as keyword arguments, to pass on to another context."""
        return {f.name: getattr(self, f.name) for f in fields(ModelOptions)}

    def settings(self) -> ModelSettings:
        return ModelSettings(**self.options())
