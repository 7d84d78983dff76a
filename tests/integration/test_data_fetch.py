"""`fellowship data fetch` against a loopback server that serves the upstream layout (REPO/COMMIT/PATH).

The server is a test double of GitHub's raw file host. Mechanics (a good download, a
checksum mismatch, a download cut short, a file inside a zip) are tested on a small
catalogue made here; the real catalogue's paths and checksums on the FairEval files.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.data import catalogue as catalogue_module
from fellowship.data.catalogue import Dataset, RemoteFile, dataset
from fellowship.data.store import FetchError, fetch, root_of, status

pytestmark = pytest.mark.integration
runner = CliRunner()


class UpstreamDouble:
    """Serves `files` (URL path -> bytes); `mode` can corrupt a body or cut it short."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files, self.mode, self.requests = files, "ok", []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                double.requests.append(self.path)
                body = double.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                if double.mode == "corrupt":
                    body = body[:-1] + bytes([body[-1] ^ 1])
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if double.mode == "cut" else body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


@contextmanager
def upstream(files: dict[str, bytes]) -> Iterator[UpstreamDouble]:
    double = UpstreamDouble(files)
    threading.Thread(target=double.httpd.serve_forever, daemon=True).start()
    try:
        yield double
    finally:
        double.httpd.shutdown()
        double.httpd.server_close()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """No mirror, an empty cache of our own."""
    monkeypatch.delenv("FELLOWSHIP_DATA", raising=False)
    monkeypatch.setenv("FELLOWSHIP_DATA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


TEXT = b'{"question_id": 1, "text": "hi"}\n'
INNER = b'{"query": "q", "response1": "a", "response2": "b", "human": "TIE"}\n'


@pytest.fixture
def toy_catalogue(monkeypatch):
    """A dataset of two files, one of them inside an upstream zip."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("inner.jsonl", INNER)
        z.writestr("__MACOSX/._inner.jsonl", b"junk")
    entry = Dataset(name="toy", title="toy", kind="prompts", repo="someone/toy", commit="c0ffee", license="MIT", citation="-",
                    files=[RemoteFile(local="prompts/toy/a.jsonl", upstream="data/a.jsonl", sha256=hashlib.sha256(TEXT).hexdigest(),
                                      size=len(TEXT)),
                           RemoteFile(local="prompts/toy/b.jsonl", upstream="data/b.zip", member="inner.jsonl",
                                      sha256=hashlib.sha256(INNER).hexdigest(), size=len(INNER))])
    monkeypatch.setattr(catalogue_module, "catalogue", lambda: {"toy": entry})
    served = {"/someone/toy/c0ffee/data/a.jsonl": TEXT, "/someone/toy/c0ffee/data/b.zip": archive.getvalue()}
    return entry, served


def test_a_good_download_is_verified_and_stored(toy_catalogue, empty_cache):
    entry, served = toy_catalogue
    with upstream(served) as server:
        assert status("toy") == "missing"
        fetch("toy", base=server.url)
    assert status("toy") == "cached" and root_of("toy") == empty_cache
    assert (empty_cache / "prompts/toy/a.jsonl").read_bytes() == TEXT
    assert (empty_cache / "prompts/toy/b.jsonl").read_bytes() == INNER  # the member, out of the zip
    manifest = json.loads((empty_cache / ".fetched/toy.json").read_text())
    assert manifest["commit"] == "c0ffee" and set(manifest["files"]) == {"prompts/toy/a.jsonl", "prompts/toy/b.jsonl"}
    assert not [p for p in empty_cache.iterdir() if p.name.startswith(".staging")]


@pytest.mark.parametrize("mode, message", [("corrupt", "checksum mismatch"), ("cut", "cut short")])
def test_a_bad_download_caches_nothing(toy_catalogue, empty_cache, mode, message):
    entry, served = toy_catalogue
    with upstream(served) as server:
        server.mode = mode
        with pytest.raises(FetchError, match=message):
            fetch("toy", base=server.url)
    assert status("toy") == "missing"
    assert [p for p in empty_cache.rglob("*") if p.is_file()] == []


def test_the_cli_exits_1_on_a_failed_fetch_and_2_on_an_unknown_name(toy_catalogue, empty_cache, monkeypatch):
    entry, served = toy_catalogue
    with upstream(served) as server:
        server.mode = "corrupt"
        monkeypatch.setenv("FELLOWSHIP_DATA_URL", server.url)
        result = runner.invoke(app, ["data", "fetch", "toy"])
        assert result.exit_code == 1 and "checksum mismatch" in result.stderr and "nothing was cached" in " ".join(result.stderr.split())
        server.mode = "ok"
        result = runner.invoke(app, ["data", "fetch", "all"])
        assert result.exit_code == 0 and "stored in" in result.stderr
    assert runner.invoke(app, ["data", "fetch", "nope"]).exit_code == 2
    listing = [json.loads(line) for line in runner.invoke(app, ["data", "list", "--json"]).stdout.splitlines()]
    assert listing == [{"name": "toy", "status": "cached", "kind": "prompts", "files": 2, "mb": 0.0, "origin": "someone/toy@c0ffee",
                        "license": "MIT", "title": "toy"}]


def test_the_real_catalogue_fetches_faireval_and_the_pairs_are_built_from_the_cache(need_data, tmp_path, monkeypatch):
    mirror = need_data("faireval")  # the upstream files, served from the mirror's copies
    entry = dataset("faireval")
    served = {f"/{entry.repo}/{entry.commit}/{f.upstream}": (mirror / f.local).read_bytes() for f in entry.files}
    empty_cache = tmp_path / "cache"
    monkeypatch.delenv("FELLOWSHIP_DATA", raising=False)
    monkeypatch.setenv("FELLOWSHIP_DATA_CACHE", str(empty_cache))
    with upstream(served) as server:
        monkeypatch.setenv("FELLOWSHIP_DATA_URL", server.url)
        result = runner.invoke(app, ["data", "fetch", "faireval"])
    assert result.exit_code == 0, result.output
    assert sorted(server.requests) == sorted(served)
    from fellowship.readers.named import read_dataset

    pairs = read_dataset("faireval")
    assert len(pairs) == 80 and Path(empty_cache / "human-labels/faireval_vicuna80/raw/question.jsonl").is_file()
    assert {h: sum(p.human == h for p in pairs) for h in ("A", "B", "tie")} == {"A": 41, "B": 25, "tie": 14}


def test_a_missing_dataset_says_how_to_fetch_it(empty_cache):
    result = runner.invoke(app, ["agreement", "--dataset", "pandalm", "--recorded", "x.json"])
    assert result.exit_code == 2 and "fellowship data fetch pandalm" in result.stderr
    result = runner.invoke(app, ["reproduce"])
    assert result.exit_code == 2 and "fellowship data fetch paper-outputs" in " ".join(result.stderr.split())
