"""Generation settings shared by every backend."""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fellowship.models.constraints import ConstraintChoice

# Budgets of the calls that must end in a readable answer: a full judgement or review
# (explanation, then the score lines) is cut off under a candidate's budget.
JUDGE_MAX_TOKENS = 1024
REVIEW_MAX_TOKENS = 1024


# Each option and its default, defined once: the call settings and the run contexts share them.
TEMPERATURE = Field(0.0, ge=0.0, le=2.0, description="sampling temperature (0 = greedy)")
MAX_TOKENS = Field(512, gt=0, description="most tokens a model may write per reply")
SEED = Field(0, description="sampling seed, where the backend takes one")
TIMEOUT = Field(120.0, gt=0, description="seconds per remote request")
BASE_URL = Field(None, description="base URL of an OpenAI-compatible server for openai: specs")
_AUTO: ConstraintChoice = "auto"
CONSTRAIN = Field(_AUTO, description="how answers are held to their format (see models.constraints)")


class ModelSettings(BaseModel):
    """What every model call is made with. Frozen, so it can key the model cache."""

    model_config = ConfigDict(frozen=True)

    temperature: float = TEMPERATURE
    max_tokens: int = MAX_TOKENS
    seed: int | None = SEED
    timeout: float = TIMEOUT
    base_url: str | None = BASE_URL
    max_retries: int = Field(3, ge=0, description="retries of transient remote failures")
    constrain: ConstraintChoice = CONSTRAIN


class ModelOptions(BaseModel):
    """The model-call options every run context carries (the base of the graphs' contexts).

    Contexts are frozen pydantic models: LangGraph builds them from the JSON a server run
    (`langgraph dev`, Studio) sends, validating and coercing each field, and their field
    descriptions are what Studio shows.
    """

    model_config = ConfigDict(frozen=True)

    temperature: float = TEMPERATURE
    max_tokens: int = MAX_TOKENS
    seed: int | None = SEED
    timeout: float = TIMEOUT
    base_url: str | None = BASE_URL
    constrain: ConstraintChoice = CONSTRAIN
    constrained: bool = Field(False, description="hold first replies to the answer format too, not only the repair turn")

    def options(self) -> dict[str, Any]:
        """These options as keyword arguments, to pass on to another context."""
        return {name: getattr(self, name) for name in ModelOptions.model_fields}

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
