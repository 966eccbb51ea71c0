"""Issue 9 item 3: no value holding the token is written to any file, and error
details are scrubbed of it in any case, but only when it is long enough to be real.

rshell runs for real (`python -m rshell`) against tests/hostile_server.py, with a
token that does not look like Replicate's (so only knowing the token in use can
catch it) and with Replicate-shaped ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hostile_server import TOKEN, HostileServer, Reply, Request, model, prediction, reply_json, run_rshell

from rshell.client.problems import scrub
from rshell.session.secrets import REDACTED, redact

PLAIN_TOKEN = "plain-looking-secret-4f9a2c"  # not r8_…: no pattern can spot it


def _echoing(server: HostileServer) -> None:
    """A model whose predictions echo their input back (as Replicate's do)."""

    def create(request: Request) -> Reply:
        body = json.loads(request.body)
        return reply_json(prediction("p1", input=body["input"], output="done"), 201)

    server.route("GET /v1/models/hostile/model", reply_json(model()))
    server.route("POST /v1/models/hostile/model/predictions", create)


def _session_file(home: Path, name: str, server: HostileServer) -> Path:
    """The old JSON file of a session against `server` (sessions are kept per API host)."""
    from rshell.client.urls import scope_of

    return home / "rshell-data" / "sessions" / scope_of(server.url) / f"{name}.json"


def _stored_bytes(home: Path, server: HostileServer) -> str:
    """Everything the sessions folder of `server` holds on disk (the database, its WAL)."""
    folder = _session_file(home, "x", server).parent
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file()).decode("latin-1")


def _stored(home: Path, name: str, server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    from rshell.client.urls import scope_of
    from rshell.session.store import load_session

    monkeypatch.setenv("RSHELL_DATA_DIR", str(home / "rshell-data"))
    return load_session(name, scope_of(server.url))


@pytest.mark.parametrize("token", [PLAIN_TOKEN, TOKEN])
def test_a_bound_result_is_stored_with_the_token_redacted(
    hostile: HostileServer, tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _echoing(hostile)
    statements = f"y = run hostile/model text={token.upper() if token == PLAIN_TOKEN else token} other=kept"
    done = run_rshell(hostile, "--session", "s", "-c", statements, cwd=tmp_path, REPLICATE_API_TOKEN=token)
    assert done.code == 0, done.stderr
    assert token.lower() not in _stored_bytes(tmp_path, hostile).lower()
    stored = _stored(tmp_path, "s", hostile, monkeypatch)
    assert stored.variables["y"]["input"] == {"text": REDACTED, "other": "kept"}
    assert stored.last["input"]["text"] == REDACTED


def test_an_alias_holding_the_token_is_refused_and_never_saved(hostile: HostileServer, tmp_path: Path) -> None:
    script = tmp_path / "out.rsh"
    statements = f"alias ok='run hostile/model'; alias leak='run hostile/model text={PLAIN_TOKEN}'"
    done = run_rshell(hostile, "--session", "s", "-c", statements, cwd=tmp_path, REPLICATE_API_TOKEN=PLAIN_TOKEN)
    assert done.code == 2
    assert "would hold the API token" in done.stderr and PLAIN_TOKEN not in done.stderr
    assert hostile.requests == []
    again = run_rshell(hostile, "--session", "s", "-c", f"save {script}", cwd=tmp_path, REPLICATE_API_TOKEN=PLAIN_TOKEN)
    assert again.code == 0, again.stderr
    assert "alias ok=" in script.read_text() and "leak" not in script.read_text()
    assert PLAIN_TOKEN not in _stored_bytes(tmp_path, hostile)


def test_save_leaves_out_a_secret_alias_from_an_older_session_file(hostile: HostileServer, tmp_path: Path) -> None:
    """A session written before the refusal existed must not leak through `save FILE`."""
    path = _session_file(tmp_path, "old", hostile)
    path.parent.mkdir(parents=True)
    aliases = {"ok": "run hostile/model", "leak": f"run hostile/model text={PLAIN_TOKEN}"}
    path.write_text(json.dumps({"aliases": aliases, "statements": [f"run hostile/model t={PLAIN_TOKEN}"]}))
    script = tmp_path / "out.rsh"
    done = run_rshell(
        hostile, "--session", "old", "-c", f"save {script}", cwd=tmp_path, REPLICATE_API_TOKEN=PLAIN_TOKEN
    )
    assert done.code == 0, done.stderr
    assert PLAIN_TOKEN not in script.read_text() and "alias ok=" in script.read_text()
    assert not path.exists() and PLAIN_TOKEN not in _stored_bytes(tmp_path, hostile)  # migrated, without it


def test_a_token_echoed_in_another_case_is_scrubbed_from_errors(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.route("GET /v1/account", reply_json({"detail": f"bad token {PLAIN_TOKEN.upper()} for you"}, 403))
    done = run_rshell(hostile, "account", "current", cwd=tmp_path, REPLICATE_API_TOKEN=PLAIN_TOKEN)
    assert done.code == 1
    assert PLAIN_TOKEN.lower() not in (done.stderr + done.stdout).lower()
    assert "bad token *** for you" in done.stderr


def test_a_token_too_short_to_be_real_does_not_mangle_messages(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.route("GET /v1/account", reply_json({"detail": "the account is suspended"}, 403))
    done = run_rshell(hostile, "account", "current", cwd=tmp_path, REPLICATE_API_TOKEN="s")
    assert done.code == 1
    assert "the account is suspended" in done.stderr


def test_scrub_and_redact_units() -> None:
    assert scrub(f"a {PLAIN_TOKEN} b {PLAIN_TOKEN.upper()}", PLAIN_TOKEN) == "a *** b ***"
    assert scrub("aaa", "a") == "aaa"
    assert scrub("x", None) == "x"
    data = {"k": [f"pre {PLAIN_TOKEN} post", 3, None], f"key {TOKEN}": True}
    assert redact(data, [PLAIN_TOKEN]) == {"k": [f"pre {REDACTED} post", 3, None], f"key {REDACTED}": True}
    assert redact({"short": "a s b"}, ["s"]) == {"short": "a s b"}
