"""A small stdlib HTTP server on 127.0.0.1 that answers what a test scripts, however hostile.

The real sandbox is well behaved by design; this one is for "nothing a server sends is
trusted" (SPEC 8): ids that are paths, control characters in logs, bodies of hundreds
of megabytes, JSON nested beyond any parser's stack, streams that go silent.

A test builds a scenario table mapping `"METHOD /path"` (the path without its query
string) to a `Reply`, or to a function of the `Request` returning one, then points
rshell at `server.url` (it ends in `/v1`) with `server.token`:

    with HostileServer({"GET /v1/account": reply_json({"username": "x"})}) as server:
        ...  # REPLICATE_BASE_URL=server.url REPLICATE_API_TOKEN=server.token

`server.route(key, reply)` adds or replaces a scenario while it runs; `server.requests`
records every request (method, path, headers, body) in arrival order, so a test can
assert what was (or was not) sent. An unrouted request gets a 404 problem+json.

A `Reply` body is bytes, or an iterable of byte chunks sent as they are produced
(chunked unless `length` is given), so a body far larger than memory costs the server
nothing. `pause` is a `threading.Event` to wait on before the body (a silent server);
`stop()` sets it so no handler thread outlives the test; `hang_up()` reads the
request and closes the connection unanswered (a create whose answer was lost).
`in_turn(a, b, …)` answers a route's replies one after the other, the last one again
and again (a run polled to its end, a 429 then a 200); `silent_stream(server, …)` sends
some SSE events and then nothing until the server stops (a stream gone silent).
The builders below make the common hostile shapes; add new ones here so every test
can share them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rsh import Outcome

TOKEN = "r8_fake-hostile-server-token-0123456789"
MiB = 1 << 20


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    length: int | None = None  # Content-Length for a streamed body; None sends it chunked
    pause: threading.Event | None = None  # wait for this before sending the body
    hang_up: bool = False  # read the request, then close the connection without a word


Scenario = Reply | Callable[[Request], Reply]


class HostileServer:
    """ThreadingHTTPServer on 127.0.0.1:0 in a daemon thread; see the module docstring."""

    def __init__(self, routes: dict[str, Scenario] | None = None, token: str = TOKEN) -> None:
        self.routes: dict[str, Scenario] = dict(routes or {})
        self.token = token
        self.requests: list[Request] = []
        self.released = threading.Event()  # set by stop(): paused replies go on
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hostile-server", daemon=True)
        host, port = self._httpd.server_address[:2]
        self.root = f"http://{host}:{port}"
        self.url = self.root + "/v1"

    def route(self, key: str, scenario: Scenario) -> None:
        with self._lock:
            self.routes[key] = scenario

    def reply_for(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            scenario = self.routes.get(f"{request.method} {request.path}")
        if scenario is None:
            return reply_json({"title": "Not found", "detail": f"no scenario for {request.method} {request.path}"}, 404)
        return scenario(request) if callable(scenario) else scenario

    def paths(self, method: str | None = None) -> list[str]:
        """The paths requested so far (of one method if given), in order."""
        return [r.path for r in list(self.requests) if method is None or r.method == method]

    def count(self, method: str, path: str) -> int:
        """How many times `METHOD path` was asked for."""
        return self.paths(method).count(path)

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_for(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size) if size else b""
            request = Request(self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body)
            reply = server.reply_for(request)
            if reply.hang_up:  # the request arrived; its answer is lost on the way back
                self.close_connection = True
                return
            try:
                self._send(reply, server.released)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (as it should on a huge body)

        def _send(self, reply: Reply, released: threading.Event) -> None:
            self.send_response(reply.status)
            headers = {k.lower(): v for k, v in reply.headers.items()}
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if isinstance(reply.body, bytes):
                if "content-length" not in headers:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self._wait(reply, released)
                self.wfile.write(reply.body)
                return
            chunked = reply.length is None
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            elif "content-length" not in headers:
                self.send_header("Content-Length", str(reply.length))
            self.end_headers()
            self.wfile.flush()
            self._wait(reply, released)
            for chunk in reply.body:
                if not chunk:
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                self.wfile.flush()
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.close_connection = True

        @staticmethod
        def _wait(reply: Reply, released: threading.Event) -> None:
            if reply.pause is not None:
                while not (reply.pause.wait(0.05) or released.is_set()):
                    pass

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_QUERY = _serve

    return Handler


# -- builders for the common scenarios -------------------------------------------------


def reply_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    content_type = "application/problem+json" if status >= 400 else "application/json"
    return Reply(status, {"Content-Type": content_type, **(headers or {})}, json.dumps(data).encode())


def reply_text(text: str, status: int = 200, content_type: str = "text/plain") -> Reply:
    return Reply(status, {"Content-Type": content_type}, text.encode())


def hang_up() -> Reply:
    """Take the request, answer nothing, close the connection: a lost answer."""
    return Reply(hang_up=True)


def in_turn(*replies: Reply) -> Scenario:
    """A scenario answering `replies` in order, the last one for every later request."""
    left = list(replies)
    lock = threading.Lock()

    def next_reply(request: Request) -> Reply:
        with lock:
            return left.pop(0) if len(left) > 1 else left[0]

    return next_reply


def silent_stream(server: HostileServer, *events: bytes) -> Scenario:
    """An SSE stream that sends `events`, then goes silent with the connection open
    until the server stops (each request gets a fresh stream)."""

    def body() -> Iterator[bytes]:
        yield from events
        server.released.wait()

    return lambda request: Reply(200, {"Content-Type": "text/event-stream"}, body())


def huge_json(size: int, *, chunk: int = MiB, declare_length: bool = False) -> Reply:
    """A valid JSON object of `size` bytes (`{"pad":"xxxx…"}`), produced chunk by chunk."""

    def chunks() -> Iterator[bytes]:
        head, tail = b'{"pad":"', b'"}'
        yield head
        left = size - len(head) - len(tail)
        block = b"x" * chunk
        while left > 0:
            piece = block[: min(chunk, left)]
            left -= len(piece)
            yield piece
        yield tail

    return Reply(200, {"Content-Type": "application/json"}, chunks(), length=size if declare_length else None)


def deep_json(depth: int, status: int = 200) -> Reply:
    """`[[[[…]]]]` nested `depth` deep: valid JSON no recursive parser survives."""
    return Reply(status, {"Content-Type": "application/json"}, b"[" * depth + b"]" * depth)


def prediction(
    id: str = "hostile1", status: str = "succeeded", output: Any = None, logs: str = "", **fields: Any
) -> dict[str, Any]:
    """A prediction object as the official spec shapes it, with whatever id and output."""
    base = "http://127.0.0.1/v1/predictions/" + id
    return {
        "id": id,
        "model": "hostile/model",
        "version": "hostile-version",
        "input": {},
        "logs": logs,
        "output": output,
        "data_removed": False,
        "error": None,
        "status": status,
        "created_at": "2026-01-01T00:00:00.000Z",
        "started_at": "2026-01-01T00:00:00.100Z",
        "completed_at": "2026-01-01T00:00:01.000Z" if status in ("succeeded", "failed", "canceled") else None,
        "urls": {"get": base, "cancel": base + "/cancel", "web": "https://replicate.com/p/" + id},
        "metrics": {"predict_time": 0.9},
        **fields,
    }


def model(owner: str = "hostile", name: str = "model", **fields: Any) -> dict[str, Any]:
    """A model without versions (an official model: run by name, no schema needed)."""
    return {
        "url": f"https://replicate.com/{owner}/{name}",
        "owner": owner,
        "name": name,
        "description": "",
        "visibility": "public",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": 0,
        "cover_image_url": None,
        "default_example": None,
        "latest_version": None,
        **fields,
    }


# -- driving rshell against it -----------------------------------------------------------


def rshell_env(server: HostileServer, home: Path, **extra: str) -> dict[str, str]:
    """The environment of an rshell process aimed at `server`, with a private home."""
    from processes import private_env

    base = {"REPLICATE_BASE_URL": server.url, "REPLICATE_API_TOKEN": server.token}
    base["RSHELL_DATA_DIR"] = str(home / "rshell-data")
    return private_env(home, **{**base, **extra})  # a test's own token, base URL, … win


def run_rshell(
    server: HostileServer, *args: str, cwd: Path, home: Path | None = None, stdin: str = "", **env: str
) -> Outcome:
    """`rshell ARGS…` in `cwd` against `server`, the way a user runs it: through the
    composition root `cli.main` in this process, with the environment `rshell_env` gives
    a process (a test that needs a real process uses `rshell_env` with its own)."""
    from rsh import rshell_main

    return rshell_main(*args, stdin=stdin, env=rshell_env(server, home or cwd, **env), cwd=cwd)
