"""The two LangChain chat classes the factory extends (imported only when a backend needs one)."""

from __future__ import annotations

import json
import threading
from typing import Any

import openai
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from langchain_huggingface import ChatHuggingFace
from langchain_openai import ChatOpenAI

from fellowship.models.constraints import Constraint, warn_once

_REQUEST_OPTIONS = ("extra_body", "extra_headers", "extra_query", "timeout")  # what `create()` takes apart from the body


class ModelCallFailed(RuntimeError):
    """A model call that failed after the client's retries, saying which model, where, and why."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code  # the server's HTTP status, where it answered (see constraints.rejected)


class NotACompletion(ValueError):
    """A server's 200 answer that is not a chat completion (an error object, a proxy's page)."""

    def __init__(self, reply: Any) -> None:
        shown = reply
        if isinstance(reply, dict) and (said := reply.get("error") or reply.get("message") or reply.get("detail")):
            shown = said.get("message", said) if isinstance(said, dict) else said  # OpenAI's {"error": {"message": ...}}
        super().__init__(f"the server's answer is not a chat completion: {str(shown)[:200]!r}")


class ServerChatOpenAI(ChatOpenAI):
    """ChatOpenAI that knows how its server constrains answers, says once when the server overruns the token
    limit, and names the model and the URL when a call fails."""

    answer_constraint: Constraint = "json-schema"

    def _failed(self, exc: Exception) -> ModelCallFailed:
        where = self.openai_api_base or "https://api.openai.com/v1"
        if isinstance(exc, openai.APITimeoutError) and isinstance(self.request_timeout, (int, float)):
            what = f"timed out after {self.request_timeout:g} s"
        elif isinstance(exc, json.JSONDecodeError):
            what = f"the server's answer is not valid JSON ({exc}): {exc.doc[:120]!r}"
        elif isinstance(exc, NotACompletion):
            what = str(exc)
        else:
            what = f"{type(exc).__name__}: {exc}"
        return ModelCallFailed(f"openai:{self.model_name} at {where}: {what}", getattr(exc, "status_code", None))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        try:
            return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        except (openai.OpenAIError, json.JSONDecodeError) as exc:
            raise self._failed(exc) from exc

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        payload = self._get_request_payload(messages, stop=stop, **kwargs)
        try:
            if payload.get("stream") or "response_format" in payload or self._use_responses_api(payload):
                return await super()._agenerate(messages, stop=stop, run_manager=run_manager, **kwargs)
            return self._create_chat_result(await self._post_chat(payload))
        except (openai.OpenAIError, json.JSONDecodeError, NotACompletion) as exc:
            raise self._failed(exc) from exc

    async def _post_chat(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A plain chat completion, sent as the payload LangChain built and read back as JSON.

        `create()` would walk the payload again against its typed parameters, parse the reply into
        pydantic models that `_create_chat_result` dumps straight back to a dict, and do that in a
        worker thread: a third of a call's client time at batch scale, for the same bytes on the wire.
        The client's retries, timeouts and errors are those of `create()`."""
        body = {key: value for key, value in payload.items() if key not in _REQUEST_OPTIONS}
        body.update(payload.get("extra_body") or {})
        options: dict[str, Any] = {"security": {"bearer_auth": True}}
        if payload.get("extra_headers"):
            options["headers"] = payload["extra_headers"]
        if payload.get("extra_query"):
            options["params"] = payload["extra_query"]
        if payload.get("timeout") is not None:
            options["timeout"] = payload["timeout"]
        reply = await self.root_async_client.post("/chat/completions", body=body, options=options, cast_to=object)
        if isinstance(reply, str):  # a body under another content type than JSON's: read as create() reads it
            reply = json.loads(reply)
        if not isinstance(reply, dict) or not isinstance(reply.get("choices"), list) or not reply["choices"]:
            raise NotACompletion(reply)
        return reply

    def _create_chat_result(self, response: dict[str, Any] | openai.BaseModel, generation_info: dict[str, Any] | None = None) -> ChatResult:
        result = super()._create_chat_result(response, generation_info)
        usage = result.llm_output.get("token_usage") if result.llm_output else None
        written = (usage or {}).get("completion_tokens") or 0
        if self.max_tokens and written > self.max_tokens:
            warn_once(f"overrun:{self.openai_api_base}",
                      f"the server at {self.openai_api_base or 'OpenAI'} wrote {written} tokens in one reply "
                      f"under a limit of {self.max_tokens}: it ignores the token limit")
        return result


_sampling_lock = threading.Lock()


class ThreadedChatHuggingFace(ChatHuggingFace):
    """ChatHuggingFace over a local pipeline: async calls in a worker thread, sampling seeded per call."""

    sampling_seed: int | None = None

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, stream: bool | None = None, **kwargs: Any) -> ChatResult:
        if self.sampling_seed is None:
            return super()._generate(messages, stop=stop, run_manager=run_manager, stream=stream, **kwargs)
        from transformers import set_seed

        # torch has one global generator: seed and sample under a lock, so each call's
        # sample depends on its own seed only.
        with _sampling_lock:
            set_seed(self.sampling_seed)
            return super()._generate(messages, stop=stop, run_manager=run_manager, stream=stream, **kwargs)

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None, stream: bool | None = None,
                         **kwargs: Any) -> ChatResult:
        # BaseChatModel's own async path: the sync call above, in a worker thread
        return await BaseChatModel._agenerate(self, messages, stop=stop, run_manager=run_manager, **kwargs)
