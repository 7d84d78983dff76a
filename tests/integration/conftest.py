"""Real servers for integration tests, started on 127.0.0.1 by the tests themselves."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fellowship.models.llamacpp import smollm2_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"no answer from {url} within {seconds} s")


@contextmanager
def serving(command: list[str], ready_path: str, port: int, log_path: Path, seconds: float = 90, **popen: Any) -> Iterator[str]:
    """Start a server on 127.0.0.1:`port`, wait until `ready_path` answers, yield its base URL, stop it."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            wait_for(f"http://127.0.0.1:{port}{ready_path}", proc, seconds)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def gguf() -> Path:
    return smollm2_path()


@pytest.fixture(scope="session")
def llama_server(gguf, tmp_path_factory):
    """llama.cpp's OpenAI-compatible server with the SmolLM2 file; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "smollm2",
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--n_threads", "2"]
    with serving(command, "/v1/models", port, tmp_path_factory.mktemp("llama-server") / "server.log") as url:
        yield url
