"""Parse and validate model spec strings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args

Provider = Literal["local", "openai", "hf", "hf-local"]

ACCEPTED_FORMS = """\
  local:smollm2                 the embedded SmolLM2-135M-Instruct (default; no network, no key)
  local:/path/to/model.gguf     any GGUF file, run by llama.cpp
  openai:MODEL                  OpenAI or any OpenAI-compatible server (OPENAI_API_KEY, --base-url / OPENAI_BASE_URL)
  hf:REPO-ID | hf:https://URL   a Hugging Face inference endpoint (HF_TOKEN)
  hf-local:PATH | hf-local:REPO a local transformers model (pip install 'fellowship[hf-local]')"""


SPEC_KEY = "fellowship_model"  # the model metadata key that names the spec a model was built from


class SpecError(ValueError):
    """A model spec that names no backend this project has."""

    def __init__(self, spec: str, reason: str) -> None:
        super().__init__(f"invalid model spec {spec!r}: {reason}\naccepted forms:\n{ACCEPTED_FORMS}")
        self.spec = spec


class BackendUnavailable(RuntimeError):
    """The backend exists but cannot be used here (missing extra, missing key)."""


@dataclass(frozen=True)
class ModelSpec:
    provider: Provider
    target: str

    @classmethod
    def parse(cls, text: str) -> "ModelSpec":
        provider, sep, target = text.strip().partition(":")
        if not sep:
            raise SpecError(text, "it has no 'provider:' prefix")
        target = target.strip()
        if provider not in get_args(Provider):
            raise SpecError(text, f"unknown provider {provider!r}")
        if not target:
            raise SpecError(text, "nothing follows the provider")
        if provider == "local" and target != "smollm2":
            path = Path(target).expanduser()
            if path.suffix.lower() != ".gguf":
                raise SpecError(text, "a local model is 'smollm2' or a path to a .gguf file")
            if not path.is_file():
                raise SpecError(text, f"no such file: {path}")
        return cls(cast(Provider, provider), target)  # checked against the providers above

    def __str__(self) -> str:
        return f"{self.provider}:{self.target}"
