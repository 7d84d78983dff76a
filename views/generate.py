"""The summary of a `generate` (or `export`) run."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from fellowship.preference.card import calibration_lines, label_lines, spend_lines


def show_summary(console: Console, s: dict[str, Any]) -> None:
    when = f"in {s['seconds']:.0f} s" if s["seconds"] else "(files rebuilt from the journal: no model calls)"
    lines = [f"{s['done']} of {s['prompts']} prompts done ({s['failed']} failed) {when} · "
             f"{s['input_tokens']} in / {s['output_tokens']} out tokens · {s['invalid_verdicts']} invalid verdicts",
             "", "rows written:"]
    if spend := spend_lines(s.get("spend")):
        lines[1:1] = ["cost: " + spend[0], *[f"  {line}" for line in spend[1:]]]
    if (b := s.get("budget")) and b["not_started"]:
        lines[1:1] = [f"stopped at the budget ({b['limits']}): {b['not_started']} prompts not started"]
    lines += [f"  {s['out']}/{name}: {count}" for name, count in s["rows"].items()]
    if s.get("labels"):
        lines += ["", "labels:"] + [f"  {line}" for line in label_lines(s["labels"])]
    if s.get("calibration"):
        lines += ["", "agreement with humans (--calibrate):"] + [f"  {line}" for line in calibration_lines(s["calibration"])]
    if s.get("suspect"):
        v = s["suspect"]
        kinds = "".join(f" · {kind} {count}" for kind, count in v["by_kind"].items())
        lines += ["", f"responses flagged as aimed at the evaluator or degenerate: {v['flagged']} of {v['screened']}{kinds}"
                      f" (--suspect {v['policy']})"]
    if s["dropped"]:
        lines += ["", "pairs dropped:"] + [f"  {reason}: {count}" for reason, count in s["dropped"].items()]
    if s.get("balance"):
        lines += ["", "KTO labels:"]
        for name, b in s["balance"].items():
            line = f"  {name}: {b['desirable']} desirable, {b['undesirable']} undesirable"
            if b["warning"]:
                line += f" · warning: {b['warning']}"
            elif b["desirable_weight"] and b["desirable"] != b["undesirable"]:
                line += (f" · for TRL: desirable_weight {b['desirable_weight'][0]}-{b['desirable_weight'][1]}"
                         f" or undesirable_weight {b['undesirable_weight'][0]}-{b['undesirable_weight'][1]}")
            lines.append(line)
    if s.get("redone"):
        lines += ["", f"redone because their prompt changed: {s['redone']}"]
    if t := s.get("local_traces"):
        cap = f"of the {t['cap_mb']:g} MB cap (--traces-mb)" if t["cap_mb"] else "(no cap)"
        dropped = f"; {t['dropped']} oldest runs dropped to stay under it" if t["dropped"] else ""
        lines += ["", f"local traces: {t['path']}, {t['mb']:g} MB {cap}{dropped}"]
        if "sample" in t:
            lines.append(f"  traced in full: {t['traced']} runs (the first {t['first']} items, then {t['sample']:.0%} "
                         f"of them: --trace-sample); failures outside the sample kept as errors: {t['failures_noted']}")
    lines += ["", f"dataset card: {s['out']}/README.md, with charts in {s['out']}/charts/" if any(s["rows"].values())
              else "no dataset card: no rows",
              f"to see every comparison: fellowship report {s['out']} --open"]
    console.print("\n".join(lines), markup=False, highlight=False)
