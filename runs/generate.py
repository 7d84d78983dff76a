"""Run dataset generation over many prompts: concurrent, resumable, with atomic outputs."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fellowship.fileio.jsonl import atomic_path, atomic_writer
from fellowship.fileio.prompts import PromptItem
from fellowship.graphs.generate import graph as generate_graph
from fellowship.preference.rows import RowBuilder, RowRules, Rows
from fellowship.prompts import template_hashes
from fellowship.runs.batch import ItemFailure, run_all
from fellowship.runs.evaluation import run_config
from fellowship.runs.journal import Journal
from fellowship.state.generate import GenerateContext
from fellowship.state.records import Candidate, Comparison


def context_config(ctx: GenerateContext, rules: RowRules, source: str) -> dict[str, Any]:
    """What identifies a run: a different value means a different dataset, never mixed into one --out."""
    data = {"prompts": source, "context": {k: v for k, v in vars(ctx).items() if k != "evaluator"},
            "evaluator": vars(ctx.evaluator), "rules": vars(rules)}
    return json.loads(json.dumps(data, default=lambda o: vars(o) if hasattr(o, "__dict__") else str(o)))


async def generate_one(item: PromptItem, ctx: GenerateContext, max_concurrency: int | None = None) -> dict[str, Any]:
    """Candidates and comparisons for one prompt, as a journal row."""
    started = time.perf_counter()
    run_id = uuid.uuid4()
    config = run_config("generate", item.id, [f"candidate:{c.name}" for c in ctx.candidates], max_concurrency)
    config["run_id"] = run_id
    out = await generate_graph.ainvoke({"id": item.id, "prompt": item.prompt}, context=ctx, config=config)
    candidates: list[Candidate] = out["candidates"]
    comparisons: list[Comparison] = out["comparisons"]
    evaluated = [c.evaluation for c in comparisons]
    return {
        "id": item.id, "prompt": item.prompt,
        "candidates": [c.model_dump() for c in candidates], "comparisons": [c.model_dump() for c in comparisons],
        "trace_id": str(run_id), "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "input_tokens": sum(c.input_tokens for c in candidates) + sum(e.get("input_tokens", 0) for e in evaluated),
        "output_tokens": sum(c.output_tokens for c in candidates) + sum(e.get("output_tokens", 0) for e in evaluated),
        "seconds": round(time.perf_counter() - started, 3),
    }


def rows_of(row: dict[str, Any], builder: RowBuilder) -> Rows:
    candidates = [Candidate.model_validate(c) for c in row["candidates"]]
    comparisons = [Comparison.model_validate(c) for c in row["comparisons"]]
    record = {"prompt_id": row["id"], "trace_id": row["trace_id"], "created_at": row["created_at"]}
    return builder.build(row["prompt"], candidates, comparisons, record)


def invalid_verdicts(row: dict[str, Any]) -> int:
    bouts = [b for c in row["candidates"] if c.get("loop") for b in c["loop"]["bouts"]]
    return sum(c["verdict"] == "invalid" for c in row["comparisons"]) + sum(b["verdict"] == "invalid" for b in bouts)


class Generation:
    """One `fellowship generate` run into one output folder."""

    def __init__(self, out_dir: Path, ctx: GenerateContext, rules: RowRules, source: str, fmt: str = "jsonl") -> None:
        self.out_dir, self.ctx, self.rules, self.fmt = out_dir, ctx, rules, fmt
        settings = ctx.settings().model_dump()
        base = {"evaluator": ctx.evaluator.describe(), "templates": template_hashes(),
                "models": {c.name: list(c.models) for c in ctx.candidates}, "params": settings,
                "iterations": ctx.iterations, "pairing": ctx.pairing}
        self.builder = RowBuilder(rules, base)
        self.journal = Journal(out_dir / "journal.jsonl", context_config(ctx, rules, source))

    def pending(self, items: list[PromptItem]) -> list[PromptItem]:
        return [item for item in items if item.id not in self.journal.done]

    async def run(self, items: list[PromptItem], concurrency: int, on_done: Callable[[dict[str, Any] | None, int], None]) -> None:
        """Generate the pending prompts; each finished prompt is journalled at once. `on_done(row or None, rows)`."""
        todo = self.pending(items)

        def done(index: int, result: Any) -> None:
            item = todo[index]
            if isinstance(result, ItemFailure):
                self.journal.append({"id": item.id, "prompt": item.prompt, "error": f"{result}"})
                on_done(None, 0)
                return
            self.journal.append(result)
            rows = rows_of(result, self.builder)
            on_done(result, sum(len(v) for v in rows.dpo.values()) + sum(len(v) for v in rows.kto.values()))

        try:
            await run_all(todo, lambda item: generate_one(item, self.ctx, concurrency), concurrency=concurrency, on_done=done)
        finally:
            self.journal.close()

    def write(self, items: list[PromptItem], seconds: float) -> dict[str, Any]:
        """Build every row from the journal (prompt order) and write the dataset files atomically."""
        total = Rows()
        failed = [item.id for item in items if item.id not in self.journal.done]
        tokens = Counter()
        invalid = 0
        for item in items:
            row = self.journal.done.get(item.id)
            if row is None:
                continue
            rows = rows_of(row, self.builder)
            for kind in self.rules.kinds:
                total.dpo[kind] += rows.dpo[kind]
                total.kto[kind] += rows.kto[kind]
            total.dropped.update(rows.dropped)
            tokens.update({"input": row["input_tokens"], "output": row["output_tokens"]})
            invalid += invalid_verdicts(row)
        files = {}
        for kind in self.rules.kinds:
            for form, rows_by_kind in (("dpo", total.dpo), ("kto", total.kto)):
                path = self.out_dir / f"{kind}_{form}.{self.fmt}"
                self._write_rows(path, rows_by_kind[kind])
                files[path.name] = len(rows_by_kind[kind])
        summary = {
            "prompts": len(items), "done": len(items) - len(failed), "failed": len(failed), "failed_ids": failed,
            "rows": files, "dropped": dict(sorted(total.dropped.items())), "invalid_verdicts": invalid,
            "input_tokens": tokens["input"], "output_tokens": tokens["output"], "seconds": round(seconds, 1),
            "out": str(self.out_dir),
        }
        with atomic_writer(self.out_dir / "summary.json") as handle:
            handle.write(json.dumps(summary, indent=2) + "\n")
        return summary

    def _write_rows(self, path: Path, rows: list[dict[str, Any]]) -> None:
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            flat = [{**r, "provenance": json.dumps(r["provenance"], ensure_ascii=False)} for r in rows]
            with atomic_path(path) as tmp:
                pq.write_table(pa.Table.from_pylist(flat), tmp)
            return
        with atomic_writer(path) as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
