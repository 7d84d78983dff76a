"""Generation settings shared by every backend."""

from __future__ import annotations

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
