"""The openai:, hf: and hf-local: backends against real local servers and files."""

from __future__ import annotations

import pytest

from fellowship.fileio.pairs import Pair
from fellowship.models import ModelSettings, load_chat_model
from fellowship.runs.evaluation import judge_pair
from fellowship.state.judge import JudgeContext

pytestmark = pytest.mark.integration

PAIR = Pair(id="1", question="What is 3 times 4?", response_a="12", response_b="7")


async def test_openai_backend_against_llama_cpp_server(llama_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    verdict = await judge_pair(PAIR, JudgeContext(model="openai:smollm2", base_url=f"{llama_server}/v1", max_tokens=120))
    assert verdict.verdict in {"A", "B", "tie", "invalid"} and verdict.raw[0].strip()
    assert verdict.input_tokens > 0 and verdict.output_tokens > 0


async def test_openai_base_url_from_the_environment(llama_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", f"{llama_server}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    reply = await load_chat_model("openai:smollm2", ModelSettings(max_tokens=16, seed=1)).ainvoke("Say hello.")
    assert reply.text.strip()


async def test_hf_endpoint_backend_against_the_same_server(llama_server):
    verdict = await judge_pair(PAIR, JudgeContext(model=f"hf:{llama_server}", max_tokens=120))
    assert verdict.verdict in {"A", "B", "tie", "invalid"} and verdict.raw[0].strip()


async def test_hf_local_backend_with_the_gguf_in_transformers(gguf):
    model = load_chat_model(f"hf-local:{gguf}", ModelSettings(max_tokens=24))
    reply = await model.ainvoke([("user", "What is the capital of France?")])
    assert isinstance(reply.text, str) and reply.text.strip()
    verdict = await judge_pair(PAIR, JudgeContext(model=f"hf-local:{gguf}", max_tokens=48))
    assert verdict.verdict in {"A", "B", "tie", "invalid"} and len(verdict.raw) in (1, 2)


def test_missing_openai_key_is_a_clear_error(monkeypatch):
    from fellowship.models.factory import BackendUnavailable

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(BackendUnavailable, match="OPENAI_API_KEY"):
        load_chat_model("openai:gpt-4o-mini", ModelSettings(seed=123))
