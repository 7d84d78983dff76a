"""Local traces: the recent runs, and one run's tree."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rich.console import Console
from rich.table import Table


def show_runs(console: Console, runs: list[dict[str, Any]]) -> None:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("id", "when", "command", "graph", "status", "secs", "tokens"):
        table.add_column(column, no_wrap=True)
    for r in runs:
        when = dt.datetime.fromtimestamp(r["started"]).strftime("%m-%d %H:%M:%S")
        table.add_row(r["id"][-12:], when, r["command"], r["graph"], r["status"], f"{r['seconds'] or 0:.2f}",
                      f"{r['input_tokens']}/{r['output_tokens']}")
    console.print(table)


def _short(value: Any, full: bool, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", "⏎ ")
    return text if full or len(text) <= limit else text[: limit - 1] + "…"


def show_tree(console: Console, node: dict[str, Any], full: bool = False, depth: int = 0) -> None:
    pad = "  " * depth
    tokens = f" · {node['input_tokens']}/{node['output_tokens']} tokens" if node["input_tokens"] or node["output_tokens"] else ""
    status = " [red]error[/]" if node["error"] else ""
    seconds = f"{node['seconds']:.3f} s" if node["seconds"] is not None else "unfinished"
    console.print(f"{pad}[bold]{node['name']}[/] [dim]{node['run_type']} · {seconds}{tokens}[/]{status}", highlight=False)
    if depth == 0 or node["run_type"] == "llm" or full:
        console.print(f"{pad}  in:  {_short(node['inputs'], full)}", markup=False, highlight=False)
        console.print(f"{pad}  out: {_short(node['outputs'], full)}", markup=False, highlight=False)
    if node["error"]:
        console.print(f"{pad}  error: {_short(node['error'], full, 300)}", markup=False, highlight=False)
    for child in node["children"]:
        show_tree(console, child, full, depth + 1)
