"""The openai:, hf: and hf-local: backends against a real llama.cpp server and the real model file.

Each test checks what the server or model did: how many tokens it wrote (usage, or the
tokenizer's count), whether a reply followed the answer format, which scores were read.
"""

from __future__ import annotations

import re

import pytest

from fellowship.fileio.pairs import Pair
from fellowship.graphs.evaluate import judge_pair
from fellowship.models import ModelSettings, load_chat_model
from fellowship.models import constraints as constraints_module
from fellowship.models import servers as servers_module
from fellowship.parsing.formats import pair_scores_format
from fellowship.state.judge import JudgeContext
from fellowship.state.verdicts import label_of

pytestmark = pytest.mark.integration

PAIR = Pair(id="1", question="What is 3 times 4?", response_a="12", response_b="7")
LONG = "Write a long story about a dragon who learns to cook."
SCORE_BLOCK = re.compile(r"### Score Assistant A: (\d+)/10\n### Score Assistant B: (\d+)/10\Z")


@pytest.fixture(autouse=True)
def no_openai_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.mark.parametrize("spec", ["openai:smollm2", "hf:{url}"])
async def test_the_server_stops_at_the_token_limit(llama_server, spec):
    """llama.cpp's server ignores `max_completion_tokens`, all langchain-openai sends by itself."""
    settings = ModelSettings(max_tokens=16, base_url=f"{llama_server}/v1")
    reply = await load_chat_model(spec.format(url=llama_server), settings).ainvoke(LONG)
    assert reply.usage_metadata["output_tokens"] == 16
    assert reply.response_metadata["finish_reason"] == "length"


async def test_a_judgement_cut_by_its_budget_is_repaired_under_the_servers_grammar(llama_server):
    servers_module.engine_of.cache_clear()
    ctx = JudgeContext(model="openai:smollm2", base_url=f"{llama_server}/v1", max_tokens=32)  # the bare format needs ~22
    assert load_chat_model(ctx.model, ctx.settings()).answer_constraint == "gbnf"  # detected from GET /models
    verdict = await judge_pair(PAIR, ctx)
    first, repair = verdict.raw
    assert SCORE_BLOCK.search(first) is None and verdict.repairs == 1
    scores = SCORE_BLOCK.fullmatch(repair)
    assert scores, f"the repair turn did not follow the grammar: {repair!r}"
    assert (verdict.score_a, verdict.score_b) == (float(scores[1]), float(scores[2]))
    assert verdict.verdict == label_of(verdict.score_a, verdict.score_b) and verdict.output_tokens <= 32 + 32


async def test_constrained_first_turn_explains_then_scores(llama_server):
    # The grammar of the first turn is what is tested here, on the plain prompt: with the fenced prompt of the
    # defences, SmolLM2 on this server echoes the template and writes lead lines until the budget ends (measured:
    # 1,024 tokens, no score line), so the first turn needs the repair (the default path, tested above).
    ctx = JudgeContext(model="openai:smollm2", base_url=f"{llama_server}/v1", constrained=True, max_tokens=400, guard=False)
    verdict = await judge_pair(PAIR, ctx)
    assert len(verdict.raw) == 1 and verdict.repairs == 0
    scores = SCORE_BLOCK.search(verdict.raw[0])
    assert scores and verdict.explanation and verdict.explanation in verdict.raw[0]
    assert (verdict.score_a, verdict.score_b) == (float(scores[1]), float(scores[2]))
    assert re.fullmatch(pair_scores_format(10).regex(True), verdict.raw[0])


async def test_a_constraint_the_server_refuses_falls_back_and_is_said_once(llama_server, capsys):
    """llama-cpp-python's server answers HTTP 500 to a JSON-schema response format."""
    constraints_module._rejected.clear()
    constraints_module._said.clear()
    ctx = JudgeContext(model="openai:smollm2", base_url=f"{llama_server}/v1", max_tokens=32, constrain="json-schema")
    first = await judge_pair(PAIR, ctx)
    second = await judge_pair(PAIR, ctx)
    assert first.repairs == second.repairs == 1 and len(first.raw) == 2
    assert capsys.readouterr().err.count("rejected the json-schema constraint (HTTP 500)") == 1


async def test_openai_base_url_from_the_environment(llama_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", f"{llama_server}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    reply = await load_chat_model("openai:smollm2", ModelSettings(max_tokens=8, seed=1)).ainvoke(LONG)
    assert reply.usage_metadata["output_tokens"] == 8


async def test_hf_local_backend_with_the_gguf_in_transformers(gguf):
    model = load_chat_model(f"hf-local:{gguf}", ModelSettings(max_tokens=12))
    reply = await model.ainvoke([("user", LONG)])
    written = len(model.tokenizer(reply.text, add_special_tokens=False)["input_ids"])
    assert 8 <= written <= 12 + 1  # the limit holds (re-tokenizing the text may merge or split one token)
    verdict = await judge_pair(PAIR, JudgeContext(model=f"hf-local:{gguf}", max_tokens=48))
    assert len(verdict.raw) == 1 + verdict.repairs
    assert all(len(model.tokenizer(text, add_special_tokens=False)["input_ids"]) <= 48 + 1 for text in verdict.raw)


def test_missing_openai_key_is_a_clear_error(monkeypatch):
    from fellowship.models.spec import BackendUnavailable

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(BackendUnavailable, match="OPENAI_API_KEY"):
        load_chat_model("openai:gpt-4o-mini", ModelSettings(seed=123))


def test_generate_on_the_server_two_sources_of_one_model_differ_and_every_verdict_reads(llama_server, tmp_path):
    """The run of issue 10, small: one model behind the server as two sources at temperature 0.7."""
    import json

    from typer.testing import CliRunner

    from fellowship.cli import app
    from fellowship.models.settings import derive_seed

    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Describe a busy marketplace in two sentences.\nGive three tips for learning a new language.\n")
    out = tmp_path / "ds"
    result = CliRunner().invoke(app, [
        "generate", "--prompts", str(prompts), "--out", str(out), "--kind", "single", "--json",
        "--candidate", "a=openai:smollm2", "--candidate", "b=openai:smollm2", "--judge-model", "openai:smollm2",
        "--base-url", f"{llama_server}/v1", "--temperature", "0.7", "--max-tokens", "32", "--judge-max-tokens", "160",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()[1:]]
    assert summary["invalid_verdicts"] == 0 and summary["failed"] == 0
    decisive = 0
    for row in journal:
        a, b = row["candidates"]
        assert a["response"] != b["response"]
        assert all(c["output_tokens"] <= 32 for c in (a, b))
        assert (a["seed"], b["seed"]) == (derive_seed(0, "a", row["prompt"]), derive_seed(0, "b", row["prompt"]))
        (comparison,) = row["comparisons"]
        evaluation = comparison["evaluation"]
        assert evaluation["output_tokens"] <= 160 * len(evaluation["raw"])
        decisive += comparison["verdict"] in ("A", "B")
    assert summary["rows"] == {"single_dpo.jsonl": decisive, "single_kto.jsonl": 2 * decisive}
