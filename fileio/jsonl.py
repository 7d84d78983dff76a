"""JSON Lines in and out."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal, overload

from fellowship.fileio.errors import InputError, OutputError


def not_text(path: Path, exc: UnicodeDecodeError, line: int | None = None) -> InputError:
    """The error for a file that is not UTF-8 text (binary, or another encoding)."""
    return InputError(f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
                      f"{' of the line' if line else ''}); save it as UTF-8", path, line)


def check_text(path: Path) -> None:
    """Refuse a file whose start holds NUL bytes: binary, or UTF-16/32, never UTF-8 text."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path) from None
    if b"\x00" in head:
        encoding = "UTF-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "binary"
        raise InputError(f"is not UTF-8 text (it holds NUL bytes: {encoding}); save it as UTF-8", path)


def read_text(path: Path) -> str:
    """A whole text file (UTF-8, a byte-order mark allowed); missing, a folder or not text is an InputError."""
    check_text(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path) from None
    except UnicodeDecodeError as exc:
        raise not_text(path, exc) from None


def read_json(path: Path) -> Any:
    """A whole JSON file; a missing file, text that is not UTF-8 or bad JSON is an InputError naming the file and line."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path, exc.lineno) from None


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; any other line is an InputError."""
    check_text(path)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path) from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise not_text(path, exc, number) from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"not valid JSON ({exc.msg} at column {exc.colno})", path, number) from None
            if not isinstance(record, dict):
                raise InputError("expected a JSON object", path, number)
            yield number, record


@overload
def text_field(record: dict[str, Any], name: str, path: Path, line: int, *, optional: Literal[False] = False) -> str: ...
@overload
def text_field(record: dict[str, Any], name: str, path: Path, line: int, *, optional: Literal[True]) -> str | None: ...
def text_field(record: dict[str, Any], name: str, path: Path, line: int, *, optional: bool = False) -> str | None:
    """A string field that must be present and non-empty (unless optional)."""
    value = record.get(name)
    if value is None:
        if optional:
            return None
        raise InputError("is missing", path, line, name)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and optional:
        return str(value)
    if not isinstance(value, str):
        raise InputError(f"must be a string, not {type(value).__name__}", path, line, name)
    if not value.strip():
        raise InputError("is empty", path, line, name)
    return value


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`, renamed over it only when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise exc if isinstance(exc, OutputError) else OutputError(path, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[str]]:
    """A text file beside `path`, flushed to disk and renamed over it only on success."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with atomic_writer(path) as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count
