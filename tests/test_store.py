"""Session persistence and history: the shared database, reload, secrets kept out."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from rshell.errors import UsageError
from rshell.session import secrets, store
from rshell.session.state import Session

TOKEN = "r8_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RSHELL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_paths_follow_rshell_data_dir(data_dir: Path) -> None:
    assert store.sessions_dir() == data_dir / "sessions"
    assert store.history_path() == data_dir / "history"
    assert store.session_path("work") == data_dir / "sessions" / "work.json"


def test_xdg_data_home_is_respected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RSHELL_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert store.history_path() == tmp_path / "xdg" / "rshell" / "history"


def test_missing_session_is_fresh() -> None:
    session = store.load_session("new")
    assert session.name == "new"
    assert session.variables == {} and session.statements == []
    assert session.options["editing_mode"] == "emacs"


def test_save_and_reload_round_trip() -> None:
    session = Session(name="work")
    session.bind("img", {"id": "p1", "output": ["https://x/1.png"], "status": "succeeded"})
    session.bind(None, {"id": "p2"})
    session.aliases["sdxl"] = "run stability-ai/sdxl"
    session.set_option("editing_mode", "vi")
    session.statements += ["img = run a/b prompt=x", "show img.output[0]"]
    session.in_flight["p3"] = "a/b"
    session.last_status = "succeeded"
    store.save_session(session)

    again = store.load_session("work")
    assert again.variables == {"img": {"id": "p1", "output": ["https://x/1.png"], "status": "succeeded"}}
    assert again.last == {"id": "p2"}
    assert again.aliases == {"sdxl": "run stability-ai/sdxl"}
    assert again.options["editing_mode"] == "vi"
    assert again.statements == ["img = run a/b prompt=x", "show img.output[0]"]
    # the process's own state is not persisted
    assert again.in_flight == {} and again.last_status is None


def _on_disk(data_dir: Path) -> str:
    """Every byte the sessions folder holds (the database and its WAL), as text."""
    folder = data_dir / "sessions"
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file()).decode("latin-1")


def test_save_is_one_private_database(data_dir: Path) -> None:
    session = Session(name="s")
    session.bind("a", 1)
    store.save_session(session)
    session.bind("b", 2)
    store.save_session(session)
    files = sorted(p.name for p in (data_dir / "sessions").iterdir())
    assert files == ["sessions.db"]  # no temp files left behind (the WAL goes with the last close)
    path = data_dir / "sessions" / "sessions.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.load_session("s").variables == {"a": 1, "b": 2}


def test_secret_statements_are_never_saved(data_dir: Path) -> None:
    session = Session(name="s")
    session.statements += ["run a/b x=1", f"auth login {TOKEN}", "!export REPLICATE_API_TOKEN=abc"]
    store.save_session(session)
    text = _on_disk(data_dir)
    assert TOKEN not in text and "REPLICATE_API_TOKEN" not in text
    assert store.load_session("s").statements == ["run a/b x=1"]


def test_unserialisable_values_are_stored_as_text() -> None:
    session = Session(name="s")
    session.bind("when", object())
    store.save_session(session)
    assert isinstance(store.load_session("s").variables["when"], str)


def test_damaged_file_is_set_aside(data_dir: Path) -> None:
    (data_dir / "sessions").mkdir(parents=True)
    (data_dir / "sessions" / "bad.json").write_text("{not json")
    assert store.load_session("bad").variables == {}
    (aside,) = (data_dir / "sessions").glob("bad.json.bad-*")
    assert aside.read_text() == "{not json"


def test_unknown_options_in_file_are_dropped(data_dir: Path) -> None:
    (data_dir / "sessions").mkdir(parents=True)
    (data_dir / "sessions" / "o.json").write_text(json.dumps({"options": {"bogus": 1, "json": True}}))
    options = store.load_session("o").options
    assert "bogus" not in options and options["json"] is True


@pytest.mark.parametrize("name", ["../etc", "a/b", ".hidden", "", "x" * 80])
def test_session_names_cannot_escape(name: str) -> None:
    with pytest.raises(UsageError):
        store.session_path(name)


@pytest.mark.parametrize(
    "line",
    [
        f"auth login {TOKEN}",
        "auth login sometoken",
        "replicate auth login --token=abc",
        f"x = run a/b key={TOKEN}",
        "!export REPLICATE_API_TOKEN=abcdef",
        "REPLICATE_API_TOKEN = foo",
        "!curl -H 'Authorization: Bearer abcdefghijkl' https://x",
        "vars; auth login tok",
    ],
)
def test_secret_lines(line: str) -> None:
    assert secrets.is_secret(line)


@pytest.mark.parametrize(
    "line",
    [
        "auth login",
        "auth login --token-stdin",
        "auth status",
        "run r8/model prompt=hi",
        "run rshell/echo text='r8_'",
        "show REPLICATE_API_TOKEN",
        "run a/b prompt='a token of thanks'",
    ],
)
def test_harmless_lines(line: str) -> None:
    assert not secrets.is_secret(line)


def test_history_round_trip_multiline_and_secrets(data_dir: Path) -> None:
    assert store.append_history("run a/b x=1")
    assert store.append_history("run a/b \\\n  y=2")
    assert not store.append_history(f"auth login {TOKEN}")
    assert not store.append_history("   ")
    assert store.read_history() == ["run a/b x=1", "run a/b \\\n  y=2"]
    assert store.read_history(limit=1) == ["run a/b \\\n  y=2"]
    assert store.read_history(limit=0) == []
    assert TOKEN not in store.history_path().read_text()
    assert stat.S_IMODE(store.history_path().stat().st_mode) == 0o600


def test_read_history_hides_secrets_written_by_others(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    store.history_path().write_text(f"\n# t\n+vars\n\n# t\n+auth login {TOKEN}\n")
    assert store.read_history() == ["vars"]


def test_history_is_readable_by_prompt_toolkit(data_dir: Path) -> None:
    from prompt_toolkit.history import FileHistory

    store.append_history("first")
    store.append_history("second\nline")
    loaded = list(FileHistory(str(store.history_path())).load_history_strings())
    assert loaded == ["second\nline", "first"]  # newest first, as prompt-toolkit orders


def test_no_history_file_means_no_entries() -> None:
    assert store.read_history() == []
