"""`generate`: prompts to DPO and KTO datasets."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import typer

from fellowship.commands.common import (
    INPUTS,
    LOOP_PANEL,
    MODELS,
    Concurrency,
    auto_concurrency,
    batch,
    err,
    fail,
    out,
    read_prompt_file,
    run_sync,
)
from fellowship.commands.costs import COST, CostFlags, PriceFlag, given_prices, show_dry_run
from fellowship.commands.options import EVALUATOR, EVALUATOR_FLAGS, PREFLIGHT, ClusterFlags, From, Preflight, evaluator_for, grouped
from fellowship.fileio.errors import InputError, OutputError
from fellowship.fileio.lock import RunLocked
from fellowship.fileio.prompts import numbered
from fellowship.models.prices import Prices
from fellowship.models.spec import ModelSpec, SpecError
from fellowship.preference.rows import KINDS, RowRules, Suspect
from fellowship.runs.calibration import DEFAULT_PAIRS, parse_calibrate
from fellowship.runs.calibration import conflict as calibration_conflict
from fellowship.runs.calibration import load as load_calibration
from fellowship.runs.spend import Budget, Tally
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.generate import CandidateConfig, GenerateContext

DATASET = "Dataset"


@dataclasses.dataclass(frozen=True)
class DatasetFlags:
    """What `generate` writes and `export` rebuilds: which datasets, filtered how, in which form, under which licence."""

    kind: Annotated[Optional[list[str]], typer.Option(
        "--kind",
        help="Which datasets: single (single-model improvement) and/or workflow (the loops' revisions and reviewer feedback). "
             "Default both.",
        rich_help_panel=DATASET)] = None
    min_margin: Annotated[float, typer.Option(
        min=0, help="Drop pairs whose score margin is below this (pairs without scores too, when above 0).",
        rich_help_panel=DATASET)] = RowRules().min_margin
    min_confidence: Annotated[float, typer.Option(
        min=0, max=1,
        help="Drop pairs whose verdict's probability (read with --confidence) is below this; pairs without one too, when above "
             "0.",
        rich_help_panel=DATASET)] = RowRules().min_confidence
    conversational: Annotated[bool, typer.Option(
        "--conversational", help="Message lists instead of plain strings (TRL's conversational form).",
        rich_help_panel=DATASET)] = RowRules().conversational
    suspect: Annotated[Suspect, typer.Option(
        "--suspect",
        help="Responses with text aimed at the evaluator, or that answer nothing: drop (every pair holding one is dropped, so "
             "none is chosen) · reject (it is the rejected one against a clean response, whatever the verdict) · keep (the "
             "verdict stands; flags in provenance).",
        rich_help_panel=DATASET)] = RowRules().suspect
    fmt: Annotated[Literal["jsonl", "parquet"], typer.Option(
        "--format", help="jsonl, or parquet (needs pyarrow; provenance as a JSON string).", rich_help_panel=DATASET)] = "jsonl"
    license: Annotated[Optional[str], typer.Option(
        "--license",
        help="The dataset card's licence id (e.g. apache-2.0, cc-by-4.0). Default: the prompts' licence when fellowship knows "
             "it.",
        rich_help_panel=DATASET)] = None
    push_to_hub: Annotated[Optional[str], typer.Option(
        "--push-to-hub", metavar="REPO_ID",
        help="Upload the dataset files and card to this Hugging Face dataset repository (HF_TOKEN; HF_ENDPOINT for another "
             "Hub).",
        rich_help_panel=DATASET)] = None

    def rules(self) -> RowRules:
        """The row rules, after checking the kinds and that the format can be written (exit 2)."""
        kinds = tuple(self.kind or KINDS)
        if unknown := [k for k in kinds if k not in KINDS]:
            fail(f"unknown --kind {', '.join(unknown)} (choose from {', '.join(KINDS)})", 2)
        if self.fmt == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                fail("--format parquet needs pyarrow: pip install pyarrow", 2)
        return RowRules(kinds=kinds, min_margin=self.min_margin, conversational=self.conversational, suspect=self.suspect,
                        min_confidence=self.min_confidence)


EXIT_BUDGET = 3  # stopped at --max-cost or --max-tokens-total: the files hold what was done; a larger limit resumes


@dataclasses.dataclass(frozen=True)
class BudgetFlags:
    """What a run may spend."""

    max_cost: Annotated[Optional[float], typer.Option(
        "--max-cost", min=0, metavar="USD",
        help=f"Stop starting prompts when the next could take the run (this --out, resumed runs included) past this many "
             f"dollars; the files are written from what was done, and the exit code is {EXIT_BUDGET}. Rerun with a larger "
             "limit to go on.",
        rich_help_panel=COST)] = None
    max_tokens_total: Annotated[Optional[int], typer.Option(
        "--max-tokens-total", min=1, metavar="N",
        help=f"The same for input plus output tokens of every call (exit code {EXIT_BUDGET} when reached).",
        rich_help_panel=COST)] = None

    def budget(self, specs: list[str], prices: Prices) -> Budget:
        """The run's budget (exit 2 on --max-cost with a model that has no price)."""
        if self.max_cost is not None and (unknown := prices.unknown(specs)):
            fail(f"--max-cost needs a price for every model: none is known for {', '.join(unknown)}; "
                 f"give it with --price {unknown[0]}=IN,OUT (dollars per million input and output tokens)", 2)
        return Budget(Tally(prices), self.max_cost, self.max_tokens_total)


def _dry_run(items: list[Any], ctx: GenerateContext, cost: CostFlags, prices: Prices, out_dir: Path, as_json: bool) -> None:
    """The estimate for the prompts `out_dir`'s journal does not hold done for their current text; nothing is written."""
    from fellowship.runs.estimate import estimate
    from fellowship.runs.generation import prompt_hash
    from fellowship.runs.journal import pending_in

    left = [items[i] for i in pending_in(out_dir / "journal.jsonl", [(item.id, prompt_hash(item)) for item in items])]
    show_dry_run(lambda: estimate(left, ctx, prices, cost.named_tokenizers()), len(items) - len(left), as_json)


def check_out_dir(out_dir: Path) -> None:
    """--out must be a folder this process can create and write: checked before any model is called (exit 2)."""
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"--out {out_dir} is a file, not a folder: give a folder for the dataset files", 2)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"--out {out_dir}: cannot create the folder ({exc.strerror or exc})", 2)
    if not os.access(out_dir, os.W_OK | os.X_OK):
        fail(f"--out {out_dir}: the folder is not writable", 2)


def show_and_push(summary: dict[str, Any], out_dir: Path, as_json: bool, repo_id: Optional[str]) -> None:
    """Print the summary; upload the files and the card when asked (a Hub failure exits 1)."""
    if as_json:
        print(json.dumps(summary))
    else:
        from fellowship.views.generate import show_summary

        show_summary(out, summary)
    if repo_id:
        from fellowship.runs.hub import HubError, push_dataset

        try:
            url = push_dataset(out_dir, repo_id, [name for name, count in summary["rows"].items() if count])
        except HubError as exc:
            fail(str(exc), 1)
        err.print(f"pushed to {url}", highlight=False)


def _named(values: list[str], flag: str) -> list[tuple[str, list[str]]]:
    """NAME=SPEC[,SPEC...] options; every spec is checked."""
    named = []
    for value in values:
        name, sep, specs = value.partition("=")
        if not sep or not name.strip() or not specs.strip():
            fail(f"{flag} {value!r}: expected NAME=SPEC" + ("[,REVIEWER-SPEC...]" if flag == "--loop" else ""), 2)
        parts = [p.strip() for p in specs.split(",")]
        for spec in parts:
            try:
                ModelSpec.parse(spec)
            except SpecError as exc:
                fail(f"{flag} {value!r}: {exc}", 2)
        named.append((name.strip(), parts))
    return named


def _load_prompt_source(source: str, field: str, split: str) -> list[Any]:
    """A local prompts file, or a Hugging Face dataset id (online) with a `field` column."""
    from fellowship.data.store import DataMissing
    from fellowship.fileio.prompts import PromptItem
    from fellowship.readers.named import PROMPTS

    path = Path(source)
    if not path.exists() and source in PROMPTS:
        try:
            return PROMPTS[source]()
        except (DataMissing, InputError) as exc:
            fail(str(exc), 2)
    if path.exists() or "/" not in source or source.startswith((".", "/")):
        return read_prompt_file(path)
    try:
        import datasets

        rows = datasets.load_dataset(source, split=split)
    except ImportError:
        fail(f"{source!r} is not a local file, and Hub datasets need: pip install datasets", 2)
    except Exception as exc:  # noqa: BLE001 - offline or unknown: say which
        fail(f"{source!r} is not a local file and the Hugging Face Hub cannot provide it ({type(exc).__name__}: {exc})", 2)
    if field not in rows.column_names:
        fail(f"{source}: no column {field!r} (columns: {', '.join(rows.column_names)}); name it with --prompt-field", 2)
    return [PromptItem(str(i), str(r[field])) for i, r in enumerate(rows) if str(r[field]).strip()]


_DEFAULTS = GenerateContext()


@grouped(dataset=DatasetFlags, setup=From(GenerateContext, skip=("candidates", "evaluator"), panel=LOOP_PANEL),
         judging=EVALUATOR_FLAGS, pre=PREFLIGHT, cluster=ClusterFlags, spending=BudgetFlags, cost=CostFlags)
def generate(
    prompts: Annotated[str, typer.Option(
        "--prompts",
        help="Prompts: JSON Lines with 'prompt' (optional 'id'), a text file with one per line, a prompt set by name "
             "(mt-bench, vicuna-bench, alpaca-eval; see `fellowship data list`), or a Hugging Face dataset id (online).",
        rich_help_panel=INPUTS)],
    out_dir: Annotated[Path, typer.Option(
        "--out", "-o", help="Output folder: <kind>_dpo, <kind>_kto, summary.json, and the resume journal.",
        rich_help_panel=INPUTS)],
    limit: Annotated[Optional[int], typer.Option(
        min=1, help="Only the first N prompts (a later run with a larger N continues the same --out).", rich_help_panel=INPUTS)] = None,
    prompt_field: Annotated[str, typer.Option(help="Column of the prompts in a Hub dataset.", rich_help_panel=INPUTS)] = "prompt",
    split: Annotated[str, typer.Option(help="Split of a Hub dataset.", rich_help_panel=INPUTS)] = "train",
    candidate: Annotated[Optional[list[str]], typer.Option(
        "--candidate", help="A single-model source: NAME=SPEC (repeat).", rich_help_panel=LOOP_PANEL)] = None,
    loop: Annotated[Optional[list[str]], typer.Option(
        "--loop", help="A feedback-loop source: NAME=GENERATOR,REVIEWER[,REVIEWER...] (repeat).", rich_help_panel=LOOP_PANEL)] = None,
    concurrency: Concurrency = None,
    requests_per_second: Annotated[Optional[float], typer.Option(
        min=0.01, help="Rate limit of remote model requests, per model.", rich_help_panel=MODELS)] = None,
    calibrate: Annotated[Optional[str], typer.Option(
        "--calibrate", metavar="DATASET[:N]",
        help=f"Also run the evaluator on the first N (default {DEFAULT_PAIRS}) pairs of a human-labelled dataset (e.g. "
             "llmbar-natural:50; see `fellowship data list`) and put its agreement with the humans (kappa with its 95% interval, "
             "accuracy) and its position and length bias into the summary and the card.",
        rich_help_panel=EVALUATOR)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    *, dataset: DatasetFlags, setup: GenerateContext, judging: EvaluatorConfig, pre: Preflight, cluster: ClusterFlags,
    spending: BudgetFlags, cost: CostFlags,
) -> None:
    """Turn prompts into DPO and KTO preference datasets, with provenance on every row (the main job).

    For each prompt every source answers (single models, and feedback loops whose best response counts), the evaluator
    compares the answers, and decisive comparisons become rows. Ties, invalid verdicts, orders that disagree under
    --swap, small margins and identical responses are dropped and counted. The run is resumable: each finished prompt is
    journalled in --out, and running the same command again continues without redoing it; a prompt that failed is
    retried. Output files are rebuilt from the journal and written atomically.
    """
    from fellowship.runs.generation import Generation

    rules = dataset.rules()
    sources = [CandidateConfig(name=name, kind="single", models=(specs[0],)) for name, specs in _named(candidate or [], "--candidate")]
    for name, specs in _named(loop or [], "--loop"):
        if len(specs) < 2:
            fail(f"--loop {name}: give a generator and at least one reviewer: NAME=GEN,REVIEWER", 2)
        sources.append(CandidateConfig(name=name, kind="loop", models=tuple(specs)))
    sources = sources or list(_DEFAULTS.candidates)
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        fail(f"source names must differ: {', '.join(names)}", 2)
    if len(sources) < 2 and "single" in rules.kinds:
        fail("the single-model dataset compares sources: give at least two (or --kind workflow with a loop)", 2)
    ctx = setup.model_copy(update={"candidates": tuple(sources), "evaluator": evaluator_for(judging, setup)})
    from fellowship.models.factory import set_rate_limit

    set_rate_limit(requests_per_second)
    concurrency = auto_concurrency(concurrency, [m for c in sources for m in c.models], ctx.evaluator.specs(), base_url=ctx.base_url)
    items = numbered(_load_prompt_source(prompts, prompt_field, split)[:limit])
    calibration_pairs = _calibration_pairs(calibrate) if calibrate else None
    if calibration_pairs and (why := calibration_conflict(out_dir, ctx.evaluator, calibration_pairs[0])):
        fail(why, 2)
    try:
        calibration = None if calibrate else load_calibration(out_dir)  # an earlier run's stays in the summary and card
    except InputError as exc:
        fail(str(exc), 2)
    prices = cost.prices(ctx.base_url)
    if cost.dry_run:
        _dry_run(items, ctx, cost, prices, out_dir, as_json)
        return
    budget = spending.budget([m for c in sources for m in c.models] + list(ctx.evaluator.specs()), prices)
    pre.check(ctx, [m for c in sources for m in c.models], ctx.evaluator.specs())
    check_out_dir(out_dir)
    workers = cluster.join()
    try:
        run = Generation(out_dir, ctx, rules, prompts, dataset.fmt, dataset.license, budget)
    except RunLocked as exc:
        fail(str(exc), 2)
    except InputError as exc:
        fail(f"{exc}\n--out {out_dir} holds a run with other options: rerun with the same options to resume it, "
              "or choose another --out (or delete that folder) to start anew", 2)
    started = time.perf_counter()
    try:
        run_sync(run.run(items, batch("generate", concurrency, workers, noun="prompts")))
        if calibration_pairs is not None:
            calibration = _calibrate(*calibration_pairs, ctx.evaluator, out_dir, concurrency, workers)
        summary = run.write(items, time.perf_counter() - started, calibration)
    except OutputError as exc:
        fail(f"{exc.strerror}; the journal keeps every finished prompt: free space, then run the same command again", 1)
    finally:
        run.close()  # the folder's lock: held until the files are written
    show_and_push(summary, out_dir, as_json, dataset.push_to_hub)
    if run.held_back:
        fail(f"stopped at the budget ({budget.describe()}): {run.held_back} of {summary['prompts']} prompts not started; the files hold "
             f"the {summary['done']} done. Run the same command with a larger limit to go on (nothing done is redone).",
             EXIT_BUDGET)
    if summary["failed"]:
        reasons = "".join(f"\n  {count} x {reason}" for reason, count in summary["failures"].items())
        fail(f"{summary['failed']} of {summary['prompts']} prompts failed:{reasons}\nrun the same command again to retry them "
             f"(each error is in {out_dir / 'journal.jsonl'})", 1)


def _calibration_pairs(value: str) -> tuple[str, list[Any]]:
    """The named dataset and its first N pairs, read before any model is called (exit 2 on a bad value)."""
    from fellowship.data.store import DataMissing
    from fellowship.readers.named import read_dataset

    try:
        name, count = parse_calibrate(value)
        pairs = read_dataset(name)[:count]
    except (InputError, DataMissing) as exc:
        fail(f"--calibrate: {exc}", 2)
    except ValueError as exc:  # the value's form
        fail(str(exc), 2)
    if not pairs:
        fail(f"--calibrate {value}: the dataset holds no pairs", 2)
    return name, pairs


def _calibrate(name: str, pairs: list[Any], evaluator: EvaluatorConfig, out_dir: Path, concurrency: int,
               workers: Optional[int]) -> dict[str, Any]:
    """The run's evaluator on the labelled pairs, journalled as `fellowship agreement` journals them; the report saved in out_dir."""
    from fellowship.commands.agreement import judge_labelled
    from fellowship.runs import calibration as cal

    rows = judge_labelled(pairs, evaluator, name, out_dir / cal.JOURNAL, "calibrate", concurrency, workers)
    report = cal.calibration_report(name, evaluator.describe(), pairs, rows, asked=len(pairs))
    cal.save(out_dir, report)
    return report


@grouped(dataset=DatasetFlags)
def export(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="The folder of a generate run (its journal.jsonl).", rich_help_panel=INPUTS)],
    to: Annotated[Optional[Path], typer.Option(
        "--to", help="Write the files to this folder instead (default: --out itself).", rich_help_panel=INPUTS)] = None,
    price: PriceFlag = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    *, dataset: DatasetFlags,
) -> None:
    """Rebuild a generate run's dataset files, summary and card from its journal with other output options: no model is
    called.

    Kinds, the margin filter, the conversational form, the file format and the licence change only the files, so any of
    them can change here; the prompts, models and evaluator belong to the run.
    """
    from fellowship.runs.export import rebuild

    rules = dataset.rules()
    try:
        summary = rebuild(out_dir, to, rules, dataset.fmt, dataset.license, given_prices(price))
    except InputError as exc:
        fail(str(exc), 2)
    except OutputError as exc:
        fail(str(exc.strerror), 1)
    show_and_push(summary, to or out_dir, as_json, dataset.push_to_hub)
