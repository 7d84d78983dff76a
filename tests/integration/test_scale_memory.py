"""`generate` holds no more in memory for more prompts: the peak of Python's allocations (tracemalloc) over a run of
60 prompts and over one of 300, against a loopback server that answers at once from a process of its own (so neither
its allocations nor its threads are in the measurement)."""

from __future__ import annotations

import gc
import json
import tracemalloc
from functools import lru_cache

from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.state import records
from tests.servers import instant_server_process


def peak_of(prompts: int, url: str, tmp_path, measure: bool = True) -> int:
    """The peak bytes allocated while `fellowship generate` runs over `prompts` prompts, as a user runs it (local traces on);
    0 without `measure` (tracemalloc slows a run several times over)."""
    source = tmp_path / f"prompts-{prompts}.txt"
    source.write_text("".join(f"Question {i} of {prompts}?\n" for i in range(prompts)))
    out = tmp_path / f"out-{prompts}"
    gc.collect()
    if measure:
        tracemalloc.start()
    try:
        result = CliRunner().invoke(app, [
            "generate", "--prompts", str(source), "--out", str(out), "--kind", "single", "--candidate", "a=openai:m",
            "--candidate", "b=openai:m", "--judge-model", "openai:m", "--base-url", url, "--max-concurrency", "8",
            "--no-preflight", "--json"], env={"OPENAI_API_KEY": "x"})
        peak = tracemalloc.get_traced_memory()[1] if measure else 0
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["done"] == prompts and summary["rows"]["single_dpo.jsonl"] == prompts  # every prompt judged, every pair kept
    return peak


def test_generate_memory_does_not_grow_with_the_number_of_prompts(tmp_path, monkeypatch):
    # The screening cache is bounded (512 pairs): a bound of 16 is reached here, so what is left to grow is what grows.
    monkeypatch.setattr(records, "_screened", lru_cache(maxsize=16)(records._screened.__wrapped__))
    with instant_server_process() as url:
        peak_of(20, url, tmp_path, measure=False)  # imports, connection pools, first-use caches
        small, large = peak_of(60, url, tmp_path), peak_of(300, url, tmp_path)
    # Held before: every journal row, every dataset row and an entry per model call in the tracer, about 17 KB a prompt.
    # Held now: the prompt itself (a slotted dataclass), its place in the journal's index, its decisions for the label
    # report and its pair's lengths. Measured: 300 to 800 bytes a prompt alone, -850 to 961 in whole-suite runs (two
    # peaks compared, so the figure moves); the bound leaves room for that and catches a row kept per prompt.
    print(f"{(large - small) / 240:.0f} bytes more per prompt")
    assert large - small < 240 * 2048, f"{(large - small) / 240:.0f} bytes more per prompt"
