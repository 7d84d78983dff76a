"""The paper's numbers next to ours, as a terminal table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

TITLES = {"judge": "LLM-as-a-Judge, combined /10 (kappa)", "debate": "LLM Debate (kappa)",
          "jury": "LLMs-as-a-Jury (kappa)", "winrate": "Feedback-loop win rate (%)"}
MARKS = {"match": "match", "explained": "differs, explained", "differs": "[bold red]differs[/]"}


def show_numbers(console: Console, numbers: list[Any], totals: dict[str, int]) -> None:
    for table_name, title in TITLES.items():
        rows = [n for n in numbers if n.table == table_name]
        if not rows:
            continue
        digits = 1 if table_name == "winrate" else 3
        table = Table("dataset", "evaluator", "published", "ours", "status", title=title, title_justify="left",
                      box=None, header_style="bold")
        for n in rows:
            table.add_row(n.dataset, n.evaluator, f"{n.published:.{digits}f}", f"{n.recomputed:.{digits}f}", MARKS[n.status])
        console.print(table)
        for n in rows:
            if n.explanation:
                console.print(f"  {n.dataset} · {n.evaluator}: {n.explanation}", highlight=False)
        console.print()
    console.print(f"{totals['numbers']} numbers: {totals['match']} match, {totals['explained']} differ with the reason given, "
                  f"{totals['differs']} differ unexplained", highlight=False)
