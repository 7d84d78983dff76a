"""Human-labelled pairs from the common evaluation sets, local files or the Hugging Face Hub.

Every reader yields `LabelledPair`: id, question, response_a, response_b, the human label
(A / B / tie) and whatever else the source holds (per-annotator labels, category, ...).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fellowship.fileio.errors import InputError
from fellowship.fileio.jsonl import read_records, read_text

Human = Literal["A", "B", "tie"]


class LabelledPair(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)

    id: str
    question: str
    response_a: str
    response_b: str
    human: Human
    annotators: list[Human] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("question", "response_a", "response_b", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> str:
        # Some sources hold bare scalars as responses (PandaLM has a `true`).
        return value if isinstance(value, str) else json.dumps(value)


Row = tuple[int, dict[str, Any]]


def _need(record: dict[str, Any], key: str, path: Path, line: int) -> Any:
    if key not in record or record[key] is None:
        raise InputError("is missing", path, line, key)
    return record[key]


def _label(value: Any, mapping: dict[Any, Human], path: Path, line: int, field: str) -> Human:
    key = str(value).strip()
    if key not in mapping:
        raise InputError(f"unknown label {value!r} (expected one of {', '.join(map(str, mapping))})", path, line, field)
    return mapping[key]


def _pandalm(rows: Iterator[Row], path: Path) -> Iterator[LabelledPair]:
    codes: dict[Any, Human] = {"1": "A", "2": "B", "0": "tie"}
    for line, r in rows:
        votes = [_label(_need(r, f"annotator{i}", path, line), codes, path, line, f"annotator{i}") for i in (1, 2, 3)]
        top = Counter(votes).most_common()
        human = "tie" if len(top) > 1 and top[0][1] == top[1][1] else top[0][0]
        question = _need(r, "instruction", path, line) + (f"\n\n{r['input']}" if r.get("input") else "")
        yield LabelledPair(id=str(r.get("idx", line - 1)), question=question, response_a=_need(r, "response1", path, line),
                           response_b=_need(r, "response2", path, line), human=human, annotators=votes,
                           extra={"cmp_key": r.get("cmp_key"), "motivation_app": r.get("motivation_app")})


def _faireval(rows: Iterator[Row], path: Path) -> Iterator[LabelledPair]:
    labels: dict[Any, Human] = {"A": "A", "B": "B", "tie": "tie"}
    for line, r in rows:
        yield LabelledPair(id=str(r.get("id", line)), question=_need(r, "instruction", path, line),
                           response_a=_need(r, "response_a", path, line), response_b=_need(r, "response_b", path, line),
                           human=_label(_need(r, "human_label", path, line), labels, path, line, "human_label"),
                           extra={k: r.get(k) for k in ("category", "model_a", "model_b")})


def _llmbar(rows: Iterator[Row], path: Path) -> Iterator[LabelledPair]:
    codes: dict[Any, Human] = {"1": "A", "2": "B"}
    for line, r in rows:
        yield LabelledPair(id=str(line - 1), question=_need(r, "input", path, line), response_a=_need(r, "output_1", path, line),
                           response_b=_need(r, "output_2", path, line),
                           human=_label(_need(r, "label", path, line), codes, path, line, "label"))


def _autoj(rows: Iterator[Row], path: Path) -> Iterator[LabelledPair]:
    codes: dict[Any, Human] = {"0": "A", "1": "B", "2": "tie"}
    for line, r in rows:
        yield LabelledPair(id=str(line - 1), question=_need(r, "prompt", path, line), response_a=_need(r, "response 1", path, line),
                           response_b=_need(r, "response 2", path, line),
                           human=_label(_need(r, "label", path, line), codes, path, line, "label"),
                           extra={"scenario": r.get("scenario")})


def _llmeval2(rows: Iterator[Row], path: Path) -> Iterator[LabelledPair]:
    codes: dict[Any, Human] = {"model1": "A", "model2": "B", "TIE": "tie"}
    for line, r in rows:
        yield LabelledPair(id=str(line - 1), question=_need(r, "query", path, line), response_a=_need(r, "response1", path, line),
                           response_b=_need(r, "response2", path, line),
                           human=_label(_need(r, "human", path, line), codes, path, line, "human"),
                           extra={"dataset": r.get("dataset")})


def _items(rows: Iterator[Row], path: Path) -> Iterator[LabelledPair]:
    labels: dict[Any, Human] = {"A": "A", "B": "B", "tie": "tie"}
    for line, r in rows:
        yield LabelledPair(id=str(r.get("id", line - 1)), question=_need(r, "question", path, line),
                           response_a=_need(r, "response_a", path, line), response_b=_need(r, "response_b", path, line),
                           human=_label(_need(r, "human", path, line), labels, path, line, "human"),
                           extra={k: r[k] for k in ("model_a", "model_b") if k in r})


def _arena(rows: Iterator[Row], path: Path) -> Iterator[LabelledPair]:
    """Hub rows with `conversation_a`, `conversation_b` (message lists) and `winner`."""
    codes: dict[Any, Human] = {"model_a": "A", "model_b": "B", "tie": "tie", "tie (bothbad)": "tie"}
    for line, r in rows:
        conv_a, conv_b = _need(r, "conversation_a", path, line), _need(r, "conversation_b", path, line)
        question = next((m["content"] for m in conv_a if m.get("role") == "user"), "")

        def answer(conv: list[dict[str, str]]) -> str:
            return next((m["content"] for m in reversed(conv) if m.get("role") == "assistant"), "")

        yield LabelledPair(id=str(r.get("question_id", line - 1)), question=question, response_a=answer(conv_a),
                           response_b=answer(conv_b), human=_label(_need(r, "winner", path, line), codes, path, line, "winner"))


Reader = Callable[[Iterator[Row], Path], Iterator[LabelledPair]]
FORMATS: dict[str, tuple[Reader, tuple[str, ...]]] = {
    # name: (reader, the keys that identify it)
    "pandalm": (_pandalm, ("annotator1", "response1")),
    "faireval": (_faireval, ("human_label", "instruction")),
    "llmbar": (_llmbar, ("output_1", "label")),
    "autoj": (_autoj, ("response 1", "label")),
    "llmeval2": (_llmeval2, ("response1", "human")),
    "items": (_items, ("question", "response_a", "human")),
    "arena": (_arena, ("conversation_a", "winner")),
}


def rows_of(path: Path) -> Iterator[Row]:
    """JSON Lines, or one JSON list (rows are then numbered from 1)."""
    text = read_text(path)
    if not text.lstrip().startswith("["):
        yield from read_records(path)
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path, exc.lineno) from None
    for index, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            raise InputError("expected a JSON object", path, index)
        yield index, record


def detect_format(path: Path) -> str:
    for _, first in rows_of(path):
        for name, (_, keys) in FORMATS.items():
            if all(k in first for k in keys):
                return name
        raise InputError(f"cannot tell the dataset format from the fields {sorted(first)}; name it with --format", path)
    raise InputError("holds no records", path)


def _from_hub(dataset_id: str, split: str) -> list[dict[str, Any]]:
    try:
        import datasets
    except ImportError:
        raise InputError(f"{dataset_id!r} is not a local file, and Hub datasets need: pip install datasets") from None
    try:
        return list(datasets.load_dataset(dataset_id, split=split))
    except Exception as exc:  # noqa: BLE001 - offline or unknown id: say which
        raise InputError(f"{dataset_id!r} is not a local file and the Hugging Face Hub cannot provide it "
                         f"({type(exc).__name__}: {exc})") from None


def read_labelled(source: str | Path, fmt: str | None = None, split: str = "test") -> list[LabelledPair]:
    """Read a local file (format detected or named) or a Hub dataset id with arena-style rows."""
    path = Path(source)
    if path.exists():
        name = fmt or detect_format(path)
        if name not in FORMATS:
            raise InputError(f"unknown format {name!r} (known: {', '.join(FORMATS)})")
        pairs = list(FORMATS[name][0](rows_of(path), path))
    else:
        if "/" not in str(source) or str(source).startswith((".", "/")):
            raise InputError("no such file", path)
        rows = _from_hub(str(source), split)
        pairs = list(FORMATS[fmt or "arena"][0](iter(enumerate(rows, start=1)), Path(str(source))))
    if not pairs:
        raise InputError("holds no pairs", path)
    return pairs
