"""`account current`, `hardware list` and `webhooks secret` against a respx-mocked API."""

from __future__ import annotations

import api_fixtures as fx
from rsh import TOKEN, mocked

from rshell.errors import AuthError


def test_account_current(api):
    route = api.get("/account").respond(200, json=fx.account())
    ran = mocked("account current")
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    assert ran.stdout.splitlines() == [
        "username: alice",
        "name:     Alice Example",
        "type:     user",
        "github:   https://github.com/alice",
    ]
    assert ran.data["username"] == "alice"


def test_account_with_a_refused_token_is_an_auth_error(api):
    api.get("/account").respond(401, json=fx.problem(401, "You did not pass a valid authentication token"))
    ran = mocked("a current")
    assert ran.code == 1 and isinstance(ran.error, AuthError)
    assert TOKEN not in " ".join(ran.error.lines()) + ran.stderr


def test_hardware_list_is_a_table_of_sku_and_name(api):
    api.get("/hardware").respond(200, json=fx.hardware_list())
    ran = mocked("hw list")
    lines = ran.stdout.splitlines()
    assert lines[0].split() == ["SKU", "NAME"]
    assert lines[1].split() == ["cpu", "CPU"]
    assert lines[2] == "gpu-t4          Nvidia T4 GPU"
    assert len(lines) == 1 + len(fx.hardware_list())
    assert ran.data[4] == {"name": "2x Nvidia H100 GPU", "sku": "gpu-2x-h100"}


def test_webhooks_secret_prints_the_signing_key(api):
    api.get("/webhooks/default/secret").respond(200, json={"key": "whsec_abc123"})
    ran = mocked("webhooks secret")
    assert ran.stdout == "whsec_abc123\n"
    assert ran.data == {"key": "whsec_abc123"}
