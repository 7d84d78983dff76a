"""A folded view of a text for matching: what a reader sees, whatever characters spell it.

Folding removes invisible format characters (zero-width spaces and joiners, direction
marks), applies compatibility decomposition (full-width and mathematical letters become
plain ones) and drops accents, maps look-alike letters of other scripts to the Latin ones
they imitate (Unicode's confusables), lowercases, reads digit-for-letter spellings inside
words ("sc0re"), and joins letters spaced apart ("s c o r e"). Every folded character
remembers where it came from, so a match in the folded view is a span of the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from confusable_homoglyphs import confusables

# Digits and signs written for letters, read as letters only inside a word that has letters.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_AS_LETTERS = str.maketrans(_LEET)
_LOOK_ALIKE = re.compile(f"[{re.escape(''.join(_LEET))}]")
_WORD_REST = re.compile(r"(?:[^\W_]|[@$])*")  # the rest of a word: letters, digits and those signs ([^\W_] is str.isalnum)
_SPACED = re.compile(r"(?<![\w])(?:\w[ ._\-]){3,}\w(?![\w])")


@lru_cache(maxsize=4096)
def _plain(char: str) -> str:
    """The plain lowercase spelling of one character: '' for an invisible one."""
    if unicodedata.category(char) == "Cf":
        return ""
    if char.isascii():
        return char.lower()
    out = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.combining(part):
            continue
        if not part.isascii():
            found = confusables.is_confusable(part, preferred_aliases=[], greedy=True) or []
            latin = [h["c"] for f in found for h in f["homoglyphs"] if h["c"].isascii() and h["c"].isprintable()]
            part = latin[0] if latin else part
        out.append(part.lower())
    return "".join(out)


@dataclass(frozen=True)
class Folded:
    """The folded text and, for each of its characters, the index of the original character."""

    text: str
    origin: Sequence[int]
    source: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of folded characters start..end."""
        if start >= end:
            at = self.origin[start] if start < len(self.origin) else len(self.source)
            return at, at
        return self.origin[start], self.origin[end - 1] + 1

    def changed(self, start: int, end: int) -> bool:
        """Whether the original of this span reads differently from its folded view beyond case and
        spacing: look-alike letters, invisible characters, digits for letters or spaced-out letters."""
        a, b = self.span(start, end)
        plain = re.sub(r"\s+", " ", self.source[a:b].lower())
        return plain != re.sub(r"\s+", " ", self.text[start:end])


def fold(text: str) -> Folded:
    origin: Sequence[int]
    if text.isascii():  # no invisible, accented or look-alike characters: one character each, lowercased
        folded, origin = text.lower(), range(len(text))
    else:
        chars: list[str] = []
        places: list[int] = []
        for i, char in enumerate(text):
            for part in _plain(char):
                chars.append(part)
                places.append(i)
        folded, origin = "".join(chars), places
    return Folded(*_join_spaced(_read_leet(folded), origin), text)


def _read_leet(text: str) -> str:
    """Within a word holding letters and look-alike digits or signs, those read as letters (the text keeps its length).

    Words are found from their look-alikes, which most words do not hold."""
    pieces: list[str] = []
    cursor = end = 0
    for found in _LOOK_ALIKE.finditer(text):
        if found.start() < end:
            continue  # in the word just read
        start = found.start()
        while start and (text[start - 1].isalnum() or text[start - 1] in "@$"):
            start -= 1
        end = cast(re.Match[str], _WORD_REST.match(text, found.start())).end()  # a `*` pattern always matches
        word = text[start:end]
        if any(c.isalpha() for c in word) and not _is_number_like(word):
            pieces += [text[cursor:start], word.translate(_AS_LETTERS)]
            cursor = end
    return "".join(pieces) + text[cursor:] if pieces else text


def _is_number_like(word: str) -> bool:
    """Ordinals, units and counts ('10th', '3km', '2x') keep their digits."""
    letters = "".join(c for c in word if c.isalpha())
    return word[: len(word) - len(letters)].isdigit() and len(letters) <= 3


def _join_spaced(text: str, origin: Sequence[int]) -> tuple[str, Sequence[int]]:
    """Join runs of single characters written with one separator between them ('s c o r e')."""
    dropped = {k for match in _SPACED.finditer(text) for k in range(match.start() + 1, match.end(), 2)}
    if not dropped:
        return text, origin
    kept = [k for k in range(len(text)) if k not in dropped]
    return "".join(text[k] for k in kept), [origin[k] for k in kept]
