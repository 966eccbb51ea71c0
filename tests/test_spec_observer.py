"""The suite-wide guarantee: every response the sandbox fixture sends is spec-checked."""

from __future__ import annotations

import httpx
from openapi_check import spec_observer


def test_the_observer_sees_every_complete_response_and_skips_streams() -> None:
    from rshell.sandbox.server import start

    seen: list[tuple[str, str, int]] = []
    handle = start(observe=lambda method, path, query, status, headers, body: seen.append((method, path, status)))
    try:
        headers = {"Authorization": f"Bearer {handle.token}"}
        httpx.get(f"{handle.url}/account", headers=headers)
        httpx.get(f"{handle.url}/account")  # 401
        created = httpx.post(
            f"{handle.url}/models/rshell/echo/predictions",
            json={"input": {"text": "hi"}},
            headers={**headers, "Prefer": "wait"},
        ).json()
        with httpx.stream("GET", created["urls"]["get"] + "/stream") as stream:
            stream.read()
    finally:
        handle.stop()
    assert ("GET", "/v1/account", 200) in seen and ("GET", "/v1/account", 401) in seen
    assert ("POST", "/v1/models/rshell/echo/predictions", 201) in seen
    assert not [s for s in seen if s[1].endswith("/stream")]


def test_the_checker_reports_a_body_that_breaks_the_spec() -> None:
    mismatches: list[str] = []
    observe = spec_observer(mismatches)
    json_type = [(b"content-type", b"application/json")]
    observe("GET", "/v1/hardware", b"", 200, json_type, b'[{"name": "CPU", "sku": "cpu"}]')
    assert mismatches == []
    observe("GET", "/v1/hardware", b"", 200, json_type, b'[{"name": 5}]')
    observe("GET", "/v1/account", b"", 500, json_type, b"oops")
    assert len(mismatches) == 2 and mismatches[0].startswith("GET /v1/hardware -> 200")
