"""Win rates: the paper's table from recorded comparisons, the interval, and live runs with fake models."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.metrics.winrate import wilson, win_report
from fellowship.runs.winrate import recorded_winrate
from tests.fakes import ScriptedChatModel, block

runner = CliRunner()
LLAMA, GEMMA = "Meta-Llama-3.1-8B-Instruct-Turbo", "gemma-2-9b-it"
TABLE = {  # generator, reviewer -> (vs llama, vs gemma, vs gpt), from paper-outputs/SOURCE.md
    (LLAMA, LLAMA): (65.8, 65.6, 47.8),
    (LLAMA, GEMMA): (71.8, 73.8, 49.0),
    (LLAMA, "both"): (68.2, 69.4, 48.6),
    (GEMMA, LLAMA): (61.8, 47.8, 41.2),
    (GEMMA, GEMMA): (64.8, 52.6, 41.4),
    (GEMMA, "both"): (67.6, 52.4, 42.0),
}


def test_all_18_paper_win_rates(paper):
    for (generator, reviewer), expected in TABLE.items():
        got = tuple(
            round(100 * recorded_winrate(paper / f"paper-outputs/capybara-winrate/{generator}__{reviewer}__vs_{b}.json")["win_rate"], 1)
            for b in ("llama", "gemma", "gpt")
        )
        assert got == expected, (generator, reviewer)


def test_cli_recorded_llama_generator_gemma_reviewer(paper):
    base = paper / f"paper-outputs/capybara-winrate/{LLAMA}__{GEMMA}"
    result = runner.invoke(app, ["winrate", "--recorded", f"{base}__vs_llama.json", "--recorded", f"{base}__vs_gemma.json", "--json"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [round(100 * r["win_rate"], 1) for r in reports] == [71.8, 73.8]
    assert all(r["n"] == 500 and len(r["win_rate_ci"]) == 2 for r in reports)


def test_a_record_without_text_is_not_a_win(paper):
    report = recorded_winrate(paper / f"paper-outputs/capybara-winrate/{GEMMA}__both__vs_gpt.json")
    assert report["invalid"] == 1 and report["n"] == 500


def test_win_report_rules():
    report = win_report(["A", "A", "B", "tie", "invalid"])
    assert (report["wins"], report["losses"], report["ties"], report["invalid"]) == (2, 1, 1, 1)
    assert report["win_rate"] == 0.4 and report["win_rate_ties_half"] == 0.5


def test_wilson_interval():
    low, high = wilson(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)
    assert wilson(10, 10)[0] == pytest.approx(0.7225, abs=1e-3)


def _models(fake_models):
    counter = iter(range(1, 1000))
    fake_models["openai:gen"] = ScriptedChatModel(script=lambda m: f"loop draft {next(counter)}")
    fake_models["openai:rev"] = ScriptedChatModel(script=lambda m: "Evaluation: ok\nOverall Score: 6/10\nFeedback: more detail")
    fake_models["openai:base"] = ScriptedChatModel(script=lambda m: "baseline answer")

    def judge(messages):  # the loop's answer beats the baseline's, whichever is shown first
        text = messages[1].text
        if block(text, "assistant_b") == "baseline answer":
            return "### Score Assistant A: 8/10\n### Score Assistant B: 4/10"
        if block(text, "assistant_a") == "baseline answer":
            return "### Score Assistant A: 4/10\n### Score Assistant B: 8/10"
        return "### Score Assistant A: 5/10\n### Score Assistant B: 5/10"

    fake_models["openai:judge"] = ScriptedChatModel(script=judge)


LIVE = ["--generator", "openai:gen", "--reviewer", "openai:rev", "--judge-model", "openai:judge", "--iterations", "2"]


def test_refine_json(fake_models):
    _models(fake_models)
    result = runner.invoke(app, ["refine", "--prompt", "Say hi.", *LIVE, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["responses"]) == 2 and data["best"] == 2 and data["bouts"][0]["verdict"] == "tie"
    assert data["reviews"][0]["score"] == 6


def test_refine_prints_the_transcript(fake_models):
    _models(fake_models)
    result = runner.invoke(app, ["refine", "--prompt", "Say hi.", *LIVE])
    assert result.exit_code == 0, result.output
    assert "Response 1" in result.stdout and "review by openai:rev: 6/10" in result.stdout and "winner: response 2" in result.stdout


def test_live_winrate_resumes_without_redoing(fake_models, tmp_path):
    _models(fake_models)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("First prompt\nSecond prompt\n\nThird prompt\n")
    results = tmp_path / "results.jsonl"
    args = ["winrate", "--prompts", str(prompts), "--baseline", "openai:base", *LIVE, "--results", str(results), "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert (report["n"], report["wins"], report["win_rate"]) == (3, 3, 1.0)
    calls = len(fake_models["openai:gen"].calls)
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert "config" in rows[0] and [r["id"] for r in rows[1:]] == ["1", "2", "4"]
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "resuming: 3 of 3" in second.stderr
    assert len(fake_models["openai:gen"].calls) == calls  # nothing recomputed
    changed = runner.invoke(app, [*args[:-1], "--iterations", "3", "--json"])
    assert changed.exit_code == 2 and "another configuration" in " ".join(changed.stderr.split())


def test_torn_last_line_is_dropped_on_resume(fake_models, tmp_path):
    _models(fake_models)
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"id": "a", "prompt": "One"}\n{"id": "b", "prompt": "Two"}\n')
    results = tmp_path / "r.jsonl"
    args = ["winrate", "--prompts", str(prompts), "--baseline", "openai:base", *LIVE, "--results", str(results), "--json"]
    assert runner.invoke(app, args).exit_code == 0
    lines = results.read_text().splitlines()
    results.write_text("\n".join(lines[:2]) + "\n" + lines[2][:20])  # item b's row cut mid-write
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["n"] == 2
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r.get("id") for r in rows[1:]] == ["a", "b"]


def test_bad_prompts_file(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "ok"}\n{"text": "no prompt"}\n')
    result = runner.invoke(app, ["refine", "--prompts", str(path)])
    assert result.exit_code == 2 and "p.jsonl:2: field 'prompt': is missing" in " ".join(result.stderr.split())
