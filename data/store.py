"""Find datasets in a local mirror or the user cache, and fetch them into the cache, verified.

- `FELLOWSHIP_DATA` names a mirror (a folder laid out like the catalogue's `local` paths);
  it is read first and never written.
- The cache is `$FELLOWSHIP_DATA_CACHE`, else `$XDG_CACHE_HOME/fellowship/data`, else
  `~/.cache/fellowship/data`. A dataset counts as cached once its manifest
  (`.fetched/NAME.json`) exists; the manifest is written last, after every file was
  downloaded, checked against its sha256 and moved into place.
- Downloads come from `$FELLOWSHIP_DATA_URL/REPO/COMMIT/PATH` (default: GitHub's raw file host).
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from fellowship.data.catalogue import Dataset, RemoteFile, dataset

DEFAULT_URL = "https://raw.githubusercontent.com"
Status = Literal["mirror", "cached", "missing"]


class DataMissing(LookupError):
    """A dataset that is neither in the mirror nor in the cache."""

    def __init__(self, name: str) -> None:
        super().__init__(f"dataset {name!r} is not available here: run `fellowship data fetch {name}` "
                         f"(or point FELLOWSHIP_DATA at a mirror that holds it)")
        self.name = name


class FetchError(RuntimeError):
    """A download failed or did not match its checksum; nothing was cached."""


def mirror_root() -> Path | None:
    value = os.environ.get("FELLOWSHIP_DATA")
    return Path(value).expanduser() if value else None


def cache_root() -> Path:
    if value := os.environ.get("FELLOWSHIP_DATA_CACHE"):
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fellowship" / "data"


def _manifest(name: str) -> Path:
    return cache_root() / ".fetched" / f"{name}.json"


def status(name: str) -> Status:
    entry = dataset(name)
    mirror = mirror_root()
    if mirror is not None and all((mirror / f.local).is_file() for f in entry.files):
        return "mirror"
    if _manifest(name).is_file() and all((cache_root() / f.local).is_file() for f in entry.files):
        return "cached"
    return "missing"


def root_of(name: str) -> Path:
    """The data root that holds every file of `name` (the mirror first, then the cache)."""
    found = status(name)
    if found == "missing":
        raise DataMissing(name)
    mirror = mirror_root()
    return mirror if found == "mirror" and mirror is not None else cache_root()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            data: bytes = response.read()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except http.client.IncompleteRead as exc:
        raise FetchError(f"{url}: the download was cut short ({len(exc.partial)} bytes read, {exc.expected} more expected)") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{url}: the download failed ({type(exc).__name__}: {exc})") from None
    if expected is not None and len(data) != int(expected):
        raise FetchError(f"{url}: the download was cut short ({len(data)} of {expected} bytes)")
    return data


def _content(entry: Dataset, file: RemoteFile, base: str, timeout: float) -> bytes:
    url = entry.url(file, base)
    data = _download(url, timeout)
    if file.member is not None:
        try:
            data = zipfile.ZipFile(io.BytesIO(data)).read(file.member)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise FetchError(f"{url}: no {file.member!r} in the archive ({exc})") from None
    digest = sha256_of(data)
    if digest != file.sha256:
        raise FetchError(f"{url}: checksum mismatch for {file.local}: got sha256 {digest[:16]}..., "
                         f"expected {file.sha256[:16]}... (the origin changed, or the download is corrupt); nothing was cached")
    return data


def fetch(name: str, *, base: str | None = None, timeout: float = 60.0,
          progress: Callable[[RemoteFile], None] | None = None) -> Path:
    """Download, verify and store every file of `name` (and of what it requires); returns the cache root.

    All files are first downloaded and verified into a staging folder inside the cache; only
    then are they moved into place and the manifest written. A failure leaves the cache as it was.
    """
    entry = dataset(name)
    for needed in entry.requires:
        if status(needed) == "missing":
            fetch(needed, base=base, timeout=timeout, progress=progress)
    base = base or os.environ.get("FELLOWSHIP_DATA_URL") or DEFAULT_URL
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{name}-", dir=root))
    try:
        for file in entry.files:
            data = _content(entry, file, base, timeout)
            target = staging / file.local
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if progress:
                progress(file)
        for file in entry.files:
            final = root / file.local
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / file.local, final)
        manifest = _manifest(name)
        manifest.parent.mkdir(parents=True, exist_ok=True)
        tmp = manifest.with_suffix(".part")
        tmp.write_text(json.dumps({"name": name, "repo": entry.repo, "commit": entry.commit,
                                   "files": {f.local: f.sha256 for f in entry.files}}, indent=1))
        os.replace(tmp, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root
