"""`attack`: how often text aimed at the evaluator buys a verdict, with the defences off and on."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from fellowship.commands.common import INPUTS, AsJson, Concurrency, auto_concurrency, batch, err, fail, out, run_into_file
from fellowship.commands.options import LIVE_EVALUATOR, PREFLIGHT, ClusterFlags, Preflight, check_evaluator, grouped
from fellowship.fileio.errors import InputError
from fellowship.guard.attacks import FAMILIES
from fellowship.state.evaluator import EvaluatorConfig

EVALUATED = "Evaluator under attack"


def _families(value: Optional[list[str]]) -> Optional[list[str]]:
    unknown = [name for name in value or [] if name not in FAMILIES]
    if unknown:
        raise typer.BadParameter(f"unknown family {', '.join(unknown)}; the families: {', '.join(FAMILIES)}")
    return value


@grouped(cfg=dataclasses.replace(LIVE_EVALUATOR, panel=EVALUATED), pre=PREFLIGHT, cluster=ClusterFlags)
def attack(
    dataset: Annotated[list[str], typer.Option(
        "--dataset",
        help="Human-labelled pairs by name (llmbar-natural, pandalm, ...; see `fellowship data list`) or a local file; repeat "
             "for several. The human-worse response of each pair carries the attack.",
        rich_help_panel=INPUTS)],
    limit: Annotated[Optional[int], typer.Option(
        min=1, help="The first N pairs with a human preference, per dataset.", rich_help_panel=INPUTS)] = None,
    family: Annotated[Optional[list[str]], typer.Option(
        "--family", help=f"An attack family (repeat); default all: {', '.join(FAMILIES)}.", callback=_families,
        rich_help_panel=INPUTS)] = None,
    results: Annotated[Path, typer.Option(
        help="Per-case results with raw texts; also the resume journal (rerun the same command to continue).",
        rich_help_panel=INPUTS)] = Path("attack-results.jsonl"),
    concurrency: Concurrency = None,
    as_json: AsJson = False,
    *, cfg: EvaluatorConfig, pre: Preflight, cluster: ClusterFlags,
) -> None:
    """Attack an evaluator and measure it: each family's text is put into the human-worse response of every pair, which
    is shown first and then second, with the defences off and then on (--guard/--no-guard does not apply: both run).

    Per family: the attack success rate (ASR: the verdict went to the attacked response) in each position and overall,
    PAC (it succeeded in both positions, as JudgeDeceiver reports), and how often screening flagged it. With the
    defences on, [bold]policy[/] counts what reaches a dataset: a flagged response is never `chosen`. The clean pairs
    give the baseline (the worse response won without any attack), accuracy and kappa with and without the defences, and
    the share of clean responses flagged (false flags).
    """
    from fellowship.data.store import DataMissing
    from fellowship.readers.named import read_dataset
    from fellowship.runs import attack as at
    from fellowship.views.attack import show_attack

    pairs = []
    try:
        for name in dataset:
            found = [p for p in read_dataset(name) if p.human != "tie"]
            pairs += [p.model_copy(update={"id": f"{name}:{p.id}"}) for p in found[:limit]]
    except (InputError, DataMissing) as exc:
        fail(str(exc), 2)
    if not pairs:
        fail("no pair with a human preference in the given datasets", 2)
    check_evaluator(cfg)
    families = list(family or FAMILIES)
    pre.check(cfg, cfg.specs())
    items = at.cases(pairs, families, cfg.strategy)
    concurrency_ = auto_concurrency(concurrency, cfg.specs(), base_url=cfg.base_url)
    err.print(f"{len(pairs)} pairs x {len(families)} families + clean x 2 positions x defences off/on = {len(items)} evaluations",
              highlight=False)
    rows = run_into_file(at.run_attack(items, cfg, results, batch("attack", concurrency_, cluster.join())), results, len(items))
    result = {"evaluator": cfg.describe(), "datasets": dataset, **at.report(rows, families), "results": str(results),
              "failed": len(items) - len(rows)}
    if result["failed"]:
        err.print(f"{result['failed']} evaluations failed and are left out; rerun the command to retry them", highlight=False)
    if as_json:
        print(json.dumps(result))
    else:
        show_attack(out, result)
