"""The datasets the project knows by name: origin (repository, pinned commit, paths), checksums, licence, citation.

The entries live in `catalogue.json` beside this module. Every file has the path it has
upstream and the path it is stored under (`local`, relative to a data root laid out like
the project's shared mirror). Files derived from these (FairEval's pairs, the paper's
item lists, prompt lists) are never stored: the readers build them (see `data.derived`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel

Kind = Literal["human-labels", "prompts", "recorded"]


class RemoteFile(BaseModel):
    local: str
    upstream: str
    sha256: str
    size: int
    member: str | None = None  # the file inside an upstream zip archive


class Dataset(BaseModel):
    name: str
    title: str
    kind: Kind
    repo: str
    commit: str
    license: str
    citation: str
    files: list[RemoteFile]
    requires: list[str] = []

    def url(self, file: RemoteFile, base: str) -> str:
        return f"{base.rstrip('/')}/{self.repo}/{self.commit}/{file.upstream}"

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Dataset]:
    text = resources.files("fellowship.data").joinpath("catalogue.json").read_text(encoding="utf-8")
    return {entry["name"]: Dataset.model_validate(entry) for entry in json.loads(text)}


def dataset(name: str) -> Dataset:
    """The catalogue entry; an unknown name is a KeyError listing the known ones."""
    try:
        return catalogue()[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r} (known: {', '.join(catalogue())})") from None
