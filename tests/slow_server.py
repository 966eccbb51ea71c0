"""A tiny scripted HTTP server on 127.0.0.1 (stdlib only) for waits that must be bounded:
streams that go silent, statuses nobody knows, Retry-After far in the future.

    with SlowServer() as server:
        server.script("POST", "/v1/predictions", Reply(201, body={...}))
        server.script("GET", "/v1/predictions/p1", Reply(200, body=a), Reply(200, body=b))
        ... ReplicateClient(TOKEN, server.url) ...
    server.calls  # [("POST", "/v1/predictions"), ("GET", "/v1/predictions/p1"), ...]

Each (method, path) answers its replies in turn, the last one again and again. A
body is JSON (dict or list), bytes, or a list of byte chunks where `HOLD` means
"send nothing more until the server stops" (a silent stream). Unscripted requests
get a problem+json 404.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD = object()  # in a chunk list: go silent, keep the connection open


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class SlowServer:
    def __init__(self) -> None:
        self._scripts: dict[tuple[str, str], list[Reply]] = {}
        self.calls: list[tuple[str, str]] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return self.root + "/v1"

    def script(self, method: str, path: str, *replies: Reply) -> None:
        self._scripts[(method, path)] = list(replies)

    def count(self, method: str, path: str) -> int:
        with self._lock:
            return self.calls.count((method, path))

    def _next(self, method: str, path: str) -> Reply:
        with self._lock:
            self.calls.append((method, path))
            replies = self._scripts.get((method, path))
            if not replies:
                return Reply(404, {"status": 404, "title": "Not found", "detail": f"{method} {path} is not scripted"})
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def __enter__(self) -> SlowServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the body ends when the connection closes

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                reply = server._next(self.command, self.path.split("?", 1)[0])
                self.send_response(reply.status)
                chunks = _chunks(reply)
                headers = {"Content-Type": _content_type(reply), **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                for chunk in chunks:
                    if chunk is HOLD:
                        server.stopping.wait()
                        return
                    self.wfile.write(chunk)
                    self.wfile.flush()

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

        return Handler


def _chunks(reply: Reply) -> list[Any]:
    if isinstance(reply.body, (dict, list)) and not (isinstance(reply.body, list) and _is_chunks(reply.body)):
        return [json.dumps(reply.body).encode()]
    if isinstance(reply.body, bytes):
        return [reply.body]
    if reply.body is None:
        return []
    return list(reply.body)


def _is_chunks(body: list[Any]) -> bool:
    return bool(body) and all(isinstance(c, bytes) or c is HOLD for c in body)


def _content_type(reply: Reply) -> str:
    if isinstance(reply.body, list) and _is_chunks(reply.body):
        return "text/event-stream"
    if reply.status >= 400:
        return "application/problem+json"
    return "application/json"
