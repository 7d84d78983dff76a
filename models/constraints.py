"""Constrained decoding: hold a model's reply to an answer format, in its backend's own terms.

| constraint    | where                         | what is sent                                            |
|---------------|-------------------------------|---------------------------------------------------------|
| `gbnf`        | embedded llama.cpp, llama.cpp's servers | a GBNF grammar (`grammar` in the request body)  |
| `vllm`        | vLLM 0.12 and later           | `structured_outputs: {"regex": ...}`                     |
| `json-schema` | OpenAI and most other servers | `response_format` with a strict JSON schema              |
| `off`         | anything else                 | nothing: the plain repair turn                           |

`auto` (the default) picks per backend: the embedded model takes grammars; for an
OpenAI-compatible server the `/models` listing names the engine (`owned_by`); OpenAI
itself, and servers that do not say, get a JSON schema. A server that rejects the
constraint is asked again without it, and a note says so once per server.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from fellowship.models.servers import engine_of
from fellowship.parsing.formats import AnswerFormat

if TYPE_CHECKING:  # annotations only: the CLI's options read this module's choices without loading LangChain
    from langchain_core.language_models import BaseChatModel, LanguageModelInput
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable

Constraint = Literal["gbnf", "vllm", "json-schema", "off"]
ConstraintChoice = Literal["auto", "gbnf", "vllm", "json-schema", "off"]
CONSTRAINT_CHOICES: tuple[ConstraintChoice, ...] = ("auto", "gbnf", "vllm", "json-schema", "off")

_BY_ENGINE: dict[str, Constraint] = {"llama.cpp": "gbnf", "llama-cpp-python": "gbnf", "vllm": "vllm"}


def detect(base_url: str | None, api_key: str | None = None) -> Constraint:
    """The constraint an OpenAI-compatible server takes, from the engine its model listing names."""
    if not base_url:
        return "json-schema"
    return _BY_ENGINE.get(engine_of(base_url, api_key), "json-schema")


def constraint_of(model: BaseChatModel) -> Constraint:
    return getattr(model, "answer_constraint", "off")


def constrained(model: BaseChatModel, fmt: AnswerFormat,
                explained: bool) -> tuple[Runnable[LanguageModelInput, BaseMessage], Callable[[str], str]] | None:
    """The model bound to `fmt`, and how to read its reply back as text; None when it cannot be held to it."""
    kind = constraint_of(model)
    if kind == "off" or _server_key(model, kind) in _rejected:
        return None
    if kind == "gbnf" and getattr(model, "grammar_kwarg", False):  # the embedded llama.cpp model
        return model.bind(grammar=fmt.gbnf(explained)), str
    extra: dict[str, Any] = dict(getattr(model, "extra_body", None) or {})
    if kind == "gbnf":
        return model.bind(extra_body={**extra, "grammar": fmt.gbnf(explained)}), str
    if kind == "vllm":
        return model.bind(extra_body={**extra, "structured_outputs": {"regex": fmt.regex(explained)}}), str
    schema = {"name": fmt.name.replace("-", "_"), "schema": fmt.json_schema(explained), "strict": True}
    return model.bind(response_format={"type": "json_schema", "json_schema": schema}), fmt.from_json


_rejected: set[tuple[str, str]] = set()
_lock = threading.Lock()


def _server_key(model: BaseChatModel, kind: str) -> tuple[str, str]:
    return (str(getattr(model, "openai_api_base", None) or getattr(model, "model_path", "")), kind)


def rejected(model: BaseChatModel, exc: Exception) -> bool:
    """Whether `exc` is a server refusing the constraint; if so, stop sending it to that server and say so once."""
    status = getattr(exc, "status_code", None)
    if status not in (400, 404, 415, 422, 500, 501):
        return False
    key = _server_key(model, constraint_of(model))
    with _lock:
        _rejected.add(key)
    warn_once(f"rejected:{key}", f"{key[0] or 'the server'} rejected the {key[1]} constraint (HTTP {status}); "
                                 "answers are asked for without it (choose another with --constrain)")
    return True


_said: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """A note on stderr, once per process and key."""
    with _lock:
        if key in _said:
            return
        _said.add(key)
    print(f"note: {message}", file=sys.stderr)
