"""Cost and budgets of `generate` against a loopback server that reports the tokens of each request: the money figures
are the server's own bill at the given price, a budget stops the run without passing it, and a larger one finishes
the run without redoing a prompt."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fellowship.cli import app
from tests.servers import instant_reply, scripted_server

PRICE_IN, PRICE_OUT = 1000.0, 3000.0  # dollars per million tokens: large, so that the figures are not all rounding


def words(body, text) -> tuple[int, int]:
    """The server's count: a token per word of the messages it was sent, and of its reply."""
    return sum(len(m["content"].split()) for m in body["messages"]), len(text.split())


def generate(url: str, out, prompts, *extra: str, before: tuple[str, ...] = ()):
    return CliRunner().invoke(app, [
        *before, "generate", "--prompts", str(prompts), "--out", str(out), "--kind", "single", "--candidate", "a=openai:m",
        "--candidate", "b=openai:m", "--judge-model", "openai:m", "--base-url", url, "--max-concurrency", "4",
        "--no-preflight", "--json", *extra], env={"OPENAI_API_KEY": "x"})


def prompts_file(tmp_path, count: int):
    path = tmp_path / "prompts.txt"
    path.write_text("".join(f"Question number {i}, answered by two sources?\n" for i in range(count)))
    return path


def test_the_cost_is_the_servers_bill_per_role(tmp_path):
    with scripted_server(instant_reply, usage=words) as server:
        result = generate(server.url, tmp_path / "out", prompts_file(tmp_path, 5), "--price", f"openai:m={PRICE_IN},{PRICE_OUT}")
    assert result.exit_code == 0, result.output[-2000:]
    spend = json.loads((tmp_path / "out" / "summary.json").read_text())["spend"]

    def bill(bodies) -> float:
        return sum(i * PRICE_IN + o * PRICE_OUT for i, o in (words(b, instant_reply(b)) for b in bodies)) / 1e6

    judged = [b for b in server.bodies if b["messages"][0]["role"] == "system"]
    answered = [b for b in server.bodies if b["messages"][0]["role"] != "system"]
    assert len(judged) == 5 and len(answered) == 10
    assert spend["dollars"] == round(bill(server.bodies), 6) and spend["dollars"] > 0.5
    assert spend["by_role"]["evaluator"]["dollars"] == round(bill(judged), 6)
    assert spend["by_role"]["candidate"]["dollars"] == round(bill(answered), 6)
    assert spend["by_model"]["openai:m"]["input_tokens"] == sum(words(b, "")[0] for b in server.bodies)
    assert set(spend["by_source"]) == {"a", "b", "comparisons"} and spend["unpriced_models"] == []


def test_export_keeps_the_runs_prices_unless_given_others(tmp_path):
    """A custom server's price is not in any table: `export` takes it from the run's last summary, and --price changes it."""
    out = tmp_path / "out"
    with scripted_server(instant_reply, usage=words) as server:
        ran = generate(server.url, out, prompts_file(tmp_path, 3), "--price", f"openai:m={PRICE_IN},{PRICE_OUT}")
    assert ran.exit_code == 0, ran.output[-2000:]
    billed = json.loads((out / "summary.json").read_text())["spend"]["dollars"]
    kept = CliRunner().invoke(app, ["export", "--out", str(out), "--json"])
    assert json.loads(kept.stdout)["spend"]["dollars"] == billed > 0
    doubled = CliRunner().invoke(app, ["export", "--out", str(out), "--price", f"openai:m={2 * PRICE_IN},{2 * PRICE_OUT}", "--json"])
    assert json.loads(doubled.stdout)["spend"]["dollars"] == round(2 * billed, 6)
    assert json.loads((out / "summary.json").read_text())["spend"]["prices"]["openai:m"]["input"] == 2 * PRICE_IN


def test_a_budget_stops_the_run_within_it_and_a_larger_one_finishes_it_without_redoing_a_prompt(tmp_path):
    source, out = prompts_file(tmp_path, 20), tmp_path / "out"
    with scripted_server(instant_reply) as server:  # 10 + 5 tokens a call, 3 calls a prompt: 45 tokens a prompt
        stopped = generate(server.url, out, source, "--max-tokens-total", "300")
        first = len(server.bodies)
        summary = json.loads((out / "summary.json").read_text())
        rows = (out / "single_dpo.jsonl").read_text().splitlines()
        card = (out / "README.md").read_text()
        exported = CliRunner().invoke(app, ["export", "--out", str(out), "--to", str(tmp_path / "again")])
        finished = generate(server.url, out, source, "--max-tokens-total", "2000")
    assert stopped.exit_code == 3, stopped.output[-2000:]
    assert "stopped at the budget (--max-tokens-total 300): 14 of 20 prompts not started" in stopped.output
    # 6 prompts fit in 300 tokens (6 x 45 = 270): the seventh could have passed it, so it never started.
    assert summary["spend"]["input_tokens"] + summary["spend"]["output_tokens"] == 270 and first == 18
    assert summary["done"] == 6 and summary["failed"] == 0 and summary["budget"]["not_started"] == 14
    assert len(rows) == 6 and all(json.loads(r)["chosen"] for r in rows)  # a valid dataset of what was done
    assert "6 of 20 answered (14 not started: the run stopped at its budget, --max-tokens-total 300)" in card
    assert exported.exit_code == 0, exported.output[-2000:]
    assert "14 not started: the run stopped at its budget" in (tmp_path / "again" / "README.md").read_text()
    assert finished.exit_code == 0, finished.output[-2000:]
    assert len(server.bodies) - first == 14 * 3  # only the prompts not started before
    assert json.loads((out / "summary.json").read_text())["done"] == 20


def test_what_failed_prompts_spent_counts_against_the_budget_and_in_the_bill(tmp_path):
    """Every comparison fails after both answers were written: those answers' tokens are spent all the same. The budget
    stops the run on them, and the summary bills them under `failed prompts`."""
    source, out = prompts_file(tmp_path, 20), tmp_path / "out"

    def judged(body) -> bool:
        return body["messages"][0]["role"] == "system"

    with scripted_server(instant_reply, usage=words, fails=judged) as server:
        stopped = generate(server.url, out, source, "--max-tokens-total", "100", "--max-concurrency", "1")
    assert stopped.exit_code == 3, stopped.output[-2000:]
    answered = [b for b in server.bodies if not judged(b)]
    spent = sum(sum(words(b, instant_reply(b))) for b in answered)
    summary = json.loads((out / "summary.json").read_text())
    failed = summary["spend"]["by_source"]["failed prompts"]
    assert failed["calls"] == len(answered) and failed["input_tokens"] + failed["output_tokens"] == spent <= 100
    assert summary["done"] == 0 and summary["failed"] == len(answered) // 2 < 20  # the budget stopped it
    rows = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()[1:]]
    assert all(row["spent"]["openai:m"][2] == 2 for row in rows)  # each failed prompt's two answers


def test_a_failed_prompt_is_billed_for_the_judge_calls_it_made_before_failing(tmp_path):
    """The judge's first reply reads as no verdict, and its repair turn fails: the prompt fails after three answered
    calls (two sources, one judge), and the judge's call, made in a graph of its own inside the prompt's, is counted
    with theirs."""
    def reply(body) -> str:
        return "I would rather not say." if body["messages"][0]["role"] == "system" else instant_reply(body)

    def repairing(body) -> bool:
        return body["messages"][0]["role"] == "system" and len(body["messages"]) > 2

    with scripted_server(reply, usage=words, fails=repairing) as server:
        result = generate(server.url, tmp_path / "out", prompts_file(tmp_path, 3))
    assert result.exit_code == 1, result.output[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "out" / "journal.jsonl").read_text().splitlines()[1:]]
    answered = [b for b in server.bodies if not repairing(b)]
    assert len(rows) == 3 and len(answered) == 9 and all(row["spent"]["openai:m"][2] == 3 for row in rows)
    billed = json.loads((tmp_path / "out" / "summary.json").read_text())["spend"]["by_source"]["failed prompts"]
    assert billed["input_tokens"] + billed["output_tokens"] == sum(sum(words(b, reply(b))) for b in answered)


def test_max_cost_needs_a_price_for_every_model(tmp_path):
    result = generate("http://127.0.0.1:9/v1", tmp_path / "out", prompts_file(tmp_path, 2), "--max-cost", "1")
    assert result.exit_code == 2
    assert "none is known for openai:m" in result.output and "--price openai:m=IN,OUT" in result.output
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_the_dry_run_foresees_the_calls_and_tokens_of_a_run_on_the_embedded_model(tmp_path):
    """The estimate against what the same command then did: calls as planned (less the comparisons spared), repair
    turns within the range, the candidates' input tokens exactly (their calls embed no model text), every role's input
    tokens within the range. Swap and a second reviewer, so that both are in the plan."""
    source = tmp_path / "prompts.txt"
    source.write_text("Name a fruit that is yellow.\n")
    options = ["--prompts", str(source), "--out", str(tmp_path / "out"), "--loop", "loop=local:smollm2,local:smollm2,local:smollm2",
               "--candidate", "single=local:smollm2", "--iterations", "2", "--max-tokens", "24", "--review-max-tokens", "48",
               "--judge-max-tokens", "96", "--strategy", "combined-10", "--swap", "--json"]
    dry = CliRunner().invoke(app, ["generate", *options, "--dry-run"])
    assert dry.exit_code == 0, dry.output[-2000:]
    assert not (tmp_path / "out").exists()  # nothing written, no model called
    plan = json.loads(dry.output)["by_role"]
    # A single answer, two drafts, one review by each of two reviewers, one bout and one comparison, each judged in
    # both orders.
    assert {role: plan[role]["calls"] for role in plan} == {"candidate": 1, "generator": 2, "reviewer": 2, "evaluator": 4}
    run = CliRunner().invoke(app, ["generate", *options])
    assert run.exit_code == 0, run.output[-2000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    did = summary["spend"]["by_role"]
    rows = [json.loads(line) for line in (tmp_path / "out" / "journal.jsonl").read_text().splitlines()[1:]]
    spared = sum(2 for row in rows for c in row["comparisons"] if c.get("skipped") or (c.get("evaluation") or {}).get("ruled"))
    spared += sum(2 for row in rows for c in row["candidates"] if c.get("loop") for b in c["loop"]["bouts"] if b["evaluation"].get("ruled"))
    repairs = sum(r["repairs"] for row in rows for c in row["comparisons"] if (r := c.get("evaluation")))
    repairs += sum(b["evaluation"]["repairs"] for row in rows for c in row["candidates"] if c.get("loop") for b in c["loop"]["bouts"])
    assert did["evaluator"]["calls"] - repairs == plan["evaluator"]["calls"] - spared
    assert repairs <= plan["evaluator"]["repairs_up_to"]
    for role in ("candidate", "generator", "reviewer"):
        assert plan[role]["calls"] <= did[role]["calls"] <= plan[role]["calls"] + plan[role]["repairs_up_to"], role
    assert did["candidate"]["input_tokens"] == plan["candidate"]["input_tokens"][0] == plan["candidate"]["input_tokens"][1]
    for role, counted in did.items():
        low, high = plan[role]["input_tokens"]
        assert low <= counted["input_tokens"] <= high, (role, low, counted["input_tokens"], high)
        assert counted["output_tokens"] <= plan[role]["output_tokens_up_to"], role


def test_a_failed_prompt_is_spent_but_is_no_measure_of_what_a_prompt_costs():
    """Failures alone keep prompts one at a time, within the limit at the dearest failure; the first finished prompt
    sets the measure that lets several run at once."""
    from fellowship.models.prices import Prices
    from fellowship.runs.spend import Budget, Tally

    budget = Budget(Tally(Prices({})), max_tokens=100)
    assert budget.admit(0) and not budget.admit(1)  # nothing measured yet: one at a time
    for _ in range(9):
        budget.charge({"error": "timeout", "spent": {"openai:m": [8, 2, 1]}})
    assert budget.tally.tokens == 90 and budget.admit(0) and not budget.admit(1)
    budget.charge({"error": "timeout", "spent": {"openai:m": [1, 0, 1]}})
    assert not budget.admit(0)  # 91 spent, and a failure has cost 10: the next could pass 100
    budget.max_tokens = 200
    budget.charge({"candidates": [{"name": "a", "models": ["openai:m"], "input_tokens": 20, "output_tokens": 10}]})
    assert budget.admit(1) and not budget.admit(2)  # 121 spent, 30 a prompt: two more fit (181), three do not (211)
