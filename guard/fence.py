"""Blocks a text cannot close: each tag ends in a code derived from every text of the prompt.

A response cannot hold the code of a prompt that contains it (the code is a hash of that
very text), so it cannot end its own block and write on as if it were the template.
Deriving the code instead of drawing it keeps prompts, and so seeded replies, reproducible.
"""

from __future__ import annotations

import hashlib
import re


def boundary(*texts: str) -> str:
    """A code that none of the texts holds, derived from all of them."""
    salt = 0
    while True:
        code = hashlib.sha256("\x1f".join((*texts, str(salt))).encode()).hexdigest()[:10]
        if not any(code in text for text in texts):
            return code
        salt += 1


def tag(name: str, code: str) -> str:
    """The block tag `name-code`, or the plain `name` without defences (code '')."""
    return f"{name}-{code}" if code else name


def blocks(code: str, *named: tuple[str, str]) -> str:
    """Each (name, text) as `<name-code>` text `</name-code>`, separated by blank lines."""
    return "\n\n".join(f"<{tag(name, code)}>\n{text}\n</{tag(name, code)}>" for name, text in named)


def unechoed(text: str, code: str, *names: str) -> str:
    """`text` without the block tags of `code` that it repeats, and with a bare `name-code` it mentions written as
    `name`: a model that echoes the markers of the blocks it was shown writes the template's words, not its own.
    A tag with any other code stays (and screening finds it)."""
    if not code:
        return text
    names_ = "|".join(re.escape(name) for name in names)
    tags = re.compile(rf"</?(?:{names_})-{re.escape(code)}>")
    bare = re.compile(rf"\b({names_})-{re.escape(code)}\b")
    if not (tags.search(text) or bare.search(text)):
        return text
    return bare.sub(r"\1", tags.sub("", text)).strip()
