"""Confidence per row, end to end on a loopback server that returns token log-probabilities (a test double).

The judge's reply comes with the log-probabilities of its tokens; the row's `provenance.confidence`
must be the probability of the verdict that they give, `--min-confidence` must filter on it, and a
server that returns none must be said once and leave confidence null.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.models import constraints as constraints_module
from fellowship.models import servers as servers_module
from tests.servers import scripted_server

pytestmark = pytest.mark.integration
runner = CliRunner()


def tok(text: str, *alternatives: tuple[str, float]) -> dict[str, Any]:
    top = [{"token": t, "logprob": math.log(p)} for t, p in alternatives] or [{"token": text, "logprob": 0.0}]
    return {"token": text, "logprob": top[0]["logprob"], "top_logprobs": top}


# The judge writes 8 and 3 but was unsure: 8 (0.7) or 2 (0.3) for the first answer, 3 (0.9) or 9 (0.1) for the second.
JUDGEMENT = [tok("Both answer.\n### Score Assistant A:"), tok(" 8", (" 8", 0.7), (" 2", 0.3)),
             tok("/10\n### Score Assistant B:"), tok(" 3", (" 3", 0.9), (" 9", 0.1)), tok("/10")]
FIRST_WINS = 0.7 * 0.9  # 8 > 3 and 8 > 9 fails, 2 > 3 and 2 > 9 fail: only (8, 3)


@pytest.fixture(autouse=True)
def fresh_model_state(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    servers_module.engine_of.cache_clear()
    constraints_module._said.clear()


def reply(with_logprobs: bool):
    def answer(body: dict[str, Any]) -> Any:
        if "Score Assistant A" not in body["messages"][-1]["content"]:
            return f"An answer written with seed {body.get('seed')}."
        text = "".join(t["token"] for t in JUDGEMENT)
        return (text, JUDGEMENT) if with_logprobs and body.get("logprobs") else text
    return answer


def generate(url: str, out, *extra: str):
    prompts = out.parent / "prompts.txt"
    prompts.write_text("Name a river.\nName a mountain.\nName a lake.\n")
    return runner.invoke(app, ["generate", "--prompts", str(prompts), "--out", str(out), "--kind", "single", "--candidate", "x=openai:m",
                               "--candidate", "y=openai:m", "--judge-model", "openai:m", "--base-url", url, "--json", *extra])


def rows(out) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "single_dpo.jsonl").read_text().splitlines()]


def test_each_row_records_the_probability_its_verdict_had_and_min_confidence_filters_on_it(tmp_path):
    with scripted_server(reply(with_logprobs=True)) as server:
        result = generate(server.url, tmp_path / "out", "--confidence")
    assert result.exit_code == 0, result.output
    judged = [b for b in server.bodies if "Score Assistant A" in b["messages"][-1]["content"]]
    written = [b for b in server.bodies if b not in judged]
    assert len(judged) == 3 and all(b["logprobs"] is True and b["top_logprobs"] == 10 for b in judged)
    assert written and not any("logprobs" in b for b in written)  # the candidates are not asked for them
    kept = rows(tmp_path / "out")
    assert len(kept) == 3
    assert [r["provenance"]["confidence"] for r in kept] == pytest.approx([FIRST_WINS] * 3)
    assert {r["provenance"]["params"]["evaluator"]["logprobs"] for r in kept} == {True}

    export = runner.invoke(app, ["export", "--out", str(tmp_path / "out"), "--min-confidence", "0.65", "--json"])
    assert export.exit_code == 0, export.output
    summary = json.loads(export.stdout)
    assert summary["rows"]["single_dpo.jsonl"] == 0 and summary["dropped"]["single: confidence below 0.65"] == 3
    export = runner.invoke(app, ["export", "--out", str(tmp_path / "out"), "--min-confidence", "0.6", "--json"])
    assert json.loads(export.stdout)["rows"]["single_dpo.jsonl"] == 3


def test_a_server_without_log_probabilities_is_said_once_and_confidence_is_null(tmp_path):
    with scripted_server(reply(with_logprobs=False)) as server:
        result = generate(server.url, tmp_path / "out", "--confidence", "--min-confidence", "0.5")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("returned no token log-probabilities: confidence is recorded as null") == 1
    summary = json.loads(result.stdout)
    assert summary["rows"]["single_dpo.jsonl"] == 0 and summary["dropped"]["single: no confidence for the confidence filter"] == 3
    export = runner.invoke(app, ["export", "--out", str(tmp_path / "out"), "--json"])
    assert [r["provenance"]["confidence"] for r in rows(tmp_path / "out")] == [None, None, None]
    assert json.loads(export.stdout)["rows"]["single_dpo.jsonl"] == 3
