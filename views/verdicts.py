"""Human-readable verdicts of the judge, the jury and the debate."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from fellowship.preference.card import label_lines
from fellowship.state.records import DebateVerdict, JuryVerdict, OrderVerdict, Verdict


def _scores(a: float | None, b: float | None) -> str:
    return "" if a is None or b is None else f"   A {a:.3g} · B {b:.3g}"


def _orders(orders: list[OrderVerdict], consistent: bool | None) -> str:
    shown = ", ".join(f"{o.order} → {o.verdict}" for o in orders)
    return f"swap: {shown} ({'consistent' if consistent else 'inconsistent' if consistent is False else 'undecided'})"


def _screening(console: Console, v: Verdict | JuryVerdict | DebateVerdict) -> None:
    """What screening found and whether a rule decided: printed only when there is something to say."""
    for label, kinds in v.flags.items():
        console.print(f"[yellow]flagged:[/] response {label}: {', '.join(kinds)} (shown to the evaluator neutralised)", highlight=False)
    if v.ruled:
        console.print(f"[yellow]decided by rule, no model asked:[/] {v.ruled}", highlight=False)


def _footer(console: Console, *parts: object) -> None:
    console.print("[dim]" + " · ".join(str(p) for p in parts) + "[/]", highlight=False)


def _confidence(value: float | None) -> str:
    return "" if value is None else f"   probability {value:.2f} (from the tokens' log-probabilities)"


def show_verdict(console: Console, v: Verdict) -> None:
    console.print(f"[bold]verdict: {v.verdict}[/]{_scores(v.score_a, v.score_b)}{_confidence(v.confidence)}", highlight=False)
    _screening(console, v)
    if v.swap:
        console.print(_orders(v.orders, v.consistent), highlight=False)
    if v.error:
        console.print(f"[red]invalid:[/] {v.error}", highlight=False)
    elif v.repairs:
        console.print(f"[yellow]read from the repair turn[/] ({v.repairs} of {len(v.orders) if v.strategy != 'independent' else 2} "
                      f"conversations)", highlight=False)
    _footer(console, v.model, v.strategy, f"{v.input_tokens} in / {v.output_tokens} out tokens", f"{v.seconds:.1f} s")
    if v.explanation:
        console.print()
        console.print(v.explanation, markup=False, highlight=False)
    elif v.raw:
        console.print("\nraw reply:", highlight=False)
        console.print(v.raw[0], markup=False, highlight=False)


def show_jury(console: Console, v: JuryVerdict) -> None:
    console.print(f"[bold]verdict: {v.verdict}[/]{_scores(v.score_a, v.score_b)}   (mean of members' scores){_confidence(v.confidence)}",
                  highlight=False)
    _screening(console, v)
    table = Table(show_edge=False, pad_edge=False)
    for column in ("seat", "member", "vote", "A", "B", "note"):
        table.add_column(column)
    for vote in v.votes:
        notes = []
        if vote.flipped:
            notes.append("saw B first")
        if vote.judgement.swap:
            notes.append("consistent" if vote.judgement.consistent else "inconsistent" if vote.judgement.consistent is False else "")
        if vote.judgement.error:
            notes.append(vote.judgement.error[:60])
        elif vote.judgement.repairs:
            notes.append("repair turn")
        table.add_row(str(vote.seat + 1), vote.member, vote.verdict, _score(vote.score_a), _score(vote.score_b),
                      "; ".join(n for n in notes if n))
    console.print(table)
    counts = ", ".join(f"{label} {n}" for label, n in sorted(v.counts.items()))
    _footer(console, f"votes: {counts}", f"invalid {v.invalid_votes}", v.strategy,
            f"{v.input_tokens} in / {v.output_tokens} out tokens", f"{v.seconds:.1f} s")


def show_debate(console: Console, v: DebateVerdict) -> None:
    console.print(f"[bold]verdict: {v.verdict}[/]{_scores(v.score_a, v.score_b)}   (mean of referees' final scores)", highlight=False)
    _screening(console, v)
    if v.swap:
        console.print(_orders(v.orders, v.consistent), highlight=False)
    for turn in v.turns:
        console.print(f"\n[bold]{turn.referee}[/] [dim](round {turn.round}, {turn.model})[/]", highlight=False)
        console.print(turn.text.strip(), markup=False, highlight=False)
    console.print("\n[bold]final scores[/] (Assistant 1 = A, Assistant 2 = B)", highlight=False)
    for final in v.finals:
        if final.error:
            console.print(f"  {final.referee}: [red]invalid[/] ({final.error})", highlight=False)
        else:
            via = " (repair turn)" if len(final.raw) > 1 else ""
            console.print(f"  {final.referee}: A {final.score_a:g} · B {final.score_b:g}{via}", highlight=False)
    _footer(console, f"{v.rounds} rounds", f"invalid finals {v.invalid_finals}",
            f"{v.input_tokens} in / {v.output_tokens} out tokens", f"{v.seconds:.1f} s")


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def show_pairs_summary(console: Console, s: dict[str, Any]) -> None:
    """The line after a file of pairs: verdict counts, tokens, the label diagnostics and what was flagged."""
    where = f" → {s['out']}" if s["out"] else ""
    console.print(f"{s['pairs']} pairs{where}: A {s['A']} · B {s['B']} · tie {s['tie']} · invalid {s['invalid']}"
                  f" · failed {s['failed']} · {s['input_tokens']} in / {s['output_tokens']} out tokens", highlight=False)
    for line in label_lines(s["labels"])[:2] + [f"warning: {w}" for w in s["labels"]["warnings"]]:
        console.print(line, highlight=False)
    if s["flagged"]:
        console.print(f"{s['flagged']} pairs hold a response flagged as aimed at the evaluator or degenerate ({s['ruled']} "
                      "decided by rule, no model asked); each row's `flags` says which", highlight=False)
