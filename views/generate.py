"""The summary of a `generate` run."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def show_summary(console: Console, s: dict[str, Any]) -> None:
    lines = [f"{s['done']} of {s['prompts']} prompts done ({s['failed']} failed) in {s['seconds']:.0f} s · "
             f"{s['input_tokens']} in / {s['output_tokens']} out tokens · {s['invalid_verdicts']} invalid verdicts",
             "", "rows written:"]
    lines += [f"  {s['out']}/{name}: {count}" for name, count in s["rows"].items()]
    if s["dropped"]:
        lines += ["", "pairs dropped:"] + [f"  {reason}: {count}" for reason, count in s["dropped"].items()]
    console.print("\n".join(lines), markup=False, highlight=False)
