"""The feedback loop's transcript and win-rate tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from fellowship.state.records import LoopResult


def show_loop(console: Console, r: LoopResult) -> None:
    for index, response in enumerate(r.responses, start=1):
        mark = "  [bold green]← best[/]" if index == r.best else ""
        console.print(f"\n[bold]Response {index}[/] [dim]({r.generator})[/]{mark}", highlight=False)
        console.print(response.strip(), markup=False, highlight=False)
        for review in (v for v in r.reviews if v.iteration == index):
            head = f"review by {review.reviewer}: "
            if review.error:
                console.print(f"  [red]{head}failed[/] ({review.error})", highlight=False)
                continue
            console.print(f"  [bold]{head}{review.score:g}/10[/]{' (repair turn)' if len(review.raw) > 1 else ''}", highlight=False)
            console.print("  " + review.feedback.strip().replace("\n", "\n  "), markup=False, highlight=False)
    if r.stopped_early:
        console.print("\nstopped early: every reviewer scored at or above the threshold", highlight=False)
    if r.bouts:
        console.print(f"\n[bold]knockout[/] [dim]({r.evaluator})[/]", highlight=False)
        for bout in r.bouts:
            scores = "" if bout.score_a is None else f" ({bout.score_a:g} vs {bout.score_b:g})"
            note = f" — {bout.note}" if bout.note else ""
            console.print(f"  response {bout.a} vs {bout.b}: {bout.verdict}{scores} → {bout.winner}{note}", highlight=False)
    console.print(f"\n[bold]winner: response {r.best}[/]  [dim]{r.input_tokens} in / {r.output_tokens} out tokens · {r.seconds:.1f} s[/]",
                  highlight=False)


def show_winrates(console: Console, reports: list[dict[str, Any]]) -> None:
    lines = ["| comparison | n | wins | losses | ties | invalid | win rate | 95% CI | ties as half |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in reports:
        low, high = r["win_rate_ci"]
        lines.append(
            f"| {r.get('file') or r.get('name', '')} | {r['n']} | {r['wins']} | {r['losses']} | {r['ties']} | {r['invalid']} | "
            f"{r['win_rate']:.1%} | {low:.1%} to {high:.1%} | {r['win_rate_ties_half']:.1%} |"
        )
    console.print("\n".join(lines), markup=False, highlight=False)
