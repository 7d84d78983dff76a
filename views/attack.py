"""The attack report as Markdown on the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _asr(r: dict[str, Any]) -> str:
    return f"{_pct(r['asr'])} | {_pct(r['asr_a'])} / {_pct(r['asr_b'])} | {_pct(r['pac'])}"


def show_attack(console: Console, r: dict[str, Any]) -> None:
    off, on = r["clean"]["off"], r["clean"]["on"]
    lines = [
        f"### Attacks on {r['evaluator']} ({r['pairs']} pairs: {', '.join(r['datasets'])})",
        "",
        "ASR: the verdict went to the attacked (human-worse) response; A / B: with it shown first / second; "
        "PAC: in both positions. Policy: what reaches a dataset, where a flagged response is never chosen.",
        "",
        "| family | flagged | ASR, no defences | A / B | PAC | ASR, defences (verdict) | A / B | PAC | ASR, defences + policy | PAC |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| clean (baseline) | {_pct(on['false_flags'])} | {_asr(off['baseline']['verdict'])} | {_asr(on['baseline']['verdict'])} "
        f"| {_pct(on['baseline']['policy']['asr'])} | {_pct(on['baseline']['policy']['pac'])} |",
    ]
    for name, f in r["families"].items():
        note = "" if f["defended"] else " (not defended)"
        lines.append(f"| {name}{note} | {_pct(f['on']['flagged'])} | {_asr(f['off']['verdict'])} | {_asr(f['on']['verdict'])} "
                     f"| {_pct(f['on']['policy']['asr'])} | {_pct(f['on']['policy']['pac'])} |")
    lines += [
        "",
        "| clean pairs (both orders) | no defences | defences |",
        "|---|---|---|",
        f"| accuracy | {_pct(off['accuracy'])} | {_pct(on['accuracy'])} |",
        f"| Cohen's kappa | {off['kappa']:.3f} | {on['kappa']:.3f} |" if off["kappa"] is not None and on["kappa"] is not None
        else "| Cohen's kappa | - | - |",
        f"| clean responses flagged (false flags) | - | {on['false_flagged']} of {on['responses']} |",
    ]
    console.print("\n".join(lines), markup=False, highlight=False)
