"""The one error type for bad input files."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad user input, located as precisely as possible (file, line, field)."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None, field: str | None = None):
        where = ":".join(str(x) for x in (path, line) if x is not None)
        about = f"field '{field}': " if field else ""
        super().__init__(f"{where}: {about}{message}" if where else f"{about}{message}")
        self.path, self.line, self.field = path, line, field


class OutputError(OSError):
    """A file this run writes could not be written (disk full, file too large, no permission): not a model failure."""

    def __init__(self, path: Path | str, cause: OSError) -> None:
        super().__init__(cause.errno, f"could not write {path}: {cause.strerror or cause}")
        self.path = path
