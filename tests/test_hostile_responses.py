"""Issue 9 item 7: a response too large or too deep to parse is a one-line API error
(exit 1), not gigabytes of memory or `internal error: RecursionError`.

`python -m rshell` runs for real against tests/hostile_server.py.
"""

from __future__ import annotations

from pathlib import Path

from hostile_server import HostileServer, MiB, deep_json, huge_json, run_rshell

from rshell.client.api import MAX_JSON_BYTES


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_a_body_past_the_limit_is_refused_while_streaming(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.route("GET /v1/account", huge_json(MAX_JSON_BYTES + 8 * MiB))
    done = run_rshell(hostile, "account", "current", cwd=tmp_path)
    assert done.code == 1
    (line,) = _errors(done.stderr)
    assert "response too large" in line and "Traceback" not in done.stderr


def test_a_declared_length_past_the_limit_is_refused_before_reading(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.route("GET /v1/account", huge_json(MAX_JSON_BYTES + 1, declare_length=True))
    done = run_rshell(hostile, "account", "current", cwd=tmp_path)
    assert done.code == 1
    assert "response too large" in done.stderr


def test_json_nested_too_deeply_is_a_one_line_api_error(hostile: HostileServer, tmp_path: Path) -> None:
    hostile.route("GET /v1/account", deep_json(200_000))
    done = run_rshell(hostile, "account", "current", cwd=tmp_path)
    assert done.code == 1
    (line,) = _errors(done.stderr)
    assert "nested too deeply" in line and "internal error" not in done.stderr
