"""Issue 9 item 5: a damaged session, cache or hosts file is set aside with a
one-line notice and the shell starts anyway, from empty (SPEC 8).

`python -m rshell` runs for real against tests/hostile_server.py, with the damaged
file in its private data, cache or config directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_server import HostileServer, reply_json, run_rshell

DEEP = b"[" * 200_000 + b"]" * 200_000
DAMAGED_SESSIONS = {
    "not UTF-8": b'{"variables": {"x": "\xff\xfe"}}',
    "nested too deeply": b'{"variables": {"x": ' + DEEP + b"}}",
    "'variables' has the wrong type": b'{"variables": [1, 2], "aliases": {"a": "run x/y"}}',
    "'aliases' has the wrong type": b'{"aliases": "run x/y"}',
    "an alias is not text": b'{"aliases": {"a": 5}}',
    "not JSON": b"{not json",
    "not a JSON object": b"[]",
}


def _notice(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "damaged" in line]


@pytest.mark.parametrize("why", list(DAMAGED_SESSIONS))
def test_a_damaged_session_is_set_aside_and_the_shell_starts(
    hostile: HostileServer, tmp_path: Path, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rshell.client.urls import scope_of
    from rshell.session import store

    sessions = tmp_path / "rshell-data" / "sessions" / scope_of(hostile.url)  # sessions are kept per API host
    sessions.mkdir(parents=True)
    (sessions / "s.json").write_bytes(DAMAGED_SESSIONS[why])
    done = run_rshell(hostile, "--session", "s", "-c", "alias fresh='run x/y'; vars", cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = _notice(done.stderr)
    assert why in line and "s.json" in line
    (aside,) = sessions.glob("s.json.bad-*")
    assert aside.read_bytes() == DAMAGED_SESSIONS[why]  # kept, not replaced
    monkeypatch.setenv("RSHELL_DATA_DIR", str(tmp_path / "rshell-data"))
    assert store.load_session("s", scope_of(hostile.url)).aliases == {"fresh": "run x/y"}  # a fresh session


def test_a_damaged_hosts_file_is_set_aside(hostile: HostileServer, tmp_path: Path) -> None:
    hosts = tmp_path / "config" / "replicate" / "hosts"
    hosts.parent.mkdir(parents=True)
    hosts.write_bytes(b"127.0.0.1:\n    token: [1, 2]\n")
    hostile.route("GET /v1/account", reply_json({"type": "user", "username": "x", "name": "X"}))
    done = run_rshell(hostile, "-c", "account current", cwd=tmp_path, REPLICATE_API_TOKEN="")
    assert done.code == 1  # no token left: the usual advice, not a traceback
    assert "no API token" in done.stderr and "Traceback" not in done.stderr
    (line,) = _notice(done.stderr)
    assert str(hosts) in line
    (aside,) = hosts.parent.glob("hosts.bad-*")
    assert aside.read_bytes() == b"127.0.0.1:\n    token: [1, 2]\n"


@pytest.mark.parametrize("content", [b"\xff\xfe{", DEEP, b'{"format": 1, "models": 5}', b"[1]"])
def test_a_damaged_completion_cache_is_set_aside(hostile: HostileServer, tmp_path: Path, content: bytes) -> None:
    from rshell.completion.cache import CompletionCache

    path = tmp_path / "completion.json"
    path.write_bytes(content)
    cache = CompletionCache(path)
    assert cache.load() is False
    assert cache.models == {} and cache.model_pool == ()
    (aside,) = tmp_path.glob("completion.json.bad-*")
    assert aside.read_bytes() == content and not path.exists()
