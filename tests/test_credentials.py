"""Token and base URL: REPLICATE_API_TOKEN, then the official Go CLI's hosts file
(YAML keyed by host name), written atomically with mode 0600."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

import pytest

from rshell.session.credentials import (
    config_path,
    delete_token,
    host_of,
    load_token,
    resolve_base_url,
    save_token,
    token_source,
)

API = "https://api.replicate.com/v1"
TOKEN = "r8_fake-credentialtesttoken"

# What the official Go CLI (gopkg.in/yaml.v3 Marshal of map[string]Host) writes.
GO_CLI_FILE = """\
api.replicate.com:
    token: r8_fake-fromthegocli
127.0.0.1:
    token: r8_localsandbox
"""


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home")}


def write_hosts(env: dict[str, str], text: str) -> Path:
    path = config_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_config_path_home_and_xdg(tmp_path: Path) -> None:
    assert config_path({"HOME": "/h/alice"}) == Path("/h/alice/.config/replicate/hosts")
    assert config_path({"HOME": "/h/alice", "XDG_CONFIG_HOME": "/x/cfg"}) == Path("/x/cfg/replicate/hosts")
    assert config_path({"HOME": "/h/alice", "XDG_CONFIG_HOME": ""}) == Path("/h/alice/.config/replicate/hosts")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "https://api.replicate.com/v1"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("https://api.replicate.com/v1/", "https://api.replicate.com/v1"),
    ],
)
def test_resolve_base_url(given: str | None, expected: str) -> None:
    env = {} if given is None else {"REPLICATE_BASE_URL": given}
    assert resolve_base_url(env) == expected


def test_host_of_is_the_hostname_like_the_go_cli() -> None:
    assert host_of("https://api.replicate.com/v1/") == "api.replicate.com"
    assert host_of("http://127.0.0.1:8000/v1") == "127.0.0.1"
    assert host_of("http://LOCALHOST:5000") == "localhost"


def test_env_token_wins_over_the_file(home: dict[str, str]) -> None:
    write_hosts(home, GO_CLI_FILE)
    env = {**home, "REPLICATE_API_TOKEN": f"  {TOKEN}\n"}
    assert load_token(API, env) == TOKEN
    assert token_source(API, env) == "REPLICATE_API_TOKEN"


def test_reads_a_file_written_by_the_go_cli_per_host(home: dict[str, str]) -> None:
    path = write_hosts(home, GO_CLI_FILE)
    assert load_token(API, home) == "r8_fake-fromthegocli"
    assert load_token("http://127.0.0.1:8000", home) == "r8_localsandbox"
    assert load_token("https://other.example", home) is None
    assert token_source(API, home) == str(path)
    assert token_source("https://other.example", home) is None


def test_no_file_no_token(home: dict[str, str]) -> None:
    assert load_token(API, home) is None
    assert token_source(API, home) is None


@pytest.mark.parametrize(
    "text",
    [
        "api.replicate.com: [unclosed\n",
        "- just\n- a list\n",
        "api.replicate.com: r8_bare_string\n",
        "api.replicate.com:\n    token: [1, 2]\n",
    ],
)
def test_malformed_file_is_set_aside_and_counts_as_empty(
    home: dict[str, str], text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_hosts(home, text)
    assert load_token(API, home) is None
    notice = capsys.readouterr().err
    assert notice.count("\n") == 1 and str(path) in notice and "r8_bare_string" not in notice
    (aside,) = path.parent.glob("hosts.bad-*")
    assert aside.read_text() == text and not path.exists()


def test_save_creates_0600_file_in_go_cli_format(home: dict[str, str]) -> None:
    path = save_token(TOKEN, API, home)
    assert path == config_path(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text() == f"api.replicate.com:\n    token: {TOKEN}\n"
    assert load_token(API, home) == TOKEN


def test_save_keeps_other_hosts_and_fields(home: dict[str, str]) -> None:
    write_hosts(home, GO_CLI_FILE.replace("token: r8_localsandbox", "token: r8_localsandbox\n    user: bob"))
    save_token(TOKEN, API, home)
    assert load_token(API, home) == TOKEN
    assert load_token("http://127.0.0.1:9", home) == "r8_localsandbox"
    assert "user: bob" in config_path(home).read_text()


def test_save_tightens_an_existing_world_readable_file(home: dict[str, str]) -> None:
    path = write_hosts(home, GO_CLI_FILE)
    path.chmod(0o644)
    save_token(TOKEN, API, home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_respects_xdg(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "h"), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    path = save_token(TOKEN, "http://127.0.0.1:8000/v1", env)
    assert path == tmp_path / "xdg" / "replicate" / "hosts"
    assert load_token("http://127.0.0.1:8000", env) == TOKEN


def test_save_is_never_world_readable_even_briefly(home: dict[str, str]) -> None:
    """Watch the directory while saving: every file that appears is already 0600."""
    directory = config_path(home).parent
    directory.mkdir(parents=True)
    seen_modes: set[int] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for entry in os.scandir(directory):
                with contextlib.suppress(FileNotFoundError):
                    seen_modes.add(stat.S_IMODE(entry.stat().st_mode))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for n in range(200):
            save_token(f"{TOKEN}{n}", API, home)
    finally:
        stop.set()
        watcher.join()
    assert seen_modes == {0o600}


def test_save_over_a_malformed_file_keeps_it_aside(home: dict[str, str]) -> None:
    path = write_hosts(home, "{{{ not yaml")
    save_token(TOKEN, API, home)
    (aside,) = path.parent.glob("hosts.bad-*")
    assert aside.read_text() == "{{{ not yaml"
    assert load_token(API, home) == TOKEN


def test_delete_token_removes_only_that_host(home: dict[str, str]) -> None:
    write_hosts(home, GO_CLI_FILE)
    assert delete_token(API, home) is True
    assert load_token(API, home) is None
    assert load_token("http://127.0.0.1:8000", home) == "r8_localsandbox"
    assert delete_token(API, home) is False
    assert stat.S_IMODE(config_path(home).stat().st_mode) == 0o600


def test_delete_without_a_file(home: dict[str, str]) -> None:
    assert delete_token(API, home) is False
    assert not config_path(home).exists()


def test_delete_last_host_leaves_a_file_the_go_cli_reads_as_empty(home: dict[str, str]) -> None:
    save_token(TOKEN, API, home)
    assert delete_token(API, home) is True
    assert config_path(home).read_text() == "{}\n"
    assert load_token(API, home) is None


def test_no_temp_files_left_behind(home: dict[str, str]) -> None:
    save_token(TOKEN, API, home)
    delete_token(API, home)
    assert [p.name for p in config_path(home).parent.iterdir()] == ["hosts"]
