"""Entry points and coverage: every operation of the official spec has a route;
`serve` runs in the foreground and announces itself; `start` is a context manager."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import subprocess
import sys
import time

import httpx
from openapi_check import SPEC_PATH

from rshell.sandbox.app import ROUTES
from rshell.sandbox.server import start


def _spec_operations() -> set[tuple[str, str]]:
    spec = json.loads(SPEC_PATH.read_text("utf-8"))
    verbs = {"get", "post", "put", "patch", "delete", "query"}
    return {(method.upper(), "/v1" + path) for path, ops in spec["paths"].items() for method in ops if method in verbs}


def test_every_operation_of_the_spec_is_routed():
    operations = _spec_operations()
    assert len(operations) == 37  # the spec file holds 37 (SPEC.md's "36" predates QUERY /models)
    routed = set()
    for route in ROUTES:
        template = re.sub(r"\{(\w+)\}", "{}", route.path)
        for method in route.methods or ():
            routed.add((method, template))
    missing = {(m, p) for m, p in operations if (m, re.sub(r"\{(\w+)\}", "{}", p)) not in routed}
    assert missing == set()


def test_every_operation_answers_something_other_than_404_or_405(sandbox):
    """Hit each documented path with junk ids: only a 404 *problem naming a thing* or a
    real answer is acceptable, never 'no such endpoint' or 'method not allowed'."""
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    for method, path in sorted(_spec_operations()):
        url = sandbox.root + re.sub(r"\{\w+\}", "x", path)
        response = httpx.request(method, url, headers=headers, content=b"")
        body = response.json() if "json" in response.headers.get("content-type", "") else None
        detail = body.get("detail", "") if isinstance(body, dict) else ""
        assert response.status_code != 405, (method, path)
        assert not detail.startswith("no such endpoint"), (method, path)


def test_start_is_a_context_manager_and_stop_frees_the_port(tmp_path):
    with start(tmp_path / "d", predictors={}) as handle:
        assert handle.url.endswith("/v1") and handle.token == "rshell-sandbox"
        assert httpx.get(handle.url + "/hardware", headers={"Authorization": "Bearer t"}).status_code == 200
    try:
        httpx.get(handle.url + "/hardware", timeout=1)
        raise AssertionError("the server still answers after stop()")
    except httpx.ConnectError:
        pass


def test_serve_announces_its_url_and_keeps_state_in_the_data_dir(tmp_path):
    code = (
        "import sys; from pathlib import Path; from rshell.sandbox.server import serve; "
        "serve('127.0.0.1', 0, Path(sys.argv[1]))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "data")], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline().strip()
        match = re.fullmatch(r"sandbox listening on (http://127\.0\.0\.1:\d+/v1)", line)
        assert match, line
        url = match.group(1)
        headers = {"Authorization": "Bearer t"}
        end = time.monotonic() + 10
        while True:
            try:
                created = httpx.post(
                    url + "/models",
                    headers=headers,
                    json={"owner": "sandbox", "name": "kept", "visibility": "private", "hardware": "cpu"},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < end
                time.sleep(0.05)
        assert created.status_code == 201
        assert httpx.get(url + "/models/rshell/echo", headers=headers).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "sandbox.db")) as db:
        assert db.execute("SELECT key FROM records WHERE kind = 'models'").fetchall() == [("sandbox/kept",)]


def test_accepted_connections_get_tcp_nodelay(tmp_path):
    """asyncio sets TCP_NODELAY only on sockets created as IPPROTO_TCP; without it every
    keep-alive response waited ~40 ms for a delayed ACK (Nagle)."""
    import socket

    from rshell.sandbox.server import _bind

    listener = _bind("127.0.0.1", 0)
    try:
        client = socket.create_connection(listener.getsockname())
        listener.setblocking(True)
        accepted, _ = listener.accept()
        assert accepted.proto == socket.IPPROTO_TCP
        accepted.close()
        client.close()
    finally:
        listener.close()
