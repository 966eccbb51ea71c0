"""`account current`, `hardware list` and `webhooks secret` against a respx-mocked API."""

from __future__ import annotations

import api_fixtures as fx
import pytest
import respx
from handler_support import BASE, TOKEN, Harness

from rshell.errors import AuthError


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def test_account_current(api):
    route = api.get("/account").respond(200, json=fx.account())
    result = Harness().run("account current")
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    assert result.text.splitlines() == [
        "username: alice",
        "name:     Alice Example",
        "type:     user",
        "github:   https://github.com/alice",
    ]
    assert result.data["username"] == "alice"


def test_account_with_a_refused_token_is_an_auth_error(api):
    api.get("/account").respond(401, json=fx.problem(401, "You did not pass a valid authentication token"))
    with pytest.raises(AuthError) as caught:
        Harness().run("a current")
    assert TOKEN not in " ".join(caught.value.lines())


def test_hardware_list_is_a_table_of_sku_and_name(api):
    api.get("/hardware").respond(200, json=fx.hardware_list())
    result = Harness().run("hw list")
    lines = result.text.splitlines()
    assert lines[0].split() == ["SKU", "NAME"]
    assert lines[1].split() == ["cpu", "CPU"]
    assert lines[2] == "gpu-t4          Nvidia T4 GPU"
    assert len(lines) == 1 + len(fx.hardware_list())
    assert result.data[4] == {"name": "2x Nvidia H100 GPU", "sku": "gpu-2x-h100"}


def test_webhooks_secret_prints_the_signing_key(api):
    api.get("/webhooks/default/secret").respond(200, json={"key": "whsec_abc123"})
    result = Harness().run("webhooks secret")
    assert result.text == "whsec_abc123"
    assert result.data == {"key": "whsec_abc123"}
