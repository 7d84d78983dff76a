"""Turn a spec string and settings into a LangChain chat model."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.rate_limiters import InMemoryRateLimiter
from pydantic import SecretStr

from fellowship.models.constraints import detect
from fellowship.models.settings import TOP_LOGPROBS, ModelSettings
from fellowship.models.spec import SPEC_KEY, BackendUnavailable, ModelSpec, SpecError

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


def is_registered(spec: str) -> bool:
    """Whether `spec` names a model registered in this process (a test double, or the caller's own)."""
    return spec in _registered


def load_chat_model(spec: str, settings: ModelSettings | None = None) -> BaseChatModel:
    """The chat model for `spec`; one instance per (spec, settings) and process."""
    settings = settings or ModelSettings()
    if (entry := _registered.get(spec)) is not None:
        return labelled(entry if isinstance(entry, BaseChatModel) else entry(settings), spec)
    parsed = ModelSpec.parse(spec)
    with _lock:
        model = _cached(parsed, settings.model_copy(update={"seed": None}))
    # Seeds are derived per source and prompt, so nearly every call has its own: a copy with the seed
    # shares the built model's clients, where building one per seed cost a client per call.
    return model if settings.seed is None else model.model_copy(update={"seed": settings.seed})


@lru_cache(maxsize=64)
def _cached(spec: ModelSpec, settings: ModelSettings) -> BaseChatModel:
    builder = {"local": _local, "openai": _openai, "hf": _hf_endpoint, "hf-local": _hf_local}[spec.provider]
    model = labelled(builder(spec, settings), str(spec))
    # What callbacks are told the model is (a cached property): computed here once, it is shared by the per-seed
    # copies `load_chat_model` makes, where each copy serialised the whole model again on every call.
    model._serialized  # noqa: B018
    return model


def labelled(model: BaseChatModel, spec: str) -> BaseChatModel:
    """`model` with its spec in its metadata, where callbacks (and traces) read which model a call went to."""
    if (model.metadata or {}).get(SPEC_KEY) != spec:
        model.metadata = {**(model.metadata or {}), SPEC_KEY: spec}
    return model


def _local(spec: ModelSpec, settings: ModelSettings) -> BaseChatModel:
    from fellowship.models.llamacpp import LlamaCppChat, smollm2_path

    path = smollm2_path() if spec.target == "smollm2" else Path(spec.target).expanduser()
    return LlamaCppChat(
        model_path=str(path),
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        seed=settings.seed,
        answer_constraint="off" if settings.constrain == "off" else "gbnf",
        logprobs=settings.logprobs,
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
    from fellowship.models.chat_classes import ServerChatOpenAI

    return ServerChatOpenAI(
        model_name=spec.target,
        rate_limiter=_rate_limiter(spec),
        openai_api_base=base_url,
        openai_api_key=SecretStr(api_key),
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,  # sent as `max_completion_tokens`
        # langchain-openai sends the limit as `max_completion_tokens` only, which OpenAI reads
        # but llama.cpp's and other servers ignore; they read the older `max_tokens`.
        # OpenAI itself gets only the field it documents (its reasoning models reject `max_tokens`).
        extra_body={"max_tokens": settings.max_tokens} if base_url else None,
        seed=settings.seed,
        request_timeout=settings.timeout,
        max_retries=settings.max_retries,
        answer_constraint=constraint,
        logprobs=settings.logprobs or None,
        top_logprobs=TOP_LOGPROBS if settings.logprobs else None,
    )


def _hf_endpoint(spec: ModelSpec, settings: ModelSettings) -> BaseChatModel:
    from langchain_huggingface import ChatHuggingFace, HuggingFaceEndpoint

    url = spec.target.startswith(("http://", "https://"))
    # Built from a dict: the endpoint takes a repo id or a URL (not both) and fills its `model` field from it.
    llm = HuggingFaceEndpoint.model_validate({
        "endpoint_url" if url else "repo_id": spec.target,
        "task": "text-generation",
        "max_new_tokens": settings.max_tokens,
        "temperature": None,  # else its 0.8 default overrides our 0.0, which the chat model treats as unset
        "timeout": settings.timeout,
        "huggingfacehub_api_token": os.environ.get("HF_TOKEN"),
    })
    # The chat model sends these with every chat-completion request.
    return ChatHuggingFace(
        llm=llm, rate_limiter=_rate_limiter(spec), temperature=settings.temperature, max_tokens=settings.max_tokens,
        model_kwargs={"seed": settings.seed}
    )


_requests_per_second: float | None = None


def set_rate_limit(requests_per_second: float | None) -> None:
    """Limit the request rate of every remote model (each model its own limit), for models loaded from now on."""
    global _requests_per_second
    _requests_per_second = requests_per_second
    _cached.cache_clear()


@lru_cache(maxsize=None)
def _limiter(spec: ModelSpec, requests_per_second: float) -> InMemoryRateLimiter:
    return InMemoryRateLimiter(requests_per_second=requests_per_second, check_every_n_seconds=0.05,
                               max_bucket_size=max(1.0, requests_per_second))


def _rate_limiter(spec: ModelSpec) -> InMemoryRateLimiter | None:
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
    from fellowship.models.chat_classes import ThreadedChatHuggingFace

    return ThreadedChatHuggingFace(llm=HuggingFacePipeline(pipeline=pipe), tokenizer=tokenizer, model_id=spec.target,
                                   sampling_seed=settings.seed if settings.temperature > 0 else None)


@lru_cache(maxsize=4)
def _transformers_model(target: str) -> tuple[Any, Any]:
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
