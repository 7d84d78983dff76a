"""`agreement`: evaluator-human agreement, recorded or live."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from fellowship.commands.common import INPUTS, AsJson, Concurrency, auto_concurrency, batch, err, fail, out, run_into_file
from fellowship.commands.costs import CostFlags, show_dry_run
from fellowship.commands.options import LIVE_EVALUATOR, PREFLIGHT, ClusterFlags, Preflight, check_evaluator, grouped
from fellowship.fileio.errors import InputError
from fellowship.runs.agreement import Kind
from fellowship.state.evaluator import EvaluatorConfig

LIVE, RECORDED = "Live run", "Recorded outputs"


@grouped(cfg=dataclasses.replace(LIVE_EVALUATOR, panel=LIVE), pre=PREFLIGHT, cluster=ClusterFlags, cost=CostFlags)
def agreement(
    dataset: Annotated[str, typer.Option(
        help="Human-labelled pairs: a dataset name (pandalm, faireval, llmbar-natural, autoj, llmeval2, "
             "paper-outputs/fair-eval, ...; see `fellowship data list`), a local file (PandaLM, FairEval, LLMBar, Auto-J, "
             "LLMEval2, items.jsonl), or a Hub dataset id with conversation_a/conversation_b/winner.",
        rich_help_panel=INPUTS)],
    fmt: Annotated[Optional[str], typer.Option(
        "--format",
        help="Dataset format when it cannot be detected: pandalm, faireval, llmbar, autoj, llmeval2, items, arena.",
        rich_help_panel=INPUTS)] = None,
    split: Annotated[str, typer.Option(help="Split of a Hub dataset.", rich_help_panel=INPUTS)] = "test",
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N items.", rich_help_panel=INPUTS)] = None,
    recorded: Annotated[Optional[list[Path]], typer.Option(
        "--recorded",
        help="A file of recorded evaluator replies (paper-outputs format, one record per item, dataset order). Several judge "
             "files form a jury.",
        rich_help_panel=RECORDED)] = None,
    kind: Annotated[Kind, typer.Option(
        help="What the recorded files hold: judge replies ('response') or debates ('response_1..3').",
        rich_help_panel=RECORDED)] = "judge",
    every_jury: Annotated[bool, typer.Option(
        "--all-juries", help="Rank every jury of two or more of the recorded judges.", rich_help_panel=RECORDED)] = False,
    as_authors: Annotated[bool, typer.Option(
        "--as-authors",
        help="Score recorded texts as the paper's authors did: where their parser failed (score -1) their recorded scores are "
             "compared as they are, a judge text ours cannot read is a tie, an unreadable debate final counts 0/0. Default: "
             "unreadable texts are invalid.",
        rich_help_panel=RECORDED)] = False,
    results: Annotated[Path, typer.Option(
        help="Live: per-item results with raw texts; also the resume journal (rerun the same command to continue).",
        rich_help_panel=LIVE)] = Path("agreement-results.jsonl"),
    concurrency: Concurrency = None,
    bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for the kappa interval (0 = none).")] = 1000,
    as_json: AsJson = False,
    *, cfg: EvaluatorConfig, pre: Preflight, cluster: ClusterFlags, cost: CostFlags,
) -> None:
    """How well an evaluator agrees with human labels: Cohen's kappa (unweighted, 3 classes) with a bootstrap 95%
    interval, accuracy, confusion matrix, tie rates, invalid count, position consistency and length preference.

    [bold]Recorded[/]: parse evaluator replies recorded elsewhere (--recorded) with this project's parsers.
    [bold]Live[/]: run the judge, jury or debate over the dataset, concurrently and resumably.

    Invalid verdicts (replies that could not be read) stay in the count as a class of their own, which never agrees with
    a human label; the report counts them. --as-authors reproduces the paper's own treatment instead.
    """
    from fellowship.data.store import DataMissing
    from fellowship.readers.named import read_dataset, recorded_path
    from fellowship.runs import agreement as ag
    from fellowship.views.agreement import show_juries, show_report

    try:
        pairs = read_dataset(dataset, fmt, split)
        recorded = [recorded_path(path) for path in recorded or []]
    except (InputError, DataMissing) as exc:
        fail(str(exc), 2)
    pairs = pairs[:limit] if limit else pairs
    if recorded:
        try:
            members = ag.recorded_labels(pairs, recorded, kind, as_authors)
        except InputError as exc:
            fail(str(exc), 2)
        if len(members) != len(recorded):
            fail("two --recorded files share a file name; the name identifies the member", 2)
        name = next(iter(members)) if len(members) == 1 else "jury of " + " + ".join(members)
        labels = next(iter(members.values())) if len(members) == 1 else ag.jury_labels(members, list(members))
        result = ag.report(f"{kind} {name}" if len(members) == 1 else name, pairs, labels, ci_rounds=bootstrap)
        if every_jury:
            if len(members) < 2:
                fail("--all-juries needs at least two --recorded judge files", 2)
            result["juries"] = ag.all_juries(pairs, members)
        if as_json:
            print(json.dumps(result))
        else:
            show_report(out, result)
            if every_jury:
                show_juries(out, result["juries"])
        return
    check_evaluator(cfg)
    if cost.dry_run:
        _dry_run(pairs, cfg, dataset, results, cost, as_json)
        return
    pre.check(cfg, cfg.specs())
    concurrency = auto_concurrency(concurrency, cfg.specs(), base_url=cfg.base_url)
    result = _live_agreement(pairs, cfg, dataset, results, concurrency, bootstrap, cluster.join())
    if as_json:
        print(json.dumps(result))
    else:
        show_report(out, result)


def _dry_run(pairs: list[Any], cfg: EvaluatorConfig, dataset: str, results: Path, cost: CostFlags, as_json: bool) -> None:
    """The live run's estimate for the pairs --results does not hold done yet; nothing is written."""
    from fellowship.runs.agreement import results_config
    from fellowship.runs.estimate import estimate_pairs
    from fellowship.runs.journal import pending_in
    from fellowship.runs.runner import hash_of

    left = [pairs[i] for i in pending_in(results, [(p.id, hash_of(p)) for p in pairs], results_config(cfg, dataset))]
    show_dry_run(lambda: estimate_pairs(left, cfg, cost.prices(cfg.base_url), cost.named_tokenizers()),
                 len(pairs) - len(left), as_json)


def judge_labelled(pairs: list[Any], cfg: EvaluatorConfig, dataset: str, results: Path, label: str, concurrency: int,
                   workers: int | None) -> list[dict[str, Any]]:
    """The live evaluator's rows on labelled pairs (runs.agreement.judge_labelled); a bad results file exits 2, none finished 1."""
    from fellowship.runs import agreement as ag

    return run_into_file(ag.judge_labelled(pairs, cfg, dataset, results, batch(label, concurrency, workers)), results, len(pairs))


def _live_agreement(pairs: list[Any], cfg: EvaluatorConfig, dataset: str, results: Path, concurrency: int,
                    bootstrap: int, workers: int | None) -> dict[str, Any]:
    from fellowship.runs import agreement as ag

    rows = judge_labelled(pairs, cfg, dataset, results, cfg.kind, concurrency, workers)
    by_id = {row["id"]: row for row in rows}
    finished = [p for p in pairs if p.id in by_id]
    name = f"{cfg.kind} " + (", ".join(cfg.members) if cfg.kind == "jury" else cfg.model)
    labels = [by_id[p.id]["verdict"] for p in finished]
    result = ag.report(name, finished, labels, consistency=ag.consistency_of(rows), ci_rounds=bootstrap)
    result["results"] = str(results)
    result["failed"] = len(pairs) - len(finished)
    if result["failed"]:
        err.print(f"{result['failed']} items failed and are left out of the report; rerun the command to retry them", highlight=False)
    return result
