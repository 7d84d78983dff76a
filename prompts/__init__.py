"""Prompt texts, one module per role. Written for this project; only the answer formats follow the paper."""

import hashlib


def template_hash(*texts: str) -> str:
    """A short stable hash of prompt templates, recorded as provenance."""
    digest = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()
    return digest[:12]
