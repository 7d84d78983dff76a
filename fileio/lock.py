"""One writer at a time: an exclusive lock beside a journal, naming the run that holds it.

The lock is `flock` on `<journal>.lock`: the operating system releases it when its process
ends however it ends (`kill -9` included), so a lock left by a killed run is free again at
once and the next run takes it over; the file keeps the holder's pid, host and start time
for the message a second writer gets.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from pathlib import Path

from fellowship.fileio.errors import InputError


class RunLocked(InputError):
    """Another process is writing this journal."""


class RunLock:
    def __init__(self, journal: Path) -> None:
        self.path = journal.with_name(journal.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise RunLocked naming the run that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            who = (f"process {holder.get('pid')} on {holder.get('host')}, running since {holder.get('since')}"
                   if holder else "another process")
            raise RunLocked(f"is being written by {who}; wait for it to finish, or stop it first "
                            "(a run that was killed leaves no lock behind)", self.path.with_name(self.path.stem)) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read(fd: int) -> dict[str, object]:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
