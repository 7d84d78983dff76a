"""How many tokens a model reads for a list of messages, counted as close to its own count as fellowship can get.

In order of preference: a tokenizer named with `--tokenizer` (a GGUF file or a Hugging Face tokenizer); the GGUF of a
local model; the tokenizer of a transformers model; OpenAI's encodings (tiktoken) for OpenAI's models; the server's own
tokenizer behind `--base-url` (vLLM and llama.cpp apply the chat template too; llama-cpp-python's server tokenizes
texts only, so its template's few tokens a message are estimated); else about four characters a token.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, convert_to_openai_messages

from fellowship.models.spec import ModelSpec, SpecError

Counter = Callable[[Sequence[BaseMessage]], int]

# A chat template wraps each message in a few tokens (ChatML: `<|im_start|>role\n` and `<|im_end|>\n`) and opens the reply.
_PER_MESSAGE, _REPLY = 5, 3


@dataclass(frozen=True)
class Tokenizer:
    """A counter and how it counts (`exact`: the model's own tokenizer and template)."""

    count: Counter
    how: str
    exact: bool


def approximate(messages: Sequence[BaseMessage]) -> int:
    """About four characters a token, and a few for each message's header."""
    return sum(_PER_MESSAGE - 1 + (len(m.text) + 3) // 4 for m in messages) + _REPLY


APPROXIMATE = Tokenizer(approximate, "approximate: about 4 characters a token", False)


@lru_cache(maxsize=8)
def gguf(path: str) -> Tokenizer:
    """The GGUF's own tokenizer and chat template, as llama.cpp applies them (vocabulary only: no weights loaded)."""
    from llama_cpp import Llama
    from llama_cpp import llama_chat_format as chat

    with contextlib.redirect_stderr(io.StringIO()):  # a vocabulary-only model has no training context; llama.cpp says so
        llama = Llama(model_path=path, vocab_only=True, verbose=False)
    template = llama.metadata.get("tokenizer.chat_template")
    vocab = llama._model  # noqa: SLF001 - llama-cpp-python exposes the special tokens' texts only here
    formatter = chat.Jinja2ChatFormatter(template=template, eos_token=vocab.token_get_text(llama.token_eos()),
                                         bos_token=vocab.token_get_text(llama.token_bos())) if template else None

    def count(messages: Sequence[BaseMessage]) -> int:
        if formatter is None:
            return len(llama.tokenize("\n".join(m.text for m in messages).encode(), special=True))
        prompt = formatter(messages=convert_to_openai_messages(messages)).prompt  # type: ignore[arg-type]
        return len(llama.tokenize(prompt.encode(), add_bos=False, special=True))

    return Tokenizer(count, f"its GGUF's tokenizer and chat template ({os.path.basename(path)})", True)


@lru_cache(maxsize=8)
def hugging_face(name: str) -> Tokenizer | None:
    """A transformers tokenizer and its chat template (a folder, or a Hub id: from the cache first, else downloaded)."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        return None
    tokenizer: Any = None
    for cached_only in (True, False):
        with contextlib.suppress(Exception):  # not cached, no network, or no tokenizer there: the next way, or none
            tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=cached_only)
            break
    if tokenizer is None:
        return None
    if not tokenizer.chat_template:
        return Tokenizer(lambda ms: len(tokenizer("\n".join(m.text for m in ms))["input_ids"]), f"{name}'s tokenizer", True)

    def count(messages: Sequence[BaseMessage]) -> int:
        return len(tokenizer.apply_chat_template(convert_to_openai_messages(messages), add_generation_prompt=True,
                                                 tokenize=True, return_dict=True)["input_ids"])

    return Tokenizer(count, f"{name}'s tokenizer and chat template", True)


def _tiktoken(model: str) -> Tokenizer | None:
    """OpenAI's count (the encoding's tokens, and 3 per message and 3 for the reply's start), where tiktoken has the
    encoding on this machine (it downloads encodings once, so offline it may not)."""
    try:
        import tiktoken

        encoding = tiktoken.encoding_for_model(model)
    except Exception:  # noqa: BLE001 - unknown model, or the encoding cannot be fetched: counted approximately
        return None
    return Tokenizer(lambda ms: sum(3 + len(encoding.encode(m.text)) for m in ms) + 3, f"tiktoken's {encoding.name}", True)


def served(base_url: str, model: str, api_key: str | None = None) -> Tokenizer | None:
    """The tokenizer of the server behind `base_url`, asked over HTTP (no model is called), where its engine has one."""
    import httpx

    from fellowship.models.servers import engine_of

    engine = engine_of(base_url, api_key)
    if engine not in ("vllm", "llama.cpp", "llama-cpp-python"):
        return None
    client = httpx.Client(base_url=base_url.rstrip("/").removesuffix("/v1"), timeout=30,
                          headers={"Authorization": f"Bearer {api_key}"} if api_key else {})

    def post(path: str, body: dict[str, Any]) -> Any:
        response = client.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def plain(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
        return convert_to_openai_messages(messages)

    if engine == "vllm":
        def count(messages: Sequence[BaseMessage]) -> int:
            return int(post("/tokenize", {"model": model, "messages": plain(messages), "add_generation_prompt": True})["count"])
        how = f"the vLLM server's tokenizer and chat template ({base_url})"
    elif engine == "llama.cpp":
        def count(messages: Sequence[BaseMessage]) -> int:
            prompt = post("/apply-template", {"messages": plain(messages)})["prompt"]
            return len(post("/tokenize", {"content": prompt, "add_special": True, "parse_special": True})["tokens"])
        how = f"the llama.cpp server's tokenizer and chat template ({base_url})"
    else:  # llama-cpp-python
        @lru_cache(maxsize=4096)
        def text_tokens(text: str) -> int:
            return int(post("/extras/tokenize/count", {"model": model, "input": text})["count"])

        def count(messages: Sequence[BaseMessage]) -> int:
            start = text_tokens("")  # the beginning-of-text token the server adds to every text, if its model has one
            return start + sum(_PER_MESSAGE + text_tokens(m.text) - start for m in messages) + _REPLY
        how = f"the llama-cpp-python server's tokenizer for texts, about {_PER_MESSAGE} tokens a message for its template ({base_url})"
    try:
        count([HumanMessage("How many tokens?")])
    except (httpx.HTTPError, KeyError, TypeError, ValueError):
        client.close()
        return None
    return Tokenizer(count, how, engine != "llama-cpp-python")


def tokenizer_for(spec: str, base_url: str | None = None, named: str | None = None) -> Tokenizer:
    """The best counter fellowship has for a model spec; `named` is a `--tokenizer` source (a .gguf path or a tokenizer)."""
    if named:
        found = gguf(named) if named.lower().endswith(".gguf") else hugging_face(named)
        if found is None:
            raise ValueError(f"--tokenizer {named}: no GGUF file or Hugging Face tokenizer there")
        return found
    try:
        parsed = ModelSpec.parse(spec)
    except SpecError:
        return APPROXIMATE
    if parsed.provider == "local":
        from fellowship.models.llamacpp import smollm2_path

        return gguf(str(smollm2_path()) if parsed.target == "smollm2" else parsed.target)
    found = None
    if parsed.provider == "hf-local" or (parsed.provider == "hf" and not parsed.target.startswith(("http://", "https://"))):
        found = hugging_face(parsed.target)
    elif parsed.provider == "openai" and base_url:
        found = served(base_url, parsed.target, os.environ.get("OPENAI_API_KEY"))
    elif parsed.provider == "openai":
        found = _tiktoken(parsed.target)
    return found or APPROXIMATE
