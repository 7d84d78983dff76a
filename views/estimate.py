"""The dry run of `generate`: what the run would ask of its models."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def _dollars(value: list[float] | None) -> str:
    if value is None:
        return "?"
    low, high = value
    return f"${high:,.4f}" if low == high else f"${low:,.4f} - ${high:,.4f}"


def _tokens(low: int, high: int) -> str:
    return f"{low:,}" if low == high else f"{low:,} - {high:,}"


def show_estimate(console: Console, e: dict[str, Any]) -> None:
    done = f" ({e['already_done']} more already done in --out)" if e.get("already_done") else ""
    noun = e["noun"] if e["items"] != 1 else e["noun"].removesuffix("s")
    lines = [f"dry run: {e['items']} {noun}{done}; no model was called", "",
             "| role | calls | repair turns, up to | input tokens | output tokens, up to | dollars |", "|---|---|---|---|---|---|"]
    for name, r in [*e["by_role"].items(), ("total", e["total"])]:
        lines.append(f"| {name} | {r['calls']:,} | {r['repairs_up_to']:,} | {_tokens(*r['input_tokens'])} | "
                     f"{r['output_tokens_up_to']:,} | {_dollars(r['dollars'])} |")
    lines += ["", "Calls: as planned; a repair turn follows only a reply that cannot be read, and a comparison of two identical "
              "answers, or of a degenerate one, makes none. Input tokens: the planned calls' messages as they will be sent, less the "
              "texts models have yet to write; up to every call, repair turns included, with each of those texts at its full "
              "budget. Output tokens: up to the budgets.",
              "tokens counted with: " + ", ".join(f"{spec} ({how})" for spec, how in e["tokenizers"].items())]
    lines += e.get("notes", [])
    if not e.get("exact_tokenizers", True):
        lines.append("for an exact count, name a model's tokenizer: --tokenizer MODEL=FILE.gguf or MODEL=HUGGING-FACE-TOKENIZER")
    if e["unpriced_models"]:
        lines.append(f"no price for {', '.join(e['unpriced_models'])}: give one with --price MODEL=IN,OUT for dollar figures")
    console.print("\n".join(lines), markup=False, highlight=False)
