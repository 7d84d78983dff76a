"""LangSmith tracing from the standard LANGSMITH_* variables, captured by a loopback server."""

from __future__ import annotations

import email
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fellowship.fileio.pairs import Pair
from fellowship.graphs.evaluate import debate_pair
from fellowship.models import register_model
from fellowship.state.debate import DebateContext
from tests.fakes import ScriptedChatModel
from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration
SECRET = "lsv2-test-secret-key-0123456789"


class Capture(BaseHTTPRequestHandler):
    bodies: list[bytes] = []
    runs: dict[str, dict] = {}
    errors: list[str] = []
    keys: list[str | None] = []

    def log_message(self, *args) -> None:  # noqa: D102 - silence the default stderr log
        pass

    def _reply(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._reply({"version": "0.0-test", "batch_ingest_config": {"use_multipart_endpoint": True}})

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Capture.bodies.append(body)
        Capture.keys.append(self.headers.get("x-api-key"))
        self._reply({})
        try:
            self._record(body)
        except Exception as exc:  # noqa: BLE001 - reported by the test, never a hung client
            Capture.errors.append(f"{self.path}: {type(exc).__name__}: {exc}")

    def _record(self, body: bytes) -> None:
        if self.path.endswith("/runs/multipart"):
            message = email.message_from_bytes(b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
            for part in message.get_payload():
                name = part.get_param("name", header="content-disposition")
                verb, run_id, *field = name.split(".")
                value = json.loads(part.get_payload(decode=True))
                run = Capture.runs.setdefault(run_id, {})
                if field:
                    run[field[0]] = value
                else:
                    run.update(value)
        elif self.command == "POST" and self.path.rstrip("/").endswith("/runs"):
            run = json.loads(body)
            Capture.runs.setdefault(str(run["id"]), {}).update(run)
        elif self.command == "PATCH" and "/runs/" in self.path:
            Capture.runs.setdefault(self.path.rsplit("/", 1)[-1], {}).update(json.loads(body))
        elif self.path.endswith("/runs/batch"):
            data = json.loads(body)
            for run in data.get("post", []) + data.get("patch", []):
                Capture.runs.setdefault(str(run["id"]), {}).update(run)

    do_PATCH = do_POST


@pytest.fixture
def langsmith(monkeypatch):
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Capture.bodies.clear()
    Capture.runs.clear()
    Capture.errors.clear()
    Capture.keys.clear()
    for key, value in {"LANGSMITH_TRACING": "true", "LANGSMITH_ENDPOINT": f"http://127.0.0.1:{port}",
                       "LANGSMITH_API_KEY": SECRET, "LANGSMITH_PROJECT": "fellowship-tests",
                       "LANGSMITH_DISABLE_RUN_COMPRESSION": "true", "OPENAI_API_KEY": "sk-should-never-appear"}.items():
        monkeypatch.setenv(key, value)
    import langsmith
    import langsmith.run_trees as rt
    import langsmith.utils

    langsmith.utils.get_env_var.cache_clear()
    # The client the tracers share, built from the environment alone; it sends each run as it
    # ends rather than from a batching thread, which pytest's event loop does not keep alive.
    client = langsmith.Client(auto_batch_tracing=False)
    monkeypatch.setattr(rt, "_CLIENT", client)
    Capture.client = client
    yield Capture
    from langchain_core.tracers.langchain import wait_for_all_tracers

    wait_for_all_tracers()
    server.shutdown()
    langsmith.utils.get_env_var.cache_clear()


async def test_debate_trace_tree_names_tags_metadata_and_no_secrets(langsmith):
    from langchain_core.tracers.langchain import wait_for_all_tracers

    finals = "Score Assistant 1: 7/10\nScore Assistant 2: 3/10"
    register_model("trace:fake", ScriptedChatModel(script=lambda m: finals if "discussion is over" in m[-1].text else "A is right."))
    try:
        verdict = await debate_pair(Pair(id="item-42", question="2+2?", response_a="4", response_b="5"),
                                    DebateContext(model="trace:fake", rounds=1), thread_id="thread-7")
    finally:
        register_model("trace:fake", None)
    assert verdict.verdict == "A"
    wait_for_all_tracers()

    assert langsmith.errors == []
    runs = langsmith.runs
    roots = [r for r in runs.values() if r.get("name") == "debate" and not r.get("parent_run_id")]
    assert len(roots) == 1
    root = roots[0]
    assert "graph:debate" in root["tags"] and "model:trace:fake" in root["tags"] and "rounds:1" in root["tags"]
    assert root["extra"]["metadata"]["item_id"] == "item-42" and root["extra"]["metadata"]["thread_id"] == "thread-7"

    def ancestors(run: dict) -> list[str]:
        chain = []
        while run.get("parent_run_id"):
            run = runs[str(run["parent_run_id"])]
            chain.append(run["name"])
        return chain

    by_name: dict[str, list[dict]] = {}
    for run in runs.values():
        by_name.setdefault(run.get("name", ""), []).append(run)
    for node in ("open_debate", "referee_turn", "closing_score", "conclude"):
        assert by_name.get(node), f"no run for node {node}"
        assert all(ancestors(r)[-1] == "debate" for r in by_name[node])
    llm_runs = [r for r in runs.values() if r.get("run_type") == "llm"]
    assert len(llm_runs) == 6  # 3 turns + 3 closing scores
    assert all({"referee_turn", "closing_score"} & set(ancestors(r)) for r in llm_runs)
    assert all(r["extra"]["metadata"].get("langgraph_node") in {"referee_turn", "closing_score"} for r in llm_runs)

    everything = b"".join(langsmith.bodies)
    assert SECRET.encode() not in everything and b"sk-should-never-appear" not in everything
    assert set(langsmith.keys) == {SECRET}  # the key travels only in the auth header
