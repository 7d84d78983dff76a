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


@pytest.fixture
def fake_models(monkeypatch):
    """Register scripted models under `fake:NAME` specs for the duration of a test."""
    registry: dict[str, object] = {}

    def fake_load(spec, settings=None):  # type: ignore[no-untyped-def]
        if spec in registry:
            return registry[spec]
        raise AssertionError(f"test used unregistered model {spec!r}")

    for module in ("fellowship.nodes.judge", "fellowship.nodes.debate"):
        monkeypatch.setattr(f"{module}.load_chat_model", fake_load)
    return registry
