"""The report's data for results files (agreement, winrate) against what the commands measured, with scripted models;
the page itself is opened in Chromium by tests/integration/test_report.py."""

from __future__ import annotations

import json
from html import unescape

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.report.page import embedded
from tests.fakes import ScriptedChatModel

runner = CliRunner()


def page_data(path) -> dict:
    return json.loads(path.read_text().split('<script type="application/json" id="data">')[1].split("</script>")[0])


def test_embedded_json_cannot_close_its_script_element():
    text = embedded({"t": "</script><script>alert(1)</script><!--"})
    assert "<" not in text and json.loads(text) == {"t": "</script><script>alert(1)</script><!--"}


def test_the_agreement_report_shows_the_measured_kappa_and_every_pair(fake_models, tmp_path):
    # The judge picks A whenever the first response is the longer one: it agrees on the pairs where humans did too.
    fake_models["openai:j"] = ScriptedChatModel(script=lambda m: "[[A]]" if "long answer" in m[-1].text.split("<assistant_b>")[0]
                                                else "[[B]]")
    items = tmp_path / "items.jsonl"
    labels = ["A", "B", "A", "tie"]
    items.write_text("".join(json.dumps({"id": f"p{i}", "question": f"Q{i}?", "response_a": "a long answer" if i % 2 == 0 else "a",
                                         "response_b": "b", "human": human}) + "\n" for i, human in enumerate(labels)))
    results = tmp_path / "results.jsonl"
    measured = runner.invoke(app, ["agreement", "--dataset", str(items), "--model", "openai:j", "--strategy", "direct",
                                   "--results", str(results), "--no-preflight", "--json", "--bootstrap", "0"])
    assert measured.exit_code == 0, measured.output
    kappa = json.loads(measured.stdout)["kappa"]
    made = runner.invoke(app, ["report", str(results)])
    assert made.exit_code == 0, made.output
    page = results.with_suffix(".html")
    html, data = unescape(page.read_text()), page_data(page)
    assert f"Cohen's kappa {kappa:.3f}" in html and 'id="chart-confusion"' in html and "<svg" in html
    assert [(r["id"], r["human"], r["verdict"], r["outcome"]) for r in data["rows"]] == [
        ("p0", "A", "A", "agrees"), ("p1", "B", "B", "agrees"), ("p2", "A", "A", "agrees"), ("p3", "tie", "B", "disagrees")]
    assert data["filters"] == ["human", "verdict", "outcome"] and data["rows"][3]["tags"]["human"] == ["tie"]


def test_the_winrate_report_counts_what_the_run_counted(fake_models, tmp_path):
    fake_models["openai:gen"] = ScriptedChatModel(script=lambda m: f"Draft {sum(x.type == 'ai' for x in m) + 1}.")
    fake_models["openai:rev"] = ScriptedChatModel(script=lambda m: "Evaluation: fine.\nOverall Score: 6/10\nFeedback: more.")
    fake_models["openai:base"] = ScriptedChatModel(script=lambda m: "A baseline answer.")
    fake_models["openai:j"] = ScriptedChatModel(script=lambda m: "Verdict: A\n### Score Assistant A: 7/10\n### Score Assistant B: 3/10")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("One?\nTwo?\nThree?\n")
    results = tmp_path / "winrate.jsonl"
    ran = runner.invoke(app, ["winrate", "--prompts", str(prompts), "--results", str(results), "--generator", "openai:gen",
                              "--reviewer", "openai:rev", "--baseline", "openai:base", "--judge-model", "openai:j", "--iterations", "2",
                              "--no-preflight", "--json"])
    assert ran.exit_code == 0, ran.output
    rate = json.loads(ran.stdout)["win_rate"]
    assert runner.invoke(app, ["report", str(results), "--to", str(tmp_path / "w.html")]).exit_code == 0
    data = page_data(tmp_path / "w.html")
    rows = data["rows"]
    assert len(rows) == 3 and all(r["text_b"] == "A baseline answer." and r["text_a"].startswith("Draft") for r in rows)
    wins = sum(r["verdict"] == "A" for r in rows)
    assert wins / 3 == rate and f"win rate {rate:.1%}" in unescape((tmp_path / "w.html").read_text())


@pytest.mark.parametrize("given", ["missing-folder", "a-file.txt"])
def test_a_report_of_something_else_is_a_usage_error(tmp_path, given):
    path = tmp_path / given
    if given.endswith(".txt"):
        path.write_text('{"config": {"other": 1}}\n')
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2 and str(path) in " ".join(result.output.split())
