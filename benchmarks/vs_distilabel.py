"""Head to head with distilabel: the same prompts, server, model, temperature and budget.

distilabel's standard preference pipeline (two TextGeneration steps, then UltraFeedback's
overall rating) against `fellowship generate --kind single` (two sources, then the judge),
on one warm OpenAI-compatible server. A counting proxy on loopback sits between each tool
and the server, so calls and tokens are counted the same way for both (from each reply's
`usage`).

Two settings, each run once per tool:
  same-budget: every call of both tools may write --budget tokens (the judge and the rater too);
  defaults:    only the temperature is set; everything else is each tool's default.
A usable preference is a prompt whose two answers got readable, different ratings
(distilabel) or a decisive verdict (fellowship: a DPO row).

    make bench-distilabel        # installs the bench extra (distilabel) and runs this on 10 MT-Bench prompts
    python benchmarks/vs_distilabel.py --prompts mt-bench --limit 10 [--server URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import _common  # noqa: F401
from fanout import start_server

from fellowship.fileio.prompts import read_prompts
from fellowship.models.servers import decodes_one_at_a_time
from fellowship.readers.named import PROMPTS
from tests.servers import send_json


class CountingProxy:
    """Forwards chat completions to the server and adds up the calls and the usage of the replies."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.calls = self.input_tokens = self.output_tokens = self.over_budget = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _relay(self, method: str, body: bytes | None) -> None:
                request = urllib.request.Request(proxy.upstream + self.path.removeprefix("/v1"), data=body, method=method,
                                                 headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=600) as response:
                        status, data = response.status, response.read()
                except urllib.error.HTTPError as exc:
                    status, data = exc.code, exc.read()
                if body is not None and status == 200:
                    usage = json.loads(data).get("usage") or {}
                    limit = json.loads(body).get("max_tokens")
                    with proxy.lock:
                        proxy.calls += 1
                        proxy.input_tokens += usage.get("prompt_tokens", 0)
                        proxy.output_tokens += usage.get("completion_tokens", 0)
                        proxy.over_budget += bool(limit) and usage.get("completion_tokens", 0) > limit
                send_json(self, status, data)

            def do_GET(self) -> None:  # noqa: N802
                self._relay("GET", None)

            def do_POST(self) -> None:  # noqa: N802
                self._relay("POST", self.rfile.read(int(self.headers["Content-Length"])))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def counts(self) -> dict[str, int]:
        return {"calls": self.calls, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "over_budget": self.over_budget}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def run_distilabel(prompts: list[str], url: str, model: str, temperature: float, budget: int | None, workdir: Path) -> dict[str, Any]:
    from distilabel.models import OpenAILLM
    from distilabel.pipeline import Pipeline
    from distilabel.steps import GroupColumns, LoadDataFromDicts
    from distilabel.steps.tasks import TextGeneration, UltraFeedback

    generation = {"temperature": temperature, **({"max_new_tokens": budget} if budget else {})}
    rating = {"max_new_tokens": budget} if budget else {}

    def llm(kwargs: dict[str, Any]) -> OpenAILLM:
        return OpenAILLM(model=model, base_url=url, api_key="not-needed", generation_kwargs=kwargs)

    with Pipeline(name="vs-fellowship", cache_dir=str(workdir / "distilabel-cache")) as pipeline:
        load = LoadDataFromDicts(data=[{"instruction": p} for p in prompts])
        generate = [TextGeneration(name=f"generate_{i}", llm=llm(generation)) for i in (1, 2)]
        group = GroupColumns(columns=["generation", "model_name"], output_columns=["generations", "model_names"])
        rate = UltraFeedback(aspect="overall-rating", llm=llm(rating))
        load >> generate >> group >> rate
    distiset = pipeline.run(use_cache=False)
    rows = list(distiset["default"]["train"])
    usable = sum(1 for r in rows if len(r.get("ratings") or []) == 2 and None not in r["ratings"] and r["ratings"][0] != r["ratings"][1])
    rated = sum(1 for r in rows if r.get("ratings") and None not in r["ratings"])
    sample = next((str(v) for r in rows for k, v in (r.get("distilabel_metadata") or {}).items() if k.startswith("raw_output_ultra")), "")
    return {"rows": len(rows), "rated": rated, "usable": usable, "sample_rating_text": sample[:300]}


def run_fellowship(prompts_file: Path, url: str, model: str, temperature: float, budget: int | None,
                   concurrency: int | None, out: Path) -> dict[str, Any]:
    command = [str(Path(sys.executable).parent / "fellowship"), "generate", "--prompts", str(prompts_file), "--out", str(out),
               "--kind", "single", "--json", "--base-url", url, "--temperature", str(temperature),
               "--candidate", f"a=openai:{model}", "--candidate", f"b=openai:{model}", "--judge-model", f"openai:{model}"]
    if budget:
        command += ["--max-tokens", str(budget), "--judge-max-tokens", str(budget)]
    if concurrency:
        command += ["--max-concurrency", str(concurrency)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "FELLOWSHIP_LOCAL_TRACES": "0"})
    if done.returncode != 0:
        raise SystemExit(f"fellowship failed:\n{done.stderr}")
    summary = json.loads(done.stdout)
    return {"rows": summary["done"], "rated": summary["done"] - summary["invalid_verdicts"],
            "usable": summary["rows"]["single_dpo.jsonl"], "invalid": summary["invalid_verdicts"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=Path, default=Path("mt-bench"), help="a prompts file, or a prompt set by name (default: "
                                                                               "mt-bench)")
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--server", help="base URL of a running OpenAI-compatible server (default: start llama.cpp's with SmolLM2)")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--budget", type=int, default=128)
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("DISTILABEL_LOG_LEVEL", "WARNING")
    source = str(args.prompts)
    items = PROMPTS[source]() if not args.prompts.exists() and source in PROMPTS else read_prompts(args.prompts)
    prompts = [item.prompt for item in items][: args.limit]
    proc, url = (None, args.server) if args.server else start_server()
    results: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            prompts_file = work / "prompts.jsonl"
            prompts_file.write_text("".join(json.dumps({"id": str(i), "prompt": p}) + "\n" for i, p in enumerate(prompts, 1)))
            urllib.request.urlopen(urllib.request.Request(url + "/chat/completions", method="POST",
                                                          headers={"Content-Type": "application/json"},
                                                          data=json.dumps({"model": args.model, "max_tokens": 8, "messages": [
                                                              {"role": "user", "content": "Hi"}]}).encode()), timeout=120).read()  # warm up
            default = f"{1 if decodes_one_at_a_time(url) else 4} (the default here)"
            for setting, budget in (("same-budget", args.budget), ("defaults", None)):
                runs: list[tuple[str, Any]] = [("distilabel", None), ("fellowship", None), ("fellowship", 4)]
                for tool, concurrency in runs:
                    proxy = CountingProxy(url)
                    started = time.perf_counter()
                    if tool == "distilabel":
                        outcome = run_distilabel(prompts, proxy.url, args.model, args.temperature, budget, work)
                    else:
                        out = work / f"{setting}-{concurrency}"
                        outcome = run_fellowship(prompts_file, proxy.url, args.model, args.temperature, budget, concurrency, out)
                    seconds = time.perf_counter() - started
                    proxy.close()
                    label = tool if tool == "distilabel" else f"fellowship --max-concurrency {concurrency or default}"
                    results.append({"setting": setting, "tool": label, "seconds": round(seconds, 1), **proxy.counts(), **outcome})
                    print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    finally:
        if proc is not None:
            proc.terminate()
    print(f"{len(prompts)} prompts · {args.model} · temperature {args.temperature} · budget {args.budget} (same-budget)\n")
    print("| setting | tool | wall s | calls | tokens in / out | calls over their limit | prompts rated | usable preferences |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['setting']} | {r['tool']} | {r['seconds']} | {r['calls']} | {r['input_tokens']} / {r['output_tokens']} "
              f"| {r['over_budget']} | {r['rated']} of {r['rows']} | {r['usable']} |")
    sample = next((r["sample_rating_text"] for r in results if r.get("sample_rating_text")), "")
    if sample:
        print(f"\nA rating text distilabel could not read: {sample!r}")
    print()
    for setting in ("same-budget", "defaults"):
        base = next(r for r in results if r["setting"] == setting and r["tool"] == "distilabel")
        for r in results:
            if r["setting"] == setting and r["tool"] != "distilabel":
                usable = f"{r['usable']} vs {base['usable']}"
                print(f"{setting}: {r['tool']}: wall time {r['seconds'] / base['seconds']:.2f} of distilabel's; usable preferences "
                      f"{usable}")


if __name__ == "__main__":
    main()
