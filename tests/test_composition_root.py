"""Issue 17 item 3: one composition root. Every entry (`-c`, argv one-shots, `--complete`)
builds the client, the session and the `--local` sandbox the same way, so what a
session runs it also completes, and every command sees the lazily started sandbox.

In this process, through `cli.main(args, env)` (`rsh.rshell_main`): nothing here needs
a real process."""

from __future__ import annotations

from pathlib import Path

import pytest
from rsh import rshell_main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home, config, data and cache; no token, no base URL."""
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "RSHELL_DATA_DIR"):
        path = tmp_path / name.lower()
        path.mkdir()
        monkeypatch.setenv(name, str(path))
    for name in ("REPLICATE_API_TOKEN", "REPLICATE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_local_auth_login_as_the_first_statement_reaches_the_sandbox(home: Path) -> None:
    from rshell.sandbox.catalog import TOKEN

    done = rshell_main("--local", "auth", "login", "--token-stdin", stdin=TOKEN + "\n")
    assert done.code == 0, done.stderr
    assert "cannot reach" not in done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_a_session_alias_completes_as_it_runs(sandbox, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_BASE_URL", sandbox.url)
    monkeypatch.setenv("REPLICATE_API_TOKEN", sandbox.token)
    made = rshell_main("--session", "s", "-c", "alias e='run rshell/echo'; e text=hi")
    assert made.code == 0, made.stderr
    done = rshell_main("--session", "s", "--complete", "e te")
    assert done.code == 0, done.stderr
    assert any(line.split("\t")[0] == "text=" for line in done.stdout.splitlines()), done.stdout
