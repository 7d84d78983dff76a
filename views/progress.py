"""The progress bar every long command shows on stderr (a `runs.runner.Meter`)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class Bar:
    """A bar with the items done, a running note and the time taken; lines said go above it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def start(self, label: str, total: int) -> None:
        self._progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[note]}"),
                                  TimeElapsedColumn(), console=self.console)
        self._task = self._progress.add_task(label, total=total, note="")
        self._progress.start()

    def advance(self, note: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, note=note)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def say(self, line: str) -> None:
        self.console.print(line, highlight=False, soft_wrap=True)
