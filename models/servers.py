"""What an OpenAI-compatible server is, from its `GET /models` listing."""

from __future__ import annotations

import json
import urllib.request
from functools import lru_cache
from typing import Literal

Engine = Literal["llama.cpp", "llama-cpp-python", "vllm", "other", "unreachable"]

# `owned_by` in the listing: llama.cpp's own server says "llamacpp", llama-cpp-python's "me".
_OWNERS: dict[str, Engine] = {"llamacpp": "llama.cpp", "me": "llama-cpp-python", "vllm": "vllm"}


@lru_cache(maxsize=32)
def engine_of(base_url: str, api_key: str | None = None) -> Engine:
    """The engine behind an OpenAI-compatible base URL (asked once per process)."""
    request = urllib.request.Request(base_url.rstrip("/") + "/models",
                                     headers={"Authorization": f"Bearer {api_key}"} if api_key else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            listing = json.load(response)
        owners = [str(m.get("owned_by", "")).lower() for m in listing.get("data", [])]
    except (OSError, ValueError, AttributeError):
        return "unreachable"
    return next((_OWNERS[o] for o in owners if o in _OWNERS), "other")


def decodes_one_at_a_time(base_url: str | None) -> bool:
    """llama-cpp-python's server runs one request at a time: concurrent requests only queue,
    and interleaving them defeats its prompt cache (measured: 84 s instead of 57 s for the
    same 10 prompts at 4 at once)."""
    return base_url is not None and engine_of(base_url) == "llama-cpp-python"
