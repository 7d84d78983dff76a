"""The report's charts, drawn with matplotlib (no display needed): SVG for the page, PNG for the dataset card."""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fellowship.fileio.jsonl import atomic_path
from fellowship.preference.figures import KEPT, Figures

CHARTS_DIR = "charts"
KEPT_COLOUR, DROPPED_COLOUR, ACCENT, GREY = "#2f7d4f", "#b0b0b0", "#3b6ea5", "#888888"

Figure = Any  # matplotlib.figure.Figure: imported only when a chart is drawn


def _figure(height: float = 3.2) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure as MplFigure

    figure = MplFigure(figsize=(6.4, height), layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _gap(low: float, high: float) -> float:
    """An error bar's length in percentage points (an interval's end can sit a rounding error past its estimate)."""
    return max(0.0, 100 * (high - low))


def outcomes(figures: Figures, summary: dict[str, Any]) -> Figure | None:
    """Comparisons kept as rows, and dropped by reason, per kind."""
    if not figures.outcomes:
        return None
    names = sorted(figures.outcomes, key=lambda name: (KEPT not in name, -figures.outcomes[name], name))
    figure, axes = _figure(0.9 + 0.32 * len(names))
    bars = axes.barh(names[::-1], [figures.outcomes[n] for n in names[::-1]],
                     color=[KEPT_COLOUR if n.endswith(KEPT) else DROPPED_COLOUR for n in names[::-1]])
    axes.bar_label(bars, padding=3)
    axes.set_xlabel("comparisons")
    axes.set_title("Rows (green) and drops, by reason", loc="left", fontsize=10)
    return figure


def sources(figures: Figures, summary: dict[str, Any]) -> Figure | None:
    """Each source's share of the decisive comparisons it took part in."""
    found = (summary.get("labels") or {}).get("sources") or {}
    if not found:
        return None
    names = list(found)
    figure, axes = _figure(1.2 + 0.4 * len(names))
    rates = [100 * (found[n]["win_rate"] or 0) for n in names]
    bars = axes.barh(names[::-1], rates[::-1], color=ACCENT)
    axes.bar_label(bars, labels=[f"{found[n]['wins']} of {found[n]['n']}" for n in names[::-1]], padding=3)
    axes.set_xlim(0, 110)
    axes.set_xlabel("wins, % of its decisive comparisons")
    axes.set_title("Wins per source", loc="left", fontsize=10)
    return figure


def bias(figures: Figures, summary: dict[str, Any]) -> Figure | None:
    """Position and length: how often the decisive verdict went to the answer shown first, and to the longer one."""
    labels = summary.get("labels") or {}
    found = [(name, labels.get(key) or {}) for name, key in (("shown first", "position"), ("chosen is longer", "length"))]
    found = [(name, f) for name, f in found if f.get("n")]
    if not found:
        return None
    figure, axes = _figure(1.2 + 0.5 * len(found))
    shares = [100 * f["share"] for _, f in found]
    errors = [[_gap(f["ci"][0], f["share"]) for _, f in found], [_gap(f["share"], f["ci"][1]) for _, f in found]]
    axes.barh([n for n, _ in found], shares, xerr=errors, color=ACCENT, capsize=4)
    axes.axvline(50, color=GREY, linestyle="--", linewidth=1)
    for y, (_, f) in enumerate(found):
        axes.annotate(f"{f['count']} of {f['n']}", (2, y), va="center", color="white", fontsize=9)
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of decisive verdicts, with 95% interval (50%: no bias)")
    axes.set_title("Position and length", loc="left", fontsize=10)
    return figure


def _histogram(counts: Counter[float], kept: Counter[float] | None, title: str, label: str, width: float,
               counted: str = "comparisons") -> Figure | None:
    """Counts by bin (each key the lower edge of a bin `width` wide), and the kept ones over them."""
    if not counts:
        return None
    figure, axes = _figure()
    axes.bar(list(counts), list(counts.values()), width=width, align="edge",
             color=DROPPED_COLOUR if kept is not None else ACCENT, label="all comparisons")
    if kept:
        axes.bar(list(kept), list(kept.values()), width=width, align="edge", color=KEPT_COLOUR, label="kept as rows")
        axes.legend(frameon=False)
    axes.set_xlabel(label)
    axes.set_ylabel(counted)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(title, loc="left", fontsize=10)
    return figure


def margins(figures: Figures, summary: dict[str, Any]) -> Figure | None:
    return _histogram(figures.margins, figures.kept_margins, "Score margins", "|score A - score B|", 0.5)


def confidence(figures: Figures, summary: dict[str, Any]) -> Figure | None:
    return _histogram(figures.confidences, None, "Confidence", "the evaluator's probability of its verdict", 0.05)


def spend(figures: Figures, summary: dict[str, Any]) -> Figure | None:
    """Input and output tokens per source (the comparisons count as one)."""
    by_source = (summary.get("spend") or {}).get("by_source") or {}
    if not by_source:
        return None
    names = list(by_source)
    figure, axes = _figure(1.2 + 0.4 * len(names))
    inputs = [by_source[n]["input_tokens"] for n in names[::-1]]
    outputs = [by_source[n]["output_tokens"] for n in names[::-1]]
    axes.barh(names[::-1], inputs, color=ACCENT, label="input")
    axes.barh(names[::-1], outputs, left=inputs, color=KEPT_COLOUR, label="output")
    axes.legend(frameon=False)
    axes.set_xlabel("tokens")
    axes.set_title("Tokens per source", loc="left", fontsize=10)
    return figure


def source_time(figures: Figures, summary: dict[str, Any]) -> Figure | None:
    """Each source's mean seconds per prompt (a loop's whole run; the comparisons' evaluations together)."""
    if not any(figures.source_seconds.values()):
        return None  # a run journalled before sources were timed
    names = list(figures.source_prompts)
    figure, axes = _figure(1.2 + 0.4 * len(names))
    means = [figures.source_seconds[n] / figures.source_prompts[n] for n in names[::-1]]
    bars = axes.barh(names[::-1], means, color=ACCENT)
    axes.bar_label(bars, labels=[f"{m:.1f} s" for m in means], padding=3)
    axes.set_xlabel("seconds per prompt, on average")
    axes.set_title("Time per source", loc="left", fontsize=10)
    return figure


def seconds(figures: Figures, summary: dict[str, Any]) -> Figure | None:
    """Seconds per prompt, in about 20 bins over the range (gathered by the second)."""
    if not figures.seconds:
        return None
    width = float(max(1, math.ceil((max(figures.seconds) - min(figures.seconds) + 1) / 20)))
    counts: Counter[float] = Counter()
    for second, count in figures.seconds.items():
        counts[width * (second // width)] += count
    return _histogram(counts, None, "Time per prompt", "seconds", width, "prompts")


CHARTS: dict[str, tuple[str, Callable[[Figures, dict[str, Any]], Figure | None]]] = {
    "outcomes": ("Rows and drops", outcomes),
    "sources": ("Wins per source", sources),
    "bias": ("Position and length", bias),
    "margins": ("Score margins", margins),
    "confidence": ("Confidence", confidence),
    "spend": ("Tokens per source", spend),
    "time": ("Time per source", source_time),
    "seconds": ("Time per prompt", seconds),
}


def agreement_charts(report: dict[str, Any]) -> dict[str, tuple[str, Figure]]:
    """The confusion matrix (human labels by the evaluator's), and kappa and accuracy with kappa's 95% interval."""
    humans = list(report["confusion"])
    verdicts = list(next(iter(report["confusion"].values())))
    counts = [[report["confusion"][h][v] for v in verdicts] for h in humans]
    matrix, axes = _figure(3.4)
    axes.imshow(counts, cmap="Blues")
    axes.set_xticks(range(len(verdicts)), verdicts)
    axes.set_yticks(range(len(humans)), humans)
    top = max(max(row) for row in counts) or 1
    for y, row in enumerate(counts):
        for x, count in enumerate(row):
            axes.annotate(str(count), (x, y), ha="center", va="center", color="white" if count > top / 2 else "black")
    axes.set_xlabel("the evaluator's verdict")
    axes.set_ylabel("human label")
    axes.set_title(f"Confusion matrix ({report['n']} pairs)", loc="left", fontsize=10)
    scores, axes = _figure(1.9)
    low, high = report["kappa_ci"]
    axes.barh(["accuracy", "Cohen's kappa"], [report["accuracy"], report["kappa"]], color=[GREY, ACCENT],
              xerr=[[0, _gap(low, report["kappa"]) / 100], [0, _gap(report["kappa"], high) / 100]], capsize=4)
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlim(min(-0.2, low - 0.05), 1)
    axes.set_xlabel("with kappa's 95% bootstrap interval (0: chance agreement)")
    axes.set_title("Agreement with humans", loc="left", fontsize=10)
    return {"confusion": ("Confusion matrix", matrix), "kappa": ("Kappa and accuracy", scores)}


def winrate_charts(report: dict[str, Any]) -> dict[str, tuple[str, Figure]]:
    """The win rate with its Wilson 95% interval, the rate counting ties as half, and the verdicts' counts."""
    figure, axes = _figure(2.2)
    low, high = report["win_rate_ci"]
    rate = report["win_rate"]
    axes.barh(["ties as half", "win rate"], [100 * report["win_rate_ties_half"], 100 * rate], color=[GREY, ACCENT],
              xerr=[[0, _gap(low, rate)], [0, _gap(rate, high)]], capsize=4)
    axes.axvline(50, color=GREY, linestyle="--", linewidth=1)
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of prompts, with the win rate's 95% Wilson interval")
    axes.set_title(f"The loop against the baseline ({report['wins']} wins, {report['losses']} losses, {report['ties']} ties, "
                   f"{report['invalid']} invalid)", loc="left", fontsize=10)
    return {"winrate": ("Win rate", figure)}


def drawn(figures: Figures, summary: dict[str, Any]) -> dict[str, tuple[str, Figure]]:
    """The charts this run has data for, by file stem: (title, figure)."""
    found = {name: (title, draw(figures, summary)) for name, (title, draw) in CHARTS.items()}
    return {name: (title, figure) for name, (title, figure) in found.items() if figure is not None}


def svg(figure: Figure) -> str:
    """The chart as an SVG element for the page (no XML prologue, no date: the same run draws the same bytes)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def write_pngs(out_dir: Path, charts: dict[str, tuple[str, Figure]]) -> list[tuple[str, str]]:
    """Each chart as `charts/NAME.png` in `out_dir` (written atomically; charts no longer drawn are removed); returns
    (title, relative path) for the card."""
    folder = out_dir / CHARTS_DIR
    folder.mkdir(exist_ok=True)
    for stale in folder.glob("*.png"):
        if stale.stem not in charts:
            stale.unlink()
    written = []
    for name, (title, figure) in charts.items():
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
        with atomic_path(folder / f"{name}.png") as tmp:
            tmp.write_bytes(buffer.getvalue())
        written.append((title, f"{CHARTS_DIR}/{name}.png"))
    return written
