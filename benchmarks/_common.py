"""Helpers shared by the benchmark scripts (run from the repository root)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.fakes, the scripted test doubles


def ratio_line(name: str, value: float, target: str) -> str:
    return f"{name}: {value:.2f}  (target {target})"
