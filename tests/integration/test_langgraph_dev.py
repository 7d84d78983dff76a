"""`langgraph dev` serves every graph; the SDK runs the debate with an interrupt and a resume."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from langgraph_sdk import get_client

from fellowship.models.settings import JUDGE_MAX_TOKENS
from fellowship.parsing.scores import parse_pair_scores
from fellowship.state.debate import DebateContext
from fellowship.state.judge import JudgeContext
from fellowship.state.jury import JuryContext
from fellowship.state.verdicts import label_of
from tests.integration.conftest import free_port, serving

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PAIR = {"question": "What is 2 + 2?", "response_a": "4", "response_b": "5"}
CONTEXT = {"model": "local:smollm2", "rounds": 1, "max_tokens": 40}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    cli = shutil.which("langgraph", path=str(Path(sys.executable).parent)) or "langgraph"
    env = {**os.environ, "LANGSMITH_TRACING": "false", "LANGCHAIN_TRACING_V2": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1"}
    command = [cli, "dev", "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload"]
    log = tmp_path_factory.mktemp("langgraph-dev") / "server.log"
    with serving(command, "/ok", port, log, seconds=120, cwd=ROOT, env=env, start_new_session=True) as url:
        yield url


async def test_every_graph_is_served(server):
    client = get_client(url=server)
    assistants = await client.assistants.search(limit=20)
    assert {a["graph_id"] for a in assistants} >= {"judge", "jury", "debate", "loop", "generate"}


async def test_debate_interrupt_resume_and_final_state(server):
    client = get_client(url=server)
    thread = await client.threads.create()
    paused = await client.runs.wait(thread["thread_id"], "debate", input=PAIR, context=CONTEXT,
                                    interrupt_before=["closing_score"])
    assert "verdict" not in paused
    state = await client.threads.get_state(thread["thread_id"])
    assert state["next"] and set(state["next"]) == {"closing_score"}
    assert [t["referee"] for t in state["values"]["turns"]] == ["General Public", "Psychologist", "Critic"]

    final = await client.runs.wait(thread["thread_id"], "debate", input=None, context=CONTEXT)
    verdict = final["verdict"]
    readable = [f for f in verdict["finals"] if f["error"] is None]
    assert len(verdict["finals"]) == 3 and verdict["invalid_finals"] == 3 - len(readable)
    for f in readable:  # scores as our parser reads the referee's reply
        assert (f["score_a"], f["score_b"]) == parse_pair_scores(f["raw"][-1], 10, labels=("1", "2"), last=True)
    if readable:
        mean_a = sum(f["score_a"] for f in readable) / len(readable)
        mean_b = sum(f["score_b"] for f in readable) / len(readable)
        assert verdict["score_a"] == pytest.approx(mean_a) and verdict["verdict"] == label_of(mean_a, mean_b)
    else:
        assert verdict["verdict"] == "invalid"
    state = await client.threads.get_state(thread["thread_id"])
    assert state["next"] == [] and state["values"]["verdict"]["rounds"] == 1


@pytest.mark.parametrize("graph, context", [("judge", JudgeContext), ("jury", JuryContext), ("debate", DebateContext)])
async def test_the_served_context_defaults_are_the_commands(server, graph, context):
    """What Studio shows and an empty context gets: the defaults `fellowship judge` (jury, debate) runs with."""
    client = get_client(url=server)
    assistant = next(a for a in await client.assistants.search(graph_id=graph) if a["graph_id"] == graph)
    schema = (await client.assistants.get_schemas(assistant["assistant_id"]))["context_schema"]
    served = {name: field.get("default") for name, field in schema["properties"].items()}
    assert served == context().model_dump(mode="json")
    assert served["max_tokens"] == JUDGE_MAX_TOKENS
