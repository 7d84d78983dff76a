"""What a run will cost before it runs: `--dry-run`, `--price` and `--tokenizer`, shared by the commands that call models
over many items."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer
from pydantic import BaseModel

from fellowship.commands.common import fail, out
from fellowship.fileio.pairs import Pair
from fellowship.models.prices import Price, Prices, parse_price
from fellowship.state.evaluator import EvaluatorConfig, EvaluatorKind

COST = "Cost and budget"

PriceFlag = Annotated[Optional[list[str]], typer.Option(
    "--price", metavar="MODEL=IN,OUT",
    help="Dollars per million input and output tokens of a model spec (repeat). Local models cost 0; openai: models "
         "without --base-url are priced from genai-prices' table; anything else needs this for dollar figures.",
    rich_help_panel=COST)]


def given_prices(texts: list[str] | None) -> dict[str, Price]:
    """--price's figures by model spec (exit 2 on a malformed one)."""
    given = {}
    for text in texts or []:
        try:
            spec, price = parse_price(text)
        except ValueError as exc:
            fail(str(exc), 2)
        given[spec] = price
    return given


@dataclasses.dataclass(frozen=True)
class CostFlags:
    """A dry run, and what tokens cost."""

    dry_run: Annotated[bool, typer.Option(
        "--dry-run",
        help="Call no model and write nothing: print the calls per role, the input tokens (counted with each model's "
             "tokenizer where fellowship can reach it) and output tokens up to the budgets, and their cost, for the items "
             "not done yet.",
        rich_help_panel=COST)] = False
    price: PriceFlag = None
    tokenizer: Annotated[Optional[list[str]], typer.Option(
        "--tokenizer", metavar="MODEL=SOURCE",
        help="For --dry-run: count a model's tokens with this GGUF file or Hugging Face tokenizer (repeat), e.g. "
             "openai:smollm2=SmolLM2.gguf for a server that does not say how it tokenizes.",
        rich_help_panel=COST)] = None

    def prices(self, base_url: str | None) -> Prices:
        return Prices(given_prices(self.price), base_url or os.environ.get("OPENAI_BASE_URL"))

    def named_tokenizers(self) -> dict[str, str]:
        """--tokenizer's sources by model spec (exit 2 on a malformed one)."""
        named = {}
        for text in self.tokenizer or []:
            spec, sep, source = text.rpartition("=")
            if not sep or not spec.strip() or not source.strip():
                fail(f"--tokenizer {text!r}: give MODEL=SOURCE, e.g. openai:smollm2=SmolLM2.gguf", 2)
            named[spec.strip()] = source.strip()
        return named


def show_dry_run(estimate: Any, already_done: int, as_json: bool) -> None:
    """Print an estimate (`estimate()` makes it; a missing --tokenizer source exits 2); nothing is written."""
    try:
        found = {**estimate(), "already_done": already_done}
    except ValueError as exc:
        fail(str(exc), 2)
    if as_json:
        print(json.dumps(found))
    else:
        from fellowship.views.estimate import show_estimate

        show_estimate(out, found)


def pairs_dry_run(cost: CostFlags, kind: EvaluatorKind, context: BaseModel, as_json: bool,
                  **changes: Any) -> Callable[[list[Pair]], None] | None:
    """With --dry-run, what an evaluator command does with its pairs instead of judging them (`context`: its
    JudgeContext, JuryContext or DebateContext; `changes`: options the command holds apart, as debate's --swap)."""
    if not cost.dry_run:
        return None
    from fellowship.runs.estimate import estimate_pairs

    config = EvaluatorConfig.model_validate({**context.model_dump(), **changes, "kind": kind})
    return lambda pairs: show_dry_run(
        lambda: estimate_pairs(pairs, config, cost.prices(config.base_url), cost.named_tokenizers()), 0, as_json)
