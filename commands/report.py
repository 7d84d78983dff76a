"""`report`: a run's self-contained HTML report."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated, Optional

import typer

from fellowship.commands.common import err, fail
from fellowship.fileio.errors import InputError, OutputError


def report(
    run: Annotated[Path, typer.Argument(
        help="The --out folder of a generate run, or the --results file of agreement or winrate.", show_default=False)],
    to: Annotated[Optional[Path], typer.Option(
        "--to", help="Write the report here (default: RUN/report.html for a folder, RESULTS.html beside a results file).")] = None,
    open_it: Annotated[bool, typer.Option("--open", help="Open the report in the default browser.")] = False,
) -> None:
    """Write a report: one HTML file that works offline, with charts and a browser of every item (both texts side by
    side, the verdict, scores, the evaluator's explanation and the provenance) with filters, search and pages.

    For a generate run: rows and drops by reason, wins per source, position and length, score margins, confidence,
    tokens and time per source, time per prompt, and every comparison. For agreement: the confusion matrix and kappa with its
    interval, and every pair beside its human label. For winrate: the win rate with its interval, and every prompt.
    `generate` and `export` also write a run's charts as PNG files in RUN/charts/, which the dataset card shows.
    """
    from fellowship.report.collect import collect
    from fellowship.report.page import REPORT, write_report

    if not run.exists():
        fail(f"{run}: no such folder or file; give a generate run's --out folder, or a results file", 2)
    target = to or (run / REPORT if run.is_dir() else run.with_suffix(".html"))
    try:
        path = write_report(collect(run), target, str(run))
    except InputError as exc:
        fail(str(exc), 2)
    except OutputError as exc:
        fail(str(exc), 1)
    err.print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB)", highlight=False)
    if open_it:
        webbrowser.open(path.resolve().as_uri())
