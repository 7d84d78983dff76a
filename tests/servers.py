"""Test doubles of servers, on loopback: an OpenAI-compatible chat server that answers from a script."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

Reply = Callable[[dict[str, Any]], "str | tuple[str, list[dict[str, Any]]]"]
"""The reply's text, or its text and its tokens' log-probabilities (OpenAI's `logprobs.content`)."""


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: object) -> None:
        pass


def instant_reply(body: dict[str, Any]) -> str:
    """Two sources and a judge that answer at once: the judge (the request with a system prompt) gives A 8 and B 3; a
    source answers with its request's seed, so two sources' answers differ and every prompt is judged."""
    if body["messages"][0]["role"] == "system":
        return "A answers it.\n### Score Assistant A: 8/10\n### Score Assistant B: 3/10"
    return f"An answer of a dozen words or so, written at once (seed {body.get('seed')})."


def send_json(handler: BaseHTTPRequestHandler, status: int, data: bytes, content_type: str = "application/json") -> None:
    """One response, JSON unless told otherwise: status, headers, body (also used by the benchmarks' counting proxy)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class ScriptedOpenAIServer:
    """A test double of an OpenAI-compatible server: records request bodies, answers from `reply(body)`.

    `owned_by` is what its model listing says; `refuse` names a request field it answers
    with HTTP 400, as a server does with a constraint it does not take; `latency` seconds
    pass before each answer, as for a model that takes its time; `extras(path, body)` answers
    any other POST path (tokenizer endpoints), or None for a 404; a request for which `fails(body)`
    is true gets HTTP 400, which clients do not retry; `content_type` is the type its JSON answers are sent as.
    """

    def __init__(self, reply: Reply, owned_by: str = "someone", refuse: str | None = None, latency: float = 0.0,
                 keep_requests: bool = True, usage: Callable[[dict[str, Any], str], tuple[int, int]] | None = None,
                 extras: Callable[[str, dict[str, Any]], dict[str, Any] | None] | None = None,
                 fails: Callable[[dict[str, Any]], bool] | None = None, content_type: str = "application/json") -> None:
        self.reply, self.owned_by, self.refuse, self.latency, self.extras = reply, owned_by, refuse, latency, extras
        self.fails, self.content_type = fails, content_type
        self.paths: list[str] = [] if keep_requests else _Discard()
        self.usage = usage or (lambda body, text: (10, 5))  # (prompt, completion) tokens it reports for a request
        # Without keep_requests nothing is recorded: a long run then measures its client, not this double.
        self.bodies: list[dict[str, Any]] = [] if keep_requests else _Discard()
        self.keys: list[str | None] = [] if keep_requests else _Discard()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                send_json(self, status, json.dumps(payload).encode(), server.content_type)

            def do_GET(self) -> None:  # noqa: N802
                self._send(200, {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": server.owned_by}]})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.bodies.append(body)
                server.keys.append(self.headers.get("Authorization"))
                server.paths.append(self.path)
                if not self.path.endswith("/chat/completions"):
                    extra = server.extras(self.path, body) if server.extras else None
                    self._send(200 if extra is not None else 404, extra or {"detail": "Not Found"})
                    return
                if server.refuse and server.refuse in body:
                    self._send(400, {"error": {"message": f"{server.refuse} is not supported", "type": "invalid_request_error"}})
                    return
                if server.fails and server.fails(body):
                    self._send(400, {"error": {"message": "scripted failure", "type": "invalid_request_error"}})
                    return
                if server.latency:
                    time.sleep(server.latency)
                answer = server.reply(body)
                text, logprobs = answer if isinstance(answer, tuple) else (answer, None)
                choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                if logprobs is not None:
                    choice["logprobs"] = {"content": logprobs, "refusal": None}
                self._send(200, {
                    "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [choice],
                    "usage": dict(zip(("prompt_tokens", "completion_tokens", "total_tokens"),
                                      (*(counted := server.usage(body, text)), sum(counted)))),
                })

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


S = TypeVar("S", bound=ScriptedOpenAIServer)


@contextmanager
def serving(server: S) -> Iterator[S]:
    """The server answering on loopback for the block's duration."""
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def scripted_server(reply: Reply, **kwargs: Any) -> AbstractContextManager[ScriptedOpenAIServer]:
    return serving(ScriptedOpenAIServer(reply, **kwargs))


class _BurstServer(ThreadingHTTPServer):
    request_queue_size = 1024  # the default backlog of 5 resets connections under a burst
    daemon_threads = True


@contextmanager
def instant_server_process() -> Iterator[str]:
    """`instant_reply` served from a process of its own (keeping no request): its base URL. Measurements of the client
    then see neither the server's threads nor its allocations, and the server runs on another core."""
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen([sys.executable, "-m", "tests.servers"], stdout=subprocess.PIPE, text=True, cwd=root)
    try:
        assert server.stdout is not None
        yield f"http://127.0.0.1:{int(server.stdout.readline())}/v1"
    finally:
        server.kill()
        server.wait()


class FaultyOpenAIServer(ScriptedOpenAIServer):
    """A test double of an OpenAI-compatible server that fails in one way while `failing` is set:
    `500`, `429` (with `Retry-After: 1`), `429-bare` (without it), `bad-json` (a 200 with a broken body),
    `drop` (the connection closed without an answer), `hang` (no answer for `hang` seconds), `html` (a 200 with a
    proxy's web page), `error-object` (a 200 whose JSON is an error, not a completion)."""

    def __init__(self, reply: Reply, fault: str, hang: float = 5.0, **kwargs: Any) -> None:
        super().__init__(reply, **kwargs)
        self.fault, self.hang, self.failing, self.failures = fault, hang, True, 0
        server = self
        ok_handler = self.httpd.RequestHandlerClass

        class Handler(ok_handler):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:  # noqa: N802
                if not server.failing:
                    return super().do_POST()
                server.failures += 1
                self.rfile.read(int(self.headers["Content-Length"]))
                if server.fault in ("500", "429", "429-bare"):
                    status = 500 if server.fault == "500" else 429
                    self.send_response(status)
                    if server.fault == "429":
                        self.send_header("Retry-After", "1")
                    body = b'{"error": {"message": "scripted failure"}}'
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif server.fault == "bad-json":
                    send_json(self, 200, b'{"id": "x", "choices": [{"mess')
                elif server.fault == "html":
                    send_json(self, 200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                elif server.fault == "error-object":
                    send_json(self, 200, b'{"object": "error", "message": "the model is still loading"}')
                elif server.fault == "drop":
                    self.connection.shutdown(2)
                    self.close_connection = True
                elif server.fault == "hang":
                    time.sleep(server.hang)

        self.httpd.RequestHandlerClass = Handler


def faulty_server(reply: Reply, fault: str, **kwargs: Any) -> AbstractContextManager[FaultyOpenAIServer]:
    return serving(FaultyOpenAIServer(reply, fault, **kwargs))


if __name__ == "__main__":  # `instant_server_process`: serve until killed, the port on the first line
    _script = ScriptedOpenAIServer(instant_reply, keep_requests=False)
    _script.httpd.server_close()  # its handler is served by a server with a longer backlog
    _httpd = _BurstServer(("127.0.0.1", 0), _script.httpd.RequestHandlerClass)
    print(_httpd.server_address[1], flush=True)
    _httpd.serve_forever()
