"""`auth login|logout|status` with a temporary config directory and a mocked API.

The token must never appear in anything printed, returned or raised.
"""

from __future__ import annotations

import io
import stat

import api_fixtures as fx
import pytest
import yaml
from rsh import BASE, TOKEN, Outcome, mocked, rsh

from rshell.client.api import ReplicateClient
from rshell.commands.context import Environment
from rshell.errors import AuthError, UsageError

NEW_TOKEN = "r8_fake-brandnewtokenbrandnewtoken"
HOST = "api.replicate.com"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    return tmp_path / "replicate" / "hosts"


def stdin(text: str) -> Environment:
    return Environment(stdin=io.StringIO(text))


def everything_said(ran: Outcome) -> str:
    """Printed, bound and reported: where a token must never be."""
    parts = [ran.stdout, ran.stderr, repr(ran.data)]
    for error in ran.errors:
        parts += error.lines()
    return "\n".join(parts)


def test_login_with_token_stdin_checks_then_saves_with_mode_0600(api, config):
    route = api.get("/account").respond(200, json=fx.account())
    ran = mocked("auth login --token-stdin", env=stdin(NEW_TOKEN + "\n"))
    assert route.calls.last.request.headers["authorization"] == f"Bearer {NEW_TOKEN}"
    assert ran.stdout == f"logged in as alice (token saved to {config})\n"
    assert yaml.safe_load(config.read_text()) == {HOST: {"token": NEW_TOKEN}}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert NEW_TOKEN not in everything_said(ran)


def test_login_on_a_terminal_asks_with_hidden_input(api, config):
    api.get("/account").respond(200, json=fx.account())
    prompts: list[str] = []

    def read_secret(prompt: str) -> str:
        prompts.append(prompt)
        return NEW_TOKEN

    ran = mocked("auth login", env=Environment(stdin=FakeTty(), read_secret=read_secret))
    assert prompts and "hidden" in prompts[0]
    assert yaml.safe_load(config.read_text())[HOST]["token"] == NEW_TOKEN
    assert NEW_TOKEN not in everything_said(ran)


def test_login_keeps_other_hosts_entries(api, config):
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump({"other.example": {"token": "r8_other"}}))
    api.get("/account").respond(200, json=fx.account())
    assert mocked("auth login --token-stdin", env=stdin(NEW_TOKEN)).code == 0
    assert yaml.safe_load(config.read_text()) == {"other.example": {"token": "r8_other"}, HOST: {"token": NEW_TOKEN}}


def test_a_refused_token_is_not_saved(api, config):
    api.get("/account").respond(401, json=fx.problem(401, "You did not pass a valid authentication token"))
    ran = mocked("auth login --token-stdin", env=stdin(NEW_TOKEN + "\n"))
    assert ran.code == 1 and isinstance(ran.error, AuthError)
    assert "refused" in ran.error.message and "nothing was saved" in ran.error.message
    assert not config.exists()
    assert NEW_TOKEN not in everything_said(ran)


def test_login_without_a_terminal_or_token_stdin_is_a_usage_error(api, config):
    ran = mocked("auth login", env=stdin(NEW_TOKEN))
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "--token-stdin" in (ran.error.hint or "")
    assert api.calls.call_count == 0


@pytest.mark.parametrize("text", ["", "\n", "two words\n"])
def test_an_empty_or_malformed_token_sends_nothing(api, config, text):
    ran = mocked("auth login --token-stdin", env=stdin(text))
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert api.calls.call_count == 0
    assert "words" not in ran.error.message  # the typed text is never echoed back


def test_login_through_the_executor_prints_no_token(api, config):
    api.get("/account").respond(200, json=fx.account())
    env = Environment(stdin=io.StringIO(NEW_TOKEN + "\n"), make_client=lambda token: ReplicateClient(token, BASE))
    ran = rsh("auth login --token-stdin", api=(BASE, None), env=env, json_mode=False)
    assert ran.code == 0
    assert "logged in as alice" in ran.stdout
    assert NEW_TOKEN not in everything_said(ran)
    assert yaml.safe_load(config.read_text())[HOST]["token"] == NEW_TOKEN


def test_logout_removes_the_saved_token(api, config):
    api.get("/account").respond(200, json=fx.account())
    assert mocked("auth login --token-stdin", env=stdin(NEW_TOKEN)).code == 0
    ran = mocked("auth logout")
    assert ran.stdout == "logged out: removed the saved token\n"
    assert HOST not in (yaml.safe_load(config.read_text()) or {})
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert mocked("auth logout").stdout == "no saved token to remove\n"
    assert api.calls.call_count == 1  # logout never talks to the API


def test_logout_says_when_the_environment_still_sets_a_token(config, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", NEW_TOKEN)
    ran = mocked("auth logout")
    assert ran.stdout.splitlines()[-1] == "a token is still set by REPLICATE_API_TOKEN"
    assert NEW_TOKEN not in ran.stdout


def test_status_names_the_account_and_the_source(api, config, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    api.get("/account").respond(200, json=fx.account())
    ran = mocked("auth status")
    assert ran.stdout == f"logged in to {BASE} as alice (token from REPLICATE_API_TOKEN)\n"
    assert TOKEN not in everything_said(ran)


def test_status_with_a_saved_token_names_the_file(api, config):
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump({HOST: {"token": TOKEN}}))
    api.get("/account").respond(200, json=fx.account())
    assert mocked("auth status").stdout.endswith(f"(token from {config})\n")


def test_status_without_a_token_says_how_to_log_in(api, config):
    ran = mocked("auth status")
    assert ran.code == 1 and isinstance(ran.error, AuthError)
    assert "auth login" in (ran.error.hint or "")
    assert api.calls.call_count == 0


def test_status_with_a_refused_token(api, config, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    api.get("/account").respond(401, json=fx.problem(401, "Invalid token"))
    ran = mocked("auth status")
    assert ran.code == 1 and isinstance(ran.error, AuthError)
    assert "REPLICATE_API_TOKEN" in ran.error.message
    assert TOKEN not in everything_said(ran)
