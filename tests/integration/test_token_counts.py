"""The dry run counts a server's tokens the way the server does: vLLM's and llama.cpp's tokenizer endpoints (scripted
loopback doubles that record what they were asked), and llama-cpp-python's real server, whose reported prompt tokens
the dry run must match."""

from __future__ import annotations

import json

from langchain_core.messages import HumanMessage, SystemMessage
from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.models.servers import engine_of
from fellowship.models.tokens import tokenizer_for
from tests.servers import instant_reply, scripted_server

MESSAGES = [SystemMessage("Judge fairly."), HumanMessage("Which answer is better?")]
SENT = [{"role": "system", "content": "Judge fairly."}, {"role": "user", "content": "Which answer is better?"}]


def vllm(path, body):
    """vLLM's /tokenize with messages: a scripted count (a token per word, two per message, one for the reply)."""
    if path != "/tokenize" or "messages" not in body:
        return None
    return {"count": sum(2 + len(m["content"].split()) for m in body["messages"]) + 1, "max_model_len": 8192, "tokens": []}


def llama_cpp(path, body):
    """llama.cpp's /apply-template renders the messages; its /tokenize splits the prompt at spaces."""
    if path == "/apply-template":
        return {"prompt": " ".join(f"<{m['role']}> {m['content']}" for m in body["messages"]) + " <assistant>"}
    if path == "/tokenize":
        return {"tokens": list(range(len(body["content"].split())))}
    return None


def test_vllm_counts_the_messages_with_its_own_template():
    engine_of.cache_clear()
    with scripted_server(instant_reply, owned_by="vllm", extras=vllm) as server:
        tokenizer = tokenizer_for("openai:m", server.url)
        assert tokenizer.exact and "vLLM" in tokenizer.how
        assert tokenizer.count(MESSAGES) == (2 + 2) + (2 + 4) + 1
    asked = server.bodies[-1]
    assert server.paths[-1] == "/tokenize"
    assert asked == {"model": "m", "messages": SENT, "add_generation_prompt": True}


def test_llama_cpp_renders_the_template_then_tokenizes_it():
    engine_of.cache_clear()
    with scripted_server(instant_reply, owned_by="llamacpp", extras=llama_cpp) as server:
        tokenizer = tokenizer_for("openai:m", server.url)
        rendered = "<system> Judge fairly. <user> Which answer is better? <assistant>"
        assert tokenizer.exact and tokenizer.count(MESSAGES) == len(rendered.split())
    assert server.paths[-2:] == ["/apply-template", "/tokenize"]
    assert server.bodies[-2] == {"messages": SENT}
    assert server.bodies[-1]["content"].endswith("<assistant>") and server.bodies[-1]["parse_special"] is True


def test_a_server_without_a_tokenizer_is_counted_approximately_and_says_so():
    engine_of.cache_clear()
    with scripted_server(instant_reply, owned_by="vllm") as server:  # its /tokenize answers 404
        tokenizer = tokenizer_for("openai:m", server.url)
    assert not tokenizer.exact and tokenizer.how.startswith("approximate")
    assert server.paths == ["/tokenize"]  # asked once, then no more


def test_a_named_tokenizer_that_is_not_there_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(app, [
        "generate", "--prompts", "examples/prompts.jsonl", "--out", str(tmp_path / "out"), "--dry-run",
        "--tokenizer", f"local:smollm2={tmp_path / 'missing.gguf'}"])
    assert result.exit_code == 2 and "missing.gguf" in result.output


def test_the_dry_run_counts_what_llama_cpp_python_reports(llama_server, gguf, tmp_path):
    """Against the real server: the candidates' input tokens, which hold no model text, are what it reports when the
    GGUF is named; without it the server's text tokenizer is used and the count is marked as not exact."""
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Name a prime number.\nWhat colour is the sky on a clear day?\nSay hello in French.\n")
    base = ["generate", "--prompts", str(prompts), "--out", str(tmp_path / "out"), "--kind", "single",
            "--candidate", "a=openai:smollm2", "--candidate", "b=openai:smollm2", "--judge-model", "openai:smollm2",
            "--base-url", f"{llama_server}/v1", "--max-tokens", "16", "--temperature", "0.8", "--json"]  # a seed per source: two answers
    engine_of.cache_clear()
    served = json.loads(CliRunner().invoke(app, [*base, "--dry-run"]).stdout)
    named = json.loads(CliRunner().invoke(app, [*base, "--dry-run", "--tokenizer", f"openai:smollm2={gguf}"]).stdout)
    ran = CliRunner().invoke(app, base)
    assert ran.exit_code == 0, ran.output[-2000:]
    reported = json.loads((tmp_path / "out" / "summary.json").read_text())["spend"]["by_role"]
    assert reported["candidate"]["calls"] == named["by_role"]["candidate"]["calls"] == 6
    assert named["by_role"]["candidate"]["input_tokens"] == [reported["candidate"]["input_tokens"]] * 2
    assert "GGUF" in named["tokenizers"]["openai:smollm2"] and named["exact_tokenizers"]
    assert reported["evaluator"]["calls"] >= named["by_role"]["evaluator"]["calls"] == 3  # no comparison spared
    low, high = served["by_role"]["evaluator"]["input_tokens"]
    assert low <= reported["evaluator"]["input_tokens"] <= high
    assert "llama-cpp-python" in served["tokenizers"]["openai:smollm2"] and not served["exact_tokenizers"]
