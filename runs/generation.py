"""Run dataset generation over many prompts: concurrent, resumable, with atomic outputs."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

from fellowship.fileio.prompts import PromptItem
from fellowship.graphs.generate import graph as generate_graph
from fellowship.graphs.running import run_config
from fellowship.models.prices import Prices
from fellowship.models.usage import metered
from fellowship.preference.card import dollars
from fellowship.preference.rows import RowRules
from fellowship.prompts import template_hashes
from fellowship.runs.export import decisions_of, write_dataset
from fellowship.runs.journal import Journal, input_hash
from fellowship.runs.runner import Batch
from fellowship.runs.spend import Budget, Tally
from fellowship.state.generate import GenerateContext
from fellowship.state.records import Candidate, Comparison, Usage
from fellowship.tracing.local import store_report


def base_provenance(ctx: GenerateContext) -> dict[str, Any]:
    """What every row of a run shares: evaluator, templates, sources, parameters."""
    return {
        "evaluator": ctx.evaluator.describe(), "templates": template_hashes(),
        "sources": [{"name": c.name, "kind": c.kind, "models": list(c.models)} for c in ctx.candidates],
        "params": {"candidates": ctx.settings().model_dump(),
                   "evaluator": ctx.evaluator.settings(logprobs=ctx.evaluator.confidence).model_dump(),
                   "review_max_tokens": ctx.review_max_tokens},
        "iterations": ctx.iterations, "pairing": ctx.pairing,
    }


def fingerprint(ctx: GenerateContext, source: str) -> dict[str, Any]:
    """What identifies a run: the options that change model calls. Output options (kinds, filters,
    form, format) are not part of it: `fellowship export` rebuilds the files with others."""
    data = {"prompts": source, "context": ctx.model_dump(mode="json", exclude={"evaluator"}),
            "evaluator": ctx.evaluator.model_dump(mode="json"), "provenance": base_provenance(ctx)}
    plain: dict[str, Any] = json.loads(json.dumps(data))  # tuples become lists, as a journal reads them back
    return plain


async def generate_one(item: PromptItem, ctx: GenerateContext, index: int, max_concurrency: int | None = None) -> dict[str, Any]:
    """Candidates and comparisons for one prompt, as a journal row."""
    started = time.perf_counter()
    run_id = uuid.uuid4()
    config = run_config("generate", item.id, [f"candidate:{c.name}" for c in ctx.candidates], max_concurrency)
    config["run_id"] = run_id
    with metered() as spent:
        try:
            out = await generate_graph.ainvoke({"id": item.id, "prompt": item.prompt}, context=ctx, config=config)
        except Exception as exc:
            exc.spent = spent  # type: ignore[attr-defined]  # the journal's failed row keeps it, and the budget counts it
            raise
    candidates: list[Candidate] = out["candidates"]
    comparisons: list[Comparison] = out["comparisons"]
    usage = Usage.total(candidates) + Usage.total(c.evaluation for c in comparisons if c.evaluation is not None)
    return {
        "id": item.id, "index": index, "prompt": item.prompt, "input_hash": prompt_hash(item),
        "candidates": [c.model_dump() for c in candidates], "comparisons": [c.model_dump() for c in comparisons],
        "trace_id": str(run_id), "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **usage.model_dump(),
        "seconds": round(time.perf_counter() - started, 3),
    }


def prompt_hash(item: PromptItem) -> str:
    """What a journal row answered: the prompt's id and text."""
    return input_hash(item.id, item.prompt)


async def _generate_item(item: PromptItem, *, ctx: GenerateContext, concurrency: int) -> dict[str, Any]:
    return await generate_one(item, ctx, item.index, concurrency)


class Generation:
    """One `fellowship generate` run into one output folder: its journal, held until the files are written."""

    def __init__(self, out_dir: Path, ctx: GenerateContext, rules: RowRules, source: str, fmt: str = "jsonl",
                 license: str | None = None, budget: Budget | None = None) -> None:
        self.budget = budget or Budget(Tally(Prices({})))  # no limit; local models free, OpenAI's from the price table
        self.out_dir, self.ctx, self.rules, self.fmt, self.source, self.license = out_dir, ctx, rules, fmt, source, license
        self.config = fingerprint(ctx, source)
        self.journal = Journal(out_dir / "journal.jsonl", self.config)
        self.redone = 0  # prompts finished before whose text has changed since
        self.held_back = 0  # prompts the budget did not let start

    def close(self) -> None:
        """Let the next writer of this folder in."""
        self.journal.close()

    async def run(self, items: list[PromptItem], batch: Batch) -> None:
        """Generate the prompts the journal lacks; each finished prompt is journalled at once, and charged to the budget,
        which decides whether the next one starts (its limits count what the journal already holds).

        On Ray (`batch.workers`) the prompts run on the cluster this process has joined (see
        `runs.cluster`); this process alone writes the journal and holds the budget.
        """
        self.redone = sum(self.journal.changed(item.id, prompt_hash(item)) for item in items)
        budget = self.budget
        if budget.limited:
            for row in self.journal.rows(self.current(items)):
                budget.charge(row)
            budget.tally.add({"spent": self.journal.failed_spent})  # spent, but (merged) no measure of one failure
        count = 0

        def note(row: dict[str, Any]) -> str:
            nonlocal count
            budget.charge(row)  # a failed prompt's tokens too
            if "error" in row:
                return ""
            count += sum(decision.decisive for decision in decisions_of(row))  # rows are built once, as the files are written
            return f"decisive verdicts {count} · {spent_note(budget)}"

        job = partial(_generate_item, ctx=self.ctx, concurrency=batch.concurrency)
        done = await batch.journalled(items, job, self.journal, digest=prompt_hash, note=note, failure="",
                                      key=lambda item: {"id": item.id, "index": item.index, "prompt": item.prompt},
                                      admit=budget.admit if budget.limited else None)
        self.held_back = len(items) - len(done) - sum(item.id in self.journal.errors for item in items)

    def current(self, items: list[PromptItem]) -> list[str]:
        """The ids of the prompts the journal holds done for their current text, in prompt order."""
        return self.split(items)[0]

    def split(self, items: list[PromptItem]) -> tuple[list[str], list[str]]:
        """The prompts' ids in prompt order, in two: done for their current text, and not."""
        current: list[str] = []
        missing: list[str] = []
        for item in items:
            (current if self.journal.holds(item.id, prompt_hash(item)) else missing).append(item.id)
        return current, missing

    def write(self, items: list[PromptItem], seconds: float, calibration: dict[str, Any] | None = None) -> dict[str, Any]:
        """Write the dataset files and card atomically from the journal's rows (prompt order), read one at a time."""
        budget = self.budget
        current, missing = self.split(items)
        held = {i for i in missing if i not in self.journal.errors} if self.held_back else set()
        failed = [i for i in missing if i not in held]
        limits = {"max_dollars": budget.max_dollars, "max_tokens": budget.max_tokens, "limits": budget.describe(),
                  "not_started": len(held)}
        summary = write_dataset(self.out_dir, self.journal.rows(current), self.rules, self.fmt, self.config, prompts=len(items),
                                failed_ids=failed, seconds=seconds, license=self.license, calibration=calibration,
                                prices=budget.tally.prices, budget=limits, failed_spent=self.journal.failed_spent)
        reasons = Counter(self.journal.errors.get(item_id, "its prompt changed since; not done again") for item_id in failed)
        return {**summary, "failures": dict(reasons.most_common()), "redone": self.redone,
                "local_traces": store_report()}


def spent_note(budget: Budget) -> str:
    """Tokens and dollars so far, for the progress bar ('$?' where a model has no price)."""
    tally = budget.tally
    return f"{tally.tokens:,} tokens · {dollars(None if tally.unpriced else tally.dollars)}"
