"""Turn a spec string and settings into a LangChain chat model."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from fellowship.models.constraints import Constraint, detect, warn_once
from fellowship.models.settings import ModelSettings
from fellowship.models.spec import ModelSpec, SpecError


class BackendUnavailable(RuntimeError):
    """The backend exists but cannot be used here (missing extra, missing key)."""


_lock = threading.Lock()
ModelMaker = Callable[[ModelSettings], BaseChatModel]
_registered: dict[str, BaseChatModel | ModelMaker] = {}


def register_model(spec: str, model: BaseChatModel | ModelMaker | None) -> None:
    """Serve `spec` with a chat model you built yourself (None removes it).

    `model` is an instance, used whatever the settings, or a function of the settings
    (temperature, budget, seed, ...) that makes one. For Python users with a LangChain
    model of their own, and for tests and benchmarks that put scripted models behind a
    spec. Registered specs take any name.
    """
    with _lock:
        if model is None:
            _registered.pop(spec, None)
        else:
            _registered[spec] = model


def load_chat_model(spec: str, settings: ModelSettings | None = None) -> BaseChatModel:
    """The chat model for `spec`; one instance per (spec, settings) and process."""
    settings = settings or ModelSettings()
    if (entry := _registered.get(spec)) is not None:
        return entry if isinstance(entry, BaseChatModel) else entry(settings)
    parsed = ModelSpec.parse(spec)
    with _lock:
        return _cached(parsed, settings)


@lru_cache(maxsize=64)
def _cached(spec: ModelSpec, settings: ModelSettings) -> BaseChatModel:
    builder = {"local": _local, "openai": _openai, "hf": _hf_endpoint, "hf-local": _hf_local}[spec.provider]
    return builder(spec, settings)


def _local(spec: ModelSpec, settings: ModelSettings) -> BaseChatModel:
    from fellowship.models.llamacpp import LlamaCppChat, smollm2_path

    path = smollm2_path() if spec.target == "smollm2" else Path(spec.target).expanduser()
    return LlamaCppChat(
        model_path=str(path),
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
        answer_constraint="off" if settings.constrain == "off" else "gbnf",
    )


def _openai(spec: ModelSpec, settings: ModelSettings) -> BaseChatModel:
    base_url = settings.base_url or os.environ.get("OPENAI_BASE_URL")
    api_key = os.environ.get("OPENAI_API_KEY")
    if not api_key:
        if not base_url:
            raise BackendUnavailable(
                f"{spec}: OPENAI_API_KEY is not set (or give --base-url for an OpenAI-compatible server)"
            )
        api_key = "not-needed"  # local OpenAI-compatible servers usually ignore the key
    constraint = detect(base_url, api_key) if settings.constrain == "auto" else settings.constrain
    return _server_chat_class()(
        model=spec.target,
        rate_limiter=_rate_limiter(spec),
        base_url=base_url,
        api_key=api_key,
        temperature=settings.temperature,
        max_completion_tokens=settings.max_tokens,
        # langchain-openai sends the limit as `max_completion_tokens` only, which OpenAI reads
        # but llama.cpp's and other servers ignore; they read the older `max_tokens`.
        # OpenAI itself gets only the field it documents (its reasoning models reject `max_tokens`).
        extra_body={"max_tokens": settings.max_tokens} if base_url else None,
        seed=settings.seed,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        answer_constraint=constraint,
    )


@lru_cache(maxsize=1)
def _server_chat_class() -> type[BaseChatModel]:
    """ChatOpenAI that knows how its server constrains answers, and says once when the server overruns the token limit."""
    from langchain_openai import ChatOpenAI

    class ServerChatOpenAI(ChatOpenAI):
        answer_constraint: Constraint = "json-schema"

        def _create_chat_result(self, response, generation_info=None):  # type: ignore[no-untyped-def]
            result = super()._create_chat_result(response, generation_info)
            usage = result.llm_output.get("token_usage") if result.llm_output else None
            written = (usage or {}).get("completion_tokens") or 0
            if self.max_tokens and written > self.max_tokens:
                warn_once(f"overrun:{self.openai_api_base}",
                          f"the server at {self.openai_api_base or 'OpenAI'} wrote {written} tokens in one reply "
                          f"under a limit of {self.max_tokens}: it ignores the token limit")
            return result

    return ServerChatOpenAI


def _hf_endpoint(spec: ModelSpec, settings: ModelSettings) -> BaseChatModel:
    from langchain_huggingface import ChatHuggingFace, HuggingFaceEndpoint

    url = spec.target.startswith(("http://", "https://"))
    llm = HuggingFaceEndpoint(
        **({"endpoint_url": spec.target} if url else {"repo_id": spec.target}),
        task="text-generation",
        max_new_tokens=settings.max_tokens,
        temperature=None,  # else its 0.8 default overrides our 0.0, which the chat model treats as unset
        timeout=settings.timeout,
        huggingfacehub_api_token=os.environ.get("HF_TOKEN"),
    )
    # The chat model sends these with every chat-completion request.
    return ChatHuggingFace(
        llm=llm, rate_limiter=_rate_limiter(spec), temperature=settings.temperature, max_tokens=settings.max_tokens, model_kwargs={"seed": settings.seed}
    )


_requests_per_second: float | None = None


def set_rate_limit(requests_per_second: float | None) -> None:
    """Limit the request rate of every remote model (each model its own limit), for models loaded from now on."""
    global _requests_per_second
    _requests_per_second = requests_per_second
    _cached.cache_clear()


@lru_cache(maxsize=None)
def _limiter(spec: ModelSpec, requests_per_second: float):  # type: ignore[no-untyped-def]
    from langchain_core.rate_limiters import InMemoryRateLimiter

    return InMemoryRateLimiter(requests_per_second=requests_per_second, check_every_n_seconds=0.05,
                               max_bucket_size=max(1.0, requests_per_second))


def _rate_limiter(spec: ModelSpec):  # type: ignore[no-untyped-def]
    """One limiter per remote model, shared by all its settings variants."""
    return None if _requests_per_second is None else _limiter(spec, _requests_per_second)


def _hf_local(spec: ModelSpec, settings: ModelSettings) -> BaseChatModel:
    try:
        from langchain_huggingface import HuggingFacePipeline
        from transformers import pipeline
    except ImportError as exc:
        raise BackendUnavailable(
            f"{spec}: the hf-local backend needs the optional extra: pip install 'fellowship[hf-local]'"
        ) from exc
    model, tokenizer = _transformers_model(spec.target)
    sampling = {"do_sample": True, "temperature": settings.temperature} if settings.temperature > 0 else {"do_sample": False}
    pipe = pipeline(
        "text-generation",
        model=model,
        tokenizer=tokenizer,
        max_new_tokens=settings.max_tokens,
        return_full_text=False,
        **sampling,
    )
    return _threaded_chat_class()(llm=HuggingFacePipeline(pipeline=pipe), tokenizer=tokenizer, model_id=spec.target,
                                  sampling_seed=settings.seed if settings.temperature > 0 else None)


_sampling_lock = threading.Lock()


@lru_cache(maxsize=1)
def _threaded_chat_class() -> type[BaseChatModel]:
    """ChatHuggingFace over a local pipeline: async calls in a worker thread, sampling seeded per call."""
    from langchain_huggingface import ChatHuggingFace

    class ThreadedChatHuggingFace(ChatHuggingFace):
        sampling_seed: int | None = None

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
            if self.sampling_seed is None:
                return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
            from transformers import set_seed

            # torch has one global generator: seed and sample under a lock, so each call's
            # sample depends on its own seed only.
            with _sampling_lock:
                set_seed(self.sampling_seed)
                return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

        async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
            return await BaseChatModel._agenerate(self, messages, stop=stop, run_manager=run_manager, **kwargs)

    return ThreadedChatHuggingFace


@lru_cache(maxsize=4)
def _transformers_model(target: str):  # type: ignore[no-untyped-def]
    """Load a transformers model and tokenizer once; a `.gguf` file is dequantized by transformers."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(target).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise SpecError(f"hf-local:{target}", f"no such file: {path}")
        kwargs = {"gguf_file": path.name}
        source = str(path.parent)
    else:
        kwargs = {}
        source = str(path) if path.exists() else target
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    return model, tokenizer
