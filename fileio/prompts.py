"""Prompts to generate from: JSON Lines with `prompt` (optional `id`), or plain text, one per line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic_core import to_json

from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import read_records, read_text, text_field


@dataclass(frozen=True, slots=True)
class PromptItem:
    """One prompt: its id, its text and its place among the run's prompts (the order of the dataset's rows).

    A slotted dataclass: a run holds one per prompt, 60 bytes beside its texts where a pydantic model took 490."""

    id: str
    prompt: str
    index: int = 0

    def asked(self) -> str:
        """What the prompt asks, as JSON: its id and text, byte for byte as the pydantic model of earlier versions
        serialised them, so that the results files they journalled keep their hashes."""
        return to_json({"id": self.id, "prompt": self.prompt}).decode()


def numbered(items: list[PromptItem]) -> list[PromptItem]:
    """The items with their places in this list."""
    return [item if item.index == i else PromptItem(item.id, item.prompt, i) for i, item in enumerate(items)]


def read_prompts(path: Path) -> list[PromptItem]:
    """Every prompt of the file, validated, numbered in file order; ids default to the line number."""
    items: list[PromptItem] = []
    seen: dict[str, int] = {}
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        rows = ((line, text_field(r, "prompt", path, line), text_field(r, "id", path, line, optional=True)) for line,
                r in read_records(path))
    else:
        lines = read_text(path).splitlines()
        rows = ((n, text, None) for n, text in enumerate(lines, start=1) if text.strip())
    for line, prompt, item_id in rows:
        key = item_id or str(line)
        if key in seen:
            raise InputError(f"duplicate id {key!r} (first on line {seen[key]})", path, line, "id")
        seen[key] = line
        items.append(PromptItem(key, prompt, len(items)))
    if not items:
        raise InputError("holds no prompts", path)
    return items
