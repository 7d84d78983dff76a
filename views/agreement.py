"""Agreement reports as Markdown on the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def show_report(console: Console, r: dict[str, Any]) -> None:
    low, high = r["kappa_ci"]
    lines = [
        f"### Agreement with humans: {r['evaluator']}",
        "",
        "| metric | value |",
        "|---|---|",
        f"| items | {r['n']} |",
        f"| Cohen's kappa | {r['kappa']:.3f} (95% CI {low:.3f} to {high:.3f}) |",
        f"| accuracy | {r['accuracy']:.3f} |",
        f"| invalid verdicts | {r['invalid']} |",
        f"| tie rate, humans / evaluator | {_pct(r['tie_rate_human'])} / {_pct(r['tie_rate_evaluator'])} |",
        f"| prefers the longer response, humans / evaluator | {_pct(r['longer_preferred_human'])} / "
        f"{_pct(r['longer_preferred_evaluator'])} |",
    ]
    if r.get("position_consistency") is not None:
        lines.append(f"| position consistency (swap) | {_pct(r['position_consistency'])} |")
    lines += ["", "| human \\ evaluator | A | B | tie | invalid |", "|---|---|---|---|---|"]
    for human, row in r["confusion"].items():
        lines.append(f"| {human} | " + " | ".join(str(row[e]) for e in ("A", "B", "tie", "invalid")) + " |")
    console.print("\n".join(lines), markup=False, highlight=False)


def show_juries(console: Console, juries: list[dict[str, Any]]) -> None:
    lines = ["", f"### All {len(juries)} juries, best first", "", "| rank | kappa | members |", "|---|---|---|"]
    for rank, jury in enumerate(juries, start=1):
        lines.append(f"| {rank} | {jury['kappa']:.3f} | {' + '.join(jury['members'])} |")
    console.print("\n".join(lines), markup=False, highlight=False)
