"""The preflight: every model of a run is checked before the first item, against real loopback servers."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from tests.servers import scripted_server, send_json

runner = CliRunner()


@pytest.fixture
def prompts(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("Say hi.\nSay bye.\n")
    return path


def generate(prompts, out, *extra):
    return runner.invoke(app, ["generate", "--prompts", str(prompts), "--out", str(out), "--candidate", "a=openai:m",
                               "--candidate", "b=openai:m", "--judge-model", "openai:m", "--kind", "single", *extra])


def said(result) -> str:
    return " ".join(result.stderr.split())


def test_no_key_and_no_server_is_one_message_and_nothing_written(prompts, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    result = generate(prompts, tmp_path / "out")
    assert result.exit_code == 2 and "openai:m: OPENAI_API_KEY is not set" in said(result)
    assert not (tmp_path / "out").exists()


def test_an_unreachable_server_is_named_with_its_url(prompts, tmp_path):
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    result = generate(prompts, tmp_path / "out", "--base-url", url)
    assert result.exit_code == 2 and f"openai:m: cannot reach {url}" in said(result) and "--no-preflight" in said(result)
    assert not (tmp_path / "out").exists()


def test_a_model_the_server_does_not_serve_is_named_with_what_it_serves(prompts, tmp_path):
    with scripted_server(lambda body: "### Score Assistant A: 8/10\n### Score Assistant B: 3/10") as server:
        result = runner.invoke(app, ["judge", "--question", "Q?", "--a", "x", "--b", "y", "--model", "openai:gpt-nope",
                                     "--base-url", server.url])
        assert result.exit_code == 2 and "does not serve a model named 'gpt-nope'; it serves: m" in said(result)
        assert server.bodies == []  # no chat request was made
        ok = generate(prompts, tmp_path / "out", "--base-url", server.url)
        assert ok.exit_code == 0, ok.output


def test_a_refused_key_and_no_preflight(prompts, tmp_path, monkeypatch):
    class Refusing(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            send_json(self, 401, b'{"error": {"message": "bad key"}}')

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
        result = generate(prompts, tmp_path / "out", "--base-url", url)
        assert result.exit_code == 2 and f"{url} refused the key (HTTP 401): check OPENAI_API_KEY" in said(result)
        skipped = generate(prompts, tmp_path / "out", "--base-url", url, "--no-preflight", "--timeout", "2")
        assert skipped.exit_code == 1  # without the preflight each prompt fails on its own
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_hf_without_a_token(prompts, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    result = runner.invoke(app, ["judge", "--question", "Q?", "--a", "x", "--b", "y", "--model", "hf:some/repo"])
    assert result.exit_code == 2 and "hf:some/repo: HF_TOKEN is not set" in said(result)
