"""Shared fixtures: the shared data folder, fake models wired into the model factory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fellowship.models import factory

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def need_data():
    """need_data(NAME) -> the data root holding dataset NAME (mirror or cache).

    A dataset that is not here skips the test with the command that fetches it; where
    FELLOWSHIP_REQUIRE_DATA=1 (CI, with the mirror) it fails the test instead.
    """
    from fellowship.data.catalogue import dataset
    from fellowship.data.store import DataMissing, root_of

    def need(name: str) -> Path:
        try:
            for required in [*dataset(name).requires, name]:
                root_of(required)
            return root_of(name)
        except DataMissing:
            message = f"needs the {name} dataset: run `fellowship data fetch {name}` (or set FELLOWSHIP_DATA to a mirror)"
            if os.environ.get("FELLOWSHIP_REQUIRE_DATA") == "1":
                pytest.fail(message)
            pytest.skip(message)

    return need


@pytest.fixture
def paper(need_data) -> Path:
    """The data root holding the paper authors' recorded outputs (and the pairs they refer to)."""
    return need_data("paper-outputs")


class FakeModels(dict):
    """Scripted models served under specs for one test (see `register_model`)."""

    def __setitem__(self, spec: str, model) -> None:
        super().__setitem__(spec, model)
        factory.register_model(spec, model)


@pytest.fixture
def fake_models():
    registry = FakeModels()
    yield registry
    for spec in registry:
        factory.register_model(spec, None)


@pytest.fixture(autouse=True)
def private_state(tmp_path_factory, monkeypatch):
    """Local traces and other state go to a temporary folder, never the working tree."""
    from fellowship.tracing import local

    monkeypatch.setenv("FELLOWSHIP_HOME", str(tmp_path_factory.mktemp("fellowship-home")))
    yield
    local._command = local._active = None
