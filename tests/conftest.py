"""Shared fixtures: the shared data folder, fake models wired into the model factory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fellowship.models import factory

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("FELLOWSHIP_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only human-labelled data and paper outputs beside the project (required, never skipped)."""
    assert SHARED_DATA.is_dir(), f"shared data not found at {SHARED_DATA} (set FELLOWSHIP_SHARED_DATA)"
    return SHARED_DATA


class FakeModels(dict):
    """Scripted models served under specs for one test (see `register_model`)."""

    def __setitem__(self, spec: str, model) -> None:  # type: ignore[no-untyped-def]
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
    local._active = None
