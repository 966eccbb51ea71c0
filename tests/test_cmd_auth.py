"""`auth login|logout|status` with a temporary config directory and a mocked API.

The token must never appear in anything printed, returned or raised.
"""

from __future__ import annotations

import asyncio
import io
import stat

import api_fixtures as fx
import pytest
import respx
import yaml
from handler_support import BASE, TOKEN, Harness

from rshell.client.api import ReplicateClient
from rshell.commands.context import Environment
from rshell.errors import AuthError, UsageError
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.session.state import Session

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


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def everything_said(h: Harness, result=None, error=None) -> str:
    parts = [h.stdout.getvalue(), h.err]
    if result is not None:
        parts += [h.printed(result), repr(result.data)]
    if error is not None:
        parts += error.lines()
    return "\n".join(parts)


def test_login_with_token_stdin_checks_then_saves_with_mode_0600(api, config):
    route = api.get("/account").respond(200, json=fx.account())
    h = Harness(extra={"stdin": io.StringIO(NEW_TOKEN + "\n")})
    result = h.run("auth login --token-stdin")
    assert route.calls.last.request.headers["authorization"] == f"Bearer {NEW_TOKEN}"
    assert result.text == f"logged in as alice (token saved to {config})"
    assert yaml.safe_load(config.read_text()) == {HOST: {"token": NEW_TOKEN}}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert NEW_TOKEN not in everything_said(h, result)


def test_login_on_a_terminal_asks_with_hidden_input(api, config):
    api.get("/account").respond(200, json=fx.account())
    prompts: list[str] = []

    def read_secret(prompt: str) -> str:
        prompts.append(prompt)
        return NEW_TOKEN

    h = Harness(extra={"stdin": FakeTty(), "read_secret": read_secret})
    result = h.run("auth login")
    assert prompts and "hidden" in prompts[0]
    assert yaml.safe_load(config.read_text())[HOST]["token"] == NEW_TOKEN
    assert NEW_TOKEN not in everything_said(h, result)


def test_login_keeps_other_hosts_entries(api, config):
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump({"other.example": {"token": "r8_other"}}))
    api.get("/account").respond(200, json=fx.account())
    Harness(extra={"stdin": io.StringIO(NEW_TOKEN)}).run("auth login --token-stdin")
    assert yaml.safe_load(config.read_text()) == {"other.example": {"token": "r8_other"}, HOST: {"token": NEW_TOKEN}}


def test_a_refused_token_is_not_saved(api, config):
    api.get("/account").respond(401, json=fx.problem(401, "You did not pass a valid authentication token"))
    h = Harness(extra={"stdin": io.StringIO(NEW_TOKEN + "\n")})
    with pytest.raises(AuthError) as caught:
        h.run("auth login --token-stdin")
    assert "refused" in caught.value.message and "nothing was saved" in caught.value.message
    assert not config.exists()
    assert NEW_TOKEN not in everything_said(h, error=caught.value)


def test_login_without_a_terminal_or_token_stdin_is_a_usage_error(api, config):
    h = Harness(extra={"stdin": io.StringIO(NEW_TOKEN)})
    with pytest.raises(UsageError) as caught:
        h.run("auth login")
    assert "--token-stdin" in (caught.value.hint or "")
    assert api.calls.call_count == 0


@pytest.mark.parametrize("text", ["", "\n", "two words\n"])
def test_an_empty_or_malformed_token_sends_nothing(api, config, text):
    with pytest.raises(UsageError) as caught:
        Harness(extra={"stdin": io.StringIO(text)}).run("auth login --token-stdin")
    assert api.calls.call_count == 0
    assert "words" not in caught.value.message  # the typed text is never echoed back


def test_login_through_the_executor_prints_no_token(api, config):
    api.get("/account").respond(200, json=fx.account())
    stdout, stderr = io.StringIO(), io.StringIO()
    executor = Executor(
        Session(),
        Output(stdout, stderr, json_mode=False),
        lambda: ReplicateClient(None, BASE),
        base_url=BASE,
        env=Environment(stdin=io.StringIO(NEW_TOKEN + "\n"), make_client=lambda token: ReplicateClient(token, BASE)),
    )

    async def go() -> int:
        try:
            return await executor.run_text("auth login --token-stdin")
        finally:
            await executor.aclose()

    assert asyncio.run(go()) == 0
    assert "logged in as alice" in stdout.getvalue()
    assert NEW_TOKEN not in stdout.getvalue() + stderr.getvalue()
    assert yaml.safe_load(config.read_text())[HOST]["token"] == NEW_TOKEN


def test_logout_removes_the_saved_token(api, config):
    api.get("/account").respond(200, json=fx.account())
    Harness(extra={"stdin": io.StringIO(NEW_TOKEN)}).run("auth login --token-stdin")
    result = Harness().run("auth logout")
    assert result.text == "logged out: removed the saved token"
    assert HOST not in (yaml.safe_load(config.read_text()) or {})
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert Harness().run("auth logout").text == "no saved token to remove"
    assert api.calls.call_count == 1  # logout never talks to the API


def test_logout_says_when_the_environment_still_sets_a_token(config, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", NEW_TOKEN)
    result = Harness().run("auth logout")
    assert result.text.splitlines()[-1] == "a token is still set by REPLICATE_API_TOKEN"
    assert NEW_TOKEN not in result.text


def test_status_names_the_account_and_the_source(api, config, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    api.get("/account").respond(200, json=fx.account())
    h = Harness()
    result = h.run("auth status")
    assert result.text == f"logged in to {BASE} as alice (token from REPLICATE_API_TOKEN)"
    assert TOKEN not in everything_said(h, result)


def test_status_with_a_saved_token_names_the_file(api, config):
    config.parent.mkdir(parents=True)
    config.write_text(yaml.safe_dump({HOST: {"token": TOKEN}}))
    api.get("/account").respond(200, json=fx.account())
    assert Harness().run("auth status").text.endswith(f"(token from {config})")


def test_status_without_a_token_says_how_to_log_in(api, config):
    with pytest.raises(AuthError) as caught:
        Harness().run("auth status")
    assert "auth login" in (caught.value.hint or "")
    assert api.calls.call_count == 0


def test_status_with_a_refused_token(api, config, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    api.get("/account").respond(401, json=fx.problem(401, "Invalid token"))
    h = Harness()
    with pytest.raises(AuthError) as caught:
        h.run("auth status")
    assert "REPLICATE_API_TOKEN" in caught.value.message
    assert TOKEN not in everything_said(h, error=caught.value)
