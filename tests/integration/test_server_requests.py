"""What the `openai:` backend sends to OpenAI-compatible servers: token limits, seeds, constraints.

A scripted server on loopback (a test double, `tests.servers.ScriptedOpenAIServer`) records
every request body and answers from a script, posing as vLLM, a generic server or one that
refuses a constraint. Real servers are in `test_backends.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from fellowship.fileio.pairs import Pair
from fellowship.graphs.evaluate import judge_pair
from fellowship.models import ModelSettings, load_chat_model
from fellowship.models import constraints as constraints_module
from fellowship.models import servers as servers_module
from fellowship.parsing.formats import pair_scores_format
from fellowship.state.judge import JudgeContext
from tests.servers import scripted_server

pytestmark = pytest.mark.integration

PAIR = Pair(id="1", question="What is 3 times 4?", response_a="12", response_b="7")
Reply = Callable[[dict[str, Any]], str]


@pytest.fixture(autouse=True)
def fresh_constraint_state(monkeypatch):
    """Each test sees servers anew: detection, refusals and notes are per process otherwise."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    servers_module.engine_of.cache_clear()
    constraints_module._rejected.clear()
    constraints_module._said.clear()
    yield
    servers_module.engine_of.cache_clear()


def rambling_then(answer: Callable[[dict[str, Any]], str]) -> Reply:
    """A first reply without scores; the repair turn (a third message from the user) gets `answer(body)`."""
    return lambda body: answer(body) if len(body["messages"]) > 2 else "Both answers are about arithmetic."


async def test_vllm_gets_structured_outputs_regex_and_both_token_fields():
    with scripted_server(rambling_then(lambda b: "### Score Assistant A: 9/10\n### Score Assistant B: 1/10"), owned_by="vllm") as server:
        verdict = await judge_pair(PAIR, JudgeContext(model="openai:m", base_url=server.url, max_tokens=77, seed=5))
    first, repair = server.bodies
    assert (verdict.verdict, verdict.score_a, verdict.score_b, verdict.repairs) == ("A", 9, 1, 1)
    for body in (first, repair):
        assert body["max_tokens"] == 77 and body["max_completion_tokens"] == 77 and body["seed"] == 5
    assert "structured_outputs" not in first
    assert repair["structured_outputs"] == {"regex": pair_scores_format(10).regex(False)}
    assert "grammar" not in repair and "response_format" not in repair


async def test_other_servers_get_a_strict_json_schema_and_the_json_is_read_back():
    def reply(body: dict[str, Any]) -> str:
        if "response_format" in body:
            return json.dumps({"score_a": 3, "score_b": 8})
        return "Both answers are about arithmetic."

    with scripted_server(reply) as server:
        verdict = await judge_pair(PAIR, JudgeContext(model="openai:m", base_url=server.url, max_tokens=64))
    schema = server.bodies[1]["response_format"]["json_schema"]
    assert schema["strict"] is True and schema["schema"]["properties"]["score_a"] == {"enum": list(range(10, -1, -1))}
    assert (verdict.verdict, verdict.score_a, verdict.score_b) == ("B", 3, 8)
    assert verdict.raw[1] == "### Score Assistant A: 3/10\n### Score Assistant B: 8/10"


async def test_constrained_first_turn_keeps_the_explanation():
    def reply(body: dict[str, Any]) -> str:
        assert "response_format" in body, "the first turn is constrained too"
        return json.dumps({"explanation": "A is right: 3 x 4 = 12.", "score_a": 10, "score_b": 0})

    with scripted_server(reply) as server:
        verdict = await judge_pair(PAIR, JudgeContext(model="openai:m", base_url=server.url, constrained=True))
    assert len(server.bodies) == 1 and set(server.bodies[0]["response_format"]["json_schema"]["schema"]["required"]) == {
        "explanation", "score_a", "score_b"}
    assert (verdict.verdict, verdict.repairs, verdict.explanation) == ("A", 0, "A is right: 3 x 4 = 12.")


async def test_a_server_that_refuses_the_constraint_is_asked_again_without_it_and_we_say_so_once(capsys):
    answer = rambling_then(lambda b: "### Score Assistant A: 6/10\n### Score Assistant B: 2/10")
    with scripted_server(answer, refuse="response_format") as server:
        ctx = JudgeContext(model="openai:m", base_url=server.url)
        first = await judge_pair(PAIR, ctx)
        second = await judge_pair(PAIR, ctx)
    assert (first.verdict, second.verdict) == ("A", "A")
    # first pair: ask, constrained repair (refused), plain repair; second pair: ask, plain repair.
    assert ["response_format" in b for b in server.bodies] == [False, True, False, False, False]
    assert capsys.readouterr().err.count("rejected the json-schema constraint (HTTP 400)") == 1


def test_openai_itself_gets_max_completion_tokens_only(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    model = load_chat_model("openai:gpt-4o-mini", ModelSettings(max_tokens=33))
    payload = model._get_request_payload([("user", "hi")])  # the request body; nothing is sent
    assert payload["max_completion_tokens"] == 33 and "max_tokens" not in payload and "extra_body" not in payload
    assert model.answer_constraint == "json-schema"


async def test_constrain_override_and_off():
    with scripted_server(rambling_then(lambda b: "Verdict: B"), owned_by="vllm") as server:
        ctx = JudgeContext(model="openai:m", base_url=server.url, strategy="direct", constrain="gbnf")
        assert (await judge_pair(PAIR, ctx)).verdict == "B"
        assert server.bodies[1]["grammar"] == 'root ::= "Verdict: " v0\nv0 ::= "A" | "B" | "C"\n'
        server.bodies.clear()
        off = JudgeContext(model="openai:m", base_url=server.url, strategy="direct", constrain="off")
        assert (await judge_pair(PAIR, off)).verdict == "B"
    assert len(server.bodies) == 2
    assert not any(key in body for body in server.bodies for key in ("grammar", "structured_outputs", "response_format"))


@pytest.mark.parametrize("owned_by, expected", [("me", 1), ("vllm", 4), ("someone", 4)])
def test_default_concurrency_is_one_on_a_server_that_decodes_one_request_at_a_time(owned_by, expected):
    from fellowship.commands.common import auto_concurrency

    with scripted_server(lambda body: "", owned_by=owned_by) as server:
        assert auto_concurrency(None, "openai:m", base_url=server.url) == expected
        assert auto_concurrency(None, "openai:m", "hf:some/repo", base_url=server.url) == 4
        assert auto_concurrency(3, "openai:m", base_url=server.url) == 3
    assert auto_concurrency(None, "local:smollm2", "hf-local:x") == 1


@pytest.mark.parametrize("logprobs", [False, True])
async def test_a_call_sends_and_reads_what_langchains_own_chat_openai_does(logprobs):
    """The `openai:` backend posts LangChain's payload itself (`ServerChatOpenAI._post_chat`): the same body and key as
    stock `ChatOpenAI` through `create()`, and the same message back: text, token usage, finish reason, log-probabilities."""
    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_openai import ChatOpenAI

    tokens = [{"token": "A", "logprob": -0.25, "bytes": [65], "top_logprobs": [{"token": "A", "logprob": -0.25, "bytes": [65]}]}]
    reply = ("Assistant A is right.", tokens) if logprobs else "Assistant A is right."
    messages = [SystemMessage("You judge."), HumanMessage("Which is right?")]
    with scripted_server(lambda body: reply, usage=lambda body, text: (31, 7)) as server:
        ours = load_chat_model("openai:m", ModelSettings(base_url=server.url, max_tokens=40, seed=9, temperature=0.5,
                                                          logprobs=logprobs))
        stock = ChatOpenAI(model="m", base_url=server.url, api_key="not-needed", max_tokens=40, seed=9, temperature=0.5,
                           extra_body={"max_tokens": 40}, logprobs=logprobs or None, top_logprobs=ours.top_logprobs,
                           max_retries=ours.max_retries)
        constrained = ours.bind(extra_body={"max_tokens": 40, "grammar": 'root ::= "A"'})
        answers = [await model.ainvoke(messages) for model in (ours, stock, constrained)]
    mine, theirs, bound = server.bodies
    assert mine == theirs and mine["max_tokens"] == 40 and mine["seed"] == 9 and mine["messages"][0]["role"] == "system"
    assert bound == {**theirs, "grammar": 'root ::= "A"'}  # a bound extra_body goes into the body, as create() puts it
    assert server.keys == ["Bearer not-needed"] * 3
    ours_reply, their_reply = answers[0], answers[1]
    assert ours_reply.text == their_reply.text == "Assistant A is right."
    assert ours_reply.usage_metadata == their_reply.usage_metadata and ours_reply.usage_metadata["input_tokens"] == 31
    for key in ("finish_reason", "model_name", "logprobs"):
        assert ours_reply.response_metadata.get(key) == their_reply.response_metadata.get(key), key
    # The reply as the server wrote it: pydantic's dump adds the fields it lacks, as None.
    their_usage = {k: v for k, v in their_reply.response_metadata["token_usage"].items() if v is not None}
    assert ours_reply.response_metadata["token_usage"] == their_usage == {"prompt_tokens": 31, "completion_tokens": 7,
                                                                           "total_tokens": 38}
    assert (ours_reply.response_metadata.get("logprobs") is not None) == logprobs


async def test_a_completion_sent_under_another_content_type_is_read_as_create_reads_it():
    """Some servers and proxies label their JSON `text/plain`: `create()` reads the body as JSON all the same, and so
    does the backend's own post (openai's client hands it back as text)."""
    from langchain_core.messages import HumanMessage

    with scripted_server(lambda body: "Four.", usage=lambda body, text: (12, 2), content_type="text/plain") as server:
        reply = await load_chat_model("openai:m", ModelSettings(base_url=server.url, max_tokens=8)).ainvoke(
            [HumanMessage("Two plus two?")])
    assert reply.text == "Four." and reply.usage_metadata["input_tokens"] == 12 and reply.usage_metadata["output_tokens"] == 2
