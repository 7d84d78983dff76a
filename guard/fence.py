"""Blocks a text cannot close: the template's own tags are taken out of every text it fences.

The blocks keep plain tags (`<assistant_a>` ... `</assistant_a>`); with the defences on, any
tag of the blocks of the prompt that a text holds, in whatever characters it is spelled,
gives way to the removal note first, so no text can end its block and write on as if it
were the template. Plain tags, not tags with a code: on 50 LLMBar pairs the embedded judge
lost 10 points of accuracy when its tags ended in ten hex digits (see the README).
"""

from __future__ import annotations

import re

from fellowship.guard.fold import fold
from fellowship.guard.screen import REMOVED


def _tags(names: tuple[str, ...]) -> re.Pattern[str]:
    """An opening or closing tag of these names in the folded view, with any suffix a copy might add."""
    return re.compile(rf"<\s*/?\s*(?:{'|'.join(re.escape(n) for n in names)})(?:[-_ ][0-9a-z]{{1,16}})?\s*/?\s*>")


def untagged(text: str, *names: str, note: str = REMOVED) -> str:
    """`text` with every tag of these block names replaced by `note`."""
    folded = fold(text)
    spans = [folded.span(m.start(), m.end()) for m in _tags(names).finditer(folded.text)]
    if not spans:
        return text
    pieces, cursor = [], 0
    for start, end in spans:
        pieces += [text[cursor:start], note]
        cursor = end
    return "".join(pieces) + text[cursor:]


def blocks(guard: bool, *named: tuple[str, str]) -> str:
    """Each (name, text) as `<name>` text `</name>`, separated by blank lines; with `guard`, a text's
    own tags of these blocks are replaced by the removal note first."""
    names = tuple(name for name, _ in named)
    return "\n\n".join(f"<{name}>\n{untagged(text, *names) if guard else text}\n</{name}>" for name, text in named)


def unechoed(text: str, *names: str) -> str:
    """`text` without the tags of these blocks that it repeats: a model that echoes the markers of the
    blocks it was shown writes the template's words, not its own."""
    cleaned = untagged(text, *names, note="")
    return text if cleaned == text else re.sub(r"\n{3,}", "\n\n", cleaned).strip()
