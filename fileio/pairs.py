"""Pairs to judge: `question`, `response_a`, `response_b`, optional `id`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import read_records, text_field


class Pair(BaseModel):
    id: str
    question: str
    response_a: str
    response_b: str


def read_pairs(path: Path) -> list[Pair]:
    """Every pair of a JSON Lines file, validated before any model runs."""
    pairs: list[Pair] = []
    seen: dict[str, int] = {}
    for line, record in read_records(path):
        question, response_a, response_b = (text_field(record, name, path, line) for name in ("question", "response_a", "response_b"))
        pair_id = text_field(record, "id", path, line, optional=True) or str(line)
        if pair_id in seen:
            raise InputError(f"duplicate id {pair_id!r} (first on line {seen[pair_id]})", path, line, "id")
        seen[pair_id] = line
        pairs.append(Pair(id=pair_id, question=question, response_a=response_a, response_b=response_b))
    if not pairs:
        raise InputError("holds no pairs", path)
    return pairs
