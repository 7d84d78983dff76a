"""Prompt texts, one module per role. Written for this project; only the answer formats follow the paper."""

import hashlib


def template_hash(*texts: str) -> str:
    """A short stable hash of prompt templates, recorded as provenance."""
    digest = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()
    return digest[:12]


def template_hashes() -> dict[str, str]:
    """A hash of every prompt module's templates, recorded with each dataset row."""
    from fellowship.prompts import debate, judge, loop

    return {
        module.__name__.rsplit(".", 1)[-1]: template_hash(
            *(value for name, value in sorted(vars(module).items()) if name.isupper() and isinstance(value, str)),
            *(f"{k}={v}" for k, v in sorted(getattr(module, "PERSONAS", {}).items())),
        )
        for module in (judge, debate, loop)
    }
