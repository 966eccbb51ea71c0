"""Start the sandbox: in a background thread (`start`, for `--local` and tests) or in
the foreground (`serve`, for `rshell serve`).

We bind the listening socket ourselves before uvicorn runs, so the port (even port 0)
is known up front: output file URLs need it, and `start` can return the URL at once.
"""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rshell.sandbox.catalog import TOKEN
from rshell.sandbox.core import Sandbox

STARTUP_TIMEOUT = 15.0


class SandboxHandle:
    """A running sandbox: `.url` (ends in /v1), `.token`, `.stop()`; a context manager."""

    def __init__(
        self, server: Any, thread: threading.Thread, sandbox: Sandbox, sock: socket.socket, temp_dir: Path | None
    ) -> None:
        self._server = server
        self._thread = thread
        self._sock = sock
        self._temp_dir = temp_dir
        self.sandbox = sandbox
        self.root = sandbox.origin  # the URL without /v1, for clients that add it themselves
        self.url = sandbox.origin + "/v1"
        self.token = TOKEN
        self.data_dir = sandbox.store.root

    def stop(self) -> None:
        """Stop serving, stop the workers, and remove a temporary data directory."""
        self.sandbox.release_waiters()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.sandbox.close()
        self._sock.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def builtin_predictors() -> dict[str, Any]:
    """The models engineer's registry of built-in models."""
    from rshell.sandbox.predictors import BUILTIN

    return dict(BUILTIN)


def cog_predictors(cogs: dict[str, str] | None) -> dict[str, Any]:
    """One predictor per `--cog NAME=URL`."""
    if not cogs:
        return {}
    from rshell.sandbox.cog import CogPredictor

    return {name: CogPredictor(url, name) for name, url in cogs.items()}


def _bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio turns on TCP_NODELAY only for sockets that say
    # so, and without it Nagle's algorithm adds ~40 ms to every keep-alive response.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _origin(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


# observe(method, path, query, status, headers, body) for every complete response
Observer = Callable[[str, str, bytes, int, list[tuple[bytes, bytes]], bytes], None]


class _Observed:
    """ASGI wrapper handing each complete response to an observer; event streams,
    which never complete as one body, pass untouched."""

    def __init__(self, app: Any, observe: Observer) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body" and not _is_stream(start):
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    self.observe(
                        scope["method"],
                        scope["path"],
                        scope.get("query_string", b""),
                        start["status"],
                        list(start.get("headers", [])),
                        b"".join(chunks),
                    )
            await send(message)

        await self.app(scope, receive, capture)


def _is_stream(start: dict[str, Any]) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(b"text/event-stream") for k, v in start.get("headers", []))


def _make(
    data_dir: Path,
    host: str,
    port: int,
    cogs: dict[str, str] | None,
    rate_limit: float | None,
    max_file_size: int,
    predictors: dict[str, Any] | None,
    workers: int,
    observe: Observer | None = None,
) -> tuple[Any, Sandbox, socket.socket]:
    import uvicorn

    from rshell.sandbox.app import build_app

    registry = dict(builtin_predictors() if predictors is None else predictors)
    registry.update(cog_predictors(cogs))
    sandbox = Sandbox(data_dir, registry, max_file_size=max_file_size, workers=workers)
    sock = _bind(host, port)
    sandbox.set_origin(_origin(host, sock))
    app = build_app(sandbox, rate_limit)
    config = uvicorn.Config(
        _Observed(app, observe) if observe else app,
        log_level="warning",
        log_config=None,  # its default dictConfig closes every log handler of the process that starts it
        access_log=False,
        http="h11",
        lifespan="off",
        timeout_graceful_shutdown=1,
        ws="none",
    )
    return _server_class()(config, sandbox), sandbox, sock


def _server_class() -> type:
    """uvicorn's Server, releasing held waits when Ctrl-C or SIGTERM stops it."""
    import uvicorn

    class SandboxServer(uvicorn.Server):
        def __init__(self, config: Any, sandbox: Sandbox) -> None:
            super().__init__(config)
            self.sandbox = sandbox

        def handle_exit(self, sig: int, frame: Any) -> None:
            self.sandbox.release_waiters()
            super().handle_exit(sig, frame)

    return SandboxServer


def start(
    data_dir: Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    cogs: dict[str, str] | None = None,
    rate_limit: float | None = None,
    max_file_size: int = 100 * 2**20,
    predictors: dict[str, Any] | None = None,
    workers: int = 4,
    observe: Observer | None = None,
) -> SandboxHandle:
    """Run a sandbox in a background thread; returns once it accepts connections.

    `predictors` replaces the built-in models (tests use small fakes); `data_dir=None`
    means a temporary directory removed by `stop()`; `observe` sees every complete
    response the server sends (the test suite checks each against the official spec).
    """
    temp_dir = None
    if data_dir is None:
        temp_dir = data_dir = Path(tempfile.mkdtemp(prefix="rshell-sandbox-"))
    server, sandbox, sock = _make(
        Path(data_dir), host, port, cogs, rate_limit, max_file_size, predictors, workers, observe
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="rshell-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sandbox.close()
            sock.close()
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    return SandboxHandle(server, thread, sandbox, sock, temp_dir)


def default_data_dir() -> Path:
    """Where `rshell serve` keeps state when no --data is given."""
    import platformdirs

    return Path(platformdirs.user_data_dir("rshell")) / "sandbox"


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: Path | None = None,
    cogs: dict[str, str] | None = None,
    rate_limit: float | None = None,
) -> None:
    """Run a sandbox in the foreground until interrupted (`rshell serve`)."""
    server, sandbox, sock = _make(
        Path(data_dir or default_data_dir()), host, port, cogs, rate_limit, 100 * 2**20, None, 4
    )
    print(f"sandbox listening on {sandbox.origin}/v1", file=sys.stderr, flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sandbox.close()
        sock.close()
