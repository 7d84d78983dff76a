"""`report.html`: one self-contained file (charts as inline SVG, the rows as JSON, the browser's script), offline."""

from __future__ import annotations

import json
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import Any

from fellowship.fileio.jsonl import atomic_writer
from fellowship.preference.charts import svg
from fellowship.report.collect import Report

REPORT = "report.html"


def _asset(name: str) -> str:
    return resources.files("fellowship.report").joinpath(name).read_text(encoding="utf-8")


def embedded(value: Any) -> str:
    """JSON that a `<script type="application/json">` holds safely: no `<` can end the element or open a comment."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def write_report(report: Report, path: Path, source: str) -> Path:
    """Render `report` into one HTML file and write it atomically."""
    from jinja2 import Environment, select_autoescape

    charts = [(name, title, svg(figure)) for name, (title, figure) in report.charts.items()]
    page = Environment(autoescape=select_autoescape(default=True)).from_string(_asset("page.html.j2")).render(
        title=report.title, facts=report.facts, warnings=report.warnings, charts=charts, noun=report.noun,
        filters=report.filters, margin_filter=report.margin_filter,
        data=embedded({"prompts": report.prompts, "rows": report.rows, "filters": [tag for tag, _ in report.filters],
                       "sides": report.sides, "item": report.item_name}),
        css=_asset("page.css"), script=_asset("browser.js"), version=version("fellowship"), source=source,
    )
    with atomic_writer(path) as handle:
        handle.write(page)
    return path
