"""Check every model of a run before its first item: credentials, the server, the model name.

One cheap request per OpenAI-compatible server (`GET /models`); a failure is one message
that names the model, the URL and the fix, instead of the same error once per item.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterable

from fellowship.models.factory import is_registered
from fellowship.models.servers import engine_of
from fellowship.models.spec import BackendUnavailable, ModelSpec

OPENAI_URL = "https://api.openai.com/v1"
# Servers that serve one model whatever name a request gives: the name is not checked there.
SINGLE_MODEL_ENGINES = ("llama.cpp", "llama-cpp-python")


class PreflightFailed(BackendUnavailable):
    """A model of the run cannot be used as configured."""


def preflight(specs: Iterable[str], base_url: str | None = None, timeout: float = 10.0) -> None:
    """Raise PreflightFailed for the first model that cannot work; models registered in-process are not checked."""
    for spec in dict.fromkeys(specs):
        if is_registered(spec):
            continue
        parsed = ModelSpec.parse(spec)
        if parsed.provider == "openai":
            _openai(parsed, base_url or os.environ.get("OPENAI_BASE_URL"), timeout)
        elif parsed.provider == "hf" and not parsed.target.startswith(("http://", "https://")) and not os.environ.get("HF_TOKEN"):
            raise PreflightFailed(f"{spec}: HF_TOKEN is not set; the Hugging Face inference API needs a token "
                                  "(export HF_TOKEN=hf_..., or give hf:https://... for an endpoint of your own)")


def _openai(spec: ModelSpec, base_url: str | None, timeout: float) -> None:
    key = os.environ.get("OPENAI_API_KEY")
    if not key and not base_url:
        raise PreflightFailed(f"{spec}: OPENAI_API_KEY is not set; export it, or give --base-url (or OPENAI_BASE_URL) "
                              "for an OpenAI-compatible server")
    url = (base_url or OPENAI_URL).rstrip("/")
    request = urllib.request.Request(url + "/models", headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=min(timeout, 10.0)) as response:
            listing = json.load(response)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise PreflightFailed(f"{spec}: {url} refused the key (HTTP {exc.code}): check OPENAI_API_KEY") from None
        return  # a server without a model listing: reachable, and the name cannot be checked
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PreflightFailed(f"{spec}: cannot reach {url} ({reason}); check that the server runs and --base-url "
                              "(or OPENAI_BASE_URL) points at it; --no-preflight skips this check") from None
    served = [str(m.get("id")) for m in listing.get("data", []) if isinstance(m, dict)] if isinstance(listing, dict) else []
    if served and spec.target not in served and engine_of(url, key) not in SINGLE_MODEL_ENGINES:
        shown = ", ".join(served[:8]) + (" ..." if len(served) > 8 else "")
        raise PreflightFailed(f"{spec}: {url} does not serve a model named {spec.target!r}; it serves: {shown}")
