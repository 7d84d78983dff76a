"""Generation settings shared by every backend."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fellowship.models.constraints import ConstraintChoice

# Budgets of the calls that must end in a readable answer: a full judgement or review
# (explanation, then the score lines) is cut off under a candidate's budget.
JUDGE_MAX_TOKENS = 1024
REVIEW_MAX_TOKENS = 1024


class ModelSettings(BaseModel):
    """What every model call is made with. Frozen, so it can key the model cache."""

    model_config = ConfigDict(frozen=True)

    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(512, gt=0)
    seed: int | None = 0
    timeout: float = Field(120.0, gt=0, description="seconds per remote request")
    base_url: str | None = None
    max_retries: int = Field(3, ge=0, description="retries of transient remote failures")
    constrain: ConstraintChoice = Field("auto", description="how answers are held to their format (see models.constraints)")


@dataclass(frozen=True)
class ModelOptions:
    """The model-call options every run context carries (a base of the graphs' context dataclasses)."""

    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    timeout: float = 120.0
    base_url: str | None = None
    constrain: ConstraintChoice = "auto"
    constrained: bool = False  # hold first replies to the answer format too, not only the repair turn

    def options(self) -> dict[str, Any]:
        """These options as keyword arguments, to pass on to another context."""
        return {f.name: getattr(self, f.name) for f in fields(ModelOptions)}

    def settings(self, **changes: Any) -> ModelSettings:
        """The settings of this context's model calls, with `changes` (another budget or seed, say)."""
        values = {k: v for k, v in self.options().items() if k in ModelSettings.model_fields}
        return ModelSettings(**{**values, **changes})


def derive_seed(seed: int | None, *parts: str) -> int | None:
    """A seed of its own for each source and prompt: reproducible from `seed`, different across `parts`.

    Two sources sampling with one seed give the same text for the same prompt on most
    servers; deriving keeps a rerun identical while the sources differ.
    """
    if seed is None:
        return None
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
