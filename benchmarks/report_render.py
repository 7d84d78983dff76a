"""How fast `report.html` opens with many rows: a synthetic run of N comparisons (default 20,000, texts of about the
length the demo's answers have), written by the report's own code and opened in headless Chromium.

Prints the file size, the time to write it, the browser's time from navigation to the first page of rows, and how long a
filter and a search over every row take. Needs Debian's chromium (`apt-get install chromium`).

    python benchmarks/report_render.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - puts the repository on the path

from fellowship.preference.charts import drawn
from fellowship.preference.figures import Figures
from fellowship.report.collect import Report
from fellowship.report.page import write_report

WORDS = ("the model answer study focus water break time plan list step reason example clear short detail "
         "question helpful because first second then also more less better worse").split()


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def synthetic(count: int) -> Report:
    rng = random.Random(0)
    reasons = ["kept"] * 6 + ["tie", "invalid verdict", "inconsistent under swap", "text aimed at the evaluator"]
    figures = Figures()
    prompts = [{"id": str(i), "text": text(rng, 25)} for i in range(count // 2)]
    rows = []
    for i in range(count):
        outcome, kind = rng.choice(reasons), rng.choice(["single", "workflow"])
        score_a, score_b = rng.randint(1, 10), rng.randint(1, 10)
        verdict = "A" if score_a > score_b else "B" if score_b > score_a else "tie"
        outcome = "tie" if verdict == "tie" else outcome
        figures.outcomes[f"{kind}: {outcome}"] += 1
        figures.margins[abs(score_a - score_b)] += 1
        source = {"source": "single", "models": ["local:smollm2"], "seed": rng.randint(0, 2**31), "iteration": 1}
        rows.append({
            "prompt": i // 2, "id": str(i // 2), "kind": kind, "a": "single", "b": "loop", "text_a": text(rng, 220),
            "text_b": text(rng, 220), "verdict": verdict, "outcome": outcome,
            "chosen": ("a" if verdict == "A" else "b") if outcome == "kept" else None, "score_a": score_a, "score_b": score_b,
            "margin": abs(score_a - score_b), "confidence": None, "explanation": text(rng, 60), "evaluator": "local:smollm2",
            "flipped": bool(i % 2), "from_a": source, "from_b": {**source, "source": "loop", "iteration": 2},
            "flags_a": [], "flags_b": [], "trace_id": f"trace-{i}",
            "tags": {"kind": [kind], "source": ["single", "loop"], "outcome": [outcome]}})
    rows[count // 2]["text_b"] += " Zebras."  # one row for the search to find
    figures.seconds.update(int(rng.uniform(5, 60)) for _ in prompts)
    summary = {"prompts": len(prompts), "done": len(prompts), "failed": 0, "rows": {"single_dpo.jsonl": count // 3},
               "invalid_verdicts": 0, "seconds": 1.0, "labels": {}, "spend": {}}
    return Report("Preference data from a synthetic run", [f"{count:,} comparisons"], drawn(figures, summary),
                  [("kind", "kind"), ("source", "source"), ("outcome", "kept or dropped")], "comparisons",
                  prompts=prompts, rows=rows, margin_filter=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("needs Chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="report-bench-"))
    started = time.perf_counter()
    path = write_report(synthetic(args.rows), folder / "report.html", "a synthetic run")
    written = time.perf_counter() - started
    print(f"rows: {args.rows:,} · report.html {path.stat().st_size / 1e6:.1f} MB, written in {written:.1f} s")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        for attempt in range(3):
            page = browser.new_page()
            page.goto(path.as_uri())
            rendered = page.evaluate("performance.getEntriesByName('fellowship:rendered')[0].startTime")
            loaded = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
            filtered = page.evaluate("""() => {
                const t0 = performance.now();
                const outcome = document.getElementById('filter-outcome');
                outcome.value = 'kept'; outcome.dispatchEvent(new Event('change'));
                const t1 = performance.now();
                outcome.value = ''; outcome.dispatchEvent(new Event('change'));
                return t1 - t0;
            }""")
            started = time.perf_counter()
            page.fill("#filter-search", "zebras")
            page.wait_for_selector("#count:text-matches('^1 of')")
            searched = time.perf_counter() - started - 0.15  # less the pause the search waits for typing to stop
            print(f"open {attempt + 1}: first page of rows at {rendered / 1000:.2f} s (load event {loaded / 1000:.2f} s); "
                  f"outcome filter over all rows {filtered:.0f} ms; first search {searched:.2f} s")
            page.close()
        browser.close()
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
