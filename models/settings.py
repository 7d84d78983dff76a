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


class CallOptions(BaseModel):
    """The options of a model call that a user sets: each, and its default, defined once here."""

    model_config = ConfigDict(frozen=True)

    temperature: float = Field(0.0, ge=0.0, le=2.0, description="sampling temperature (0 = greedy)")
    max_tokens: int = Field(512, gt=0, description="most tokens a model may write per reply")
    seed: int | None = Field(0, description="sampling seed, where the backend takes one")
    timeout: float = Field(120.0, ge=0.1, description="seconds per remote request; 429, 5xx and timeouts are retried with backoff")
    base_url: str | None = Field(None, description="base URL of an OpenAI-compatible server for openai: specs "
                                                   "(default: OPENAI_BASE_URL)")
    constrain: ConstraintChoice = Field("auto", description="how answers are held to their format: auto (per backend: grammar for "
                                                            "llama.cpp, structured outputs for vLLM, JSON schema for OpenAI and "
                                                            "others) · gbnf · vllm · json-schema · off (a plain repair turn)")


class ModelSettings(CallOptions):
    """What every model call is made with. Frozen, so it can key the model cache."""

    max_retries: int = Field(3, ge=0, description="retries of transient remote failures")
    logprobs: bool = Field(False, description="ask for each token's log-probability and its most likely alternatives "
                                              "(an evaluator's confidence is read from them)")


TOP_LOGPROBS = 10  # alternatives per token: enough for a choice among three letters or a score out of ten


class ModelOptions(CallOptions):
    """The model-call options every run context carries (the base of the graphs' contexts).

    Contexts are frozen pydantic models: LangGraph builds them from the JSON a server run
    (`langgraph dev`, Studio) sends, validating and coercing each field, and their field
    descriptions are what Studio shows.
    """

    constrained: bool = Field(False, description="hold the first reply of every judgement and review to its format too (an "
                                                 "explanation, then the score lines), not only the repair turn")
    guard: bool = Field(True, description="defend evaluators and reviewers against text aimed at them (fenced responses, "
                                          "neutralised injections, the evaluator's own last answer, degenerate responses ruled "
                                          "out); off, responses are shown as they are")

    def options(self) -> dict[str, Any]:
        """These options as keyword arguments, to pass on to another context."""
        return {name: getattr(self, name) for name in ModelOptions.model_fields}

    def settings(self, **changes: Any) -> ModelSettings:
        """The settings of this context's model calls, with `changes` (another budget or seed, say)."""
        values = {k: v for k, v in self.options().items() if k in ModelSettings.model_fields}
        return ModelSettings(**{**values, **changes})


class EvaluatorOptions(ModelOptions):
    """The model options of an evaluator (a judge, a jury, a debate): room for a whole judgement by default."""

    max_tokens: int = Field(JUDGE_MAX_TOKENS, gt=0, description="most tokens an evaluator may write per reply: room for a full "
                                                                "judgement (an explanation, then the score lines)")


def derive_seed(seed: int | None, *parts: str) -> int | None:
    """A seed of its own for each source and prompt: reproducible from `seed`, different across `parts`.

    Two sources sampling with one seed give the same text for the same prompt on most
    servers; deriving keeps a rerun identical while the sources differ.
    """
    if seed is None:
        return None
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
