"""Prompts to generate from: JSON Lines with `prompt` (optional `id`), or plain text, one per line."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import read_records, read_text, text_field


class PromptItem(BaseModel):
    id: str
    prompt: str


def read_prompts(path: Path) -> list[PromptItem]:
    """Every prompt of the file, validated; ids default to the line number."""
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
        items.append(PromptItem(id=key, prompt=prompt))
    if not items:
        raise InputError("holds no prompts", path)
    return items
