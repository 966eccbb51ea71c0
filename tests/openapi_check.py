"""Check a sandbox response against the official OpenAPI description.

`check_response` finds the operation by method and path template, then validates the
body against the documented schema for that status (OpenAPI 3.0 `nullable` turned
into JSON Schema's null type, dates and URIs format-checked). A status the spec does
not list for the operation must be an error (>= 400) in problem+json shape. Wired
into an httpx response hook, so no response escapes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlparse

import httpx
import jsonschema

from rshell import openapi

SPEC_PATH = openapi.PATH  # the project's derived copy of the official description
PROBLEM = {
    "type": "object",
    "required": ["detail", "status", "title"],
    "properties": {
        "detail": {"type": "string", "minLength": 1},
        "status": {"type": "integer"},
        "title": {"type": "string"},
    },
}


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return openapi.json_schema(json.loads(SPEC_PATH.read_text("utf-8")))


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern[str], str]]:
    found = []
    for template in spec()["paths"]:
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        found.append((re.compile(f"^/v1{pattern}$"), template))
    return found


def operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The spec's (template, operation) for a request, or None if undocumented."""
    for pattern, template in _templates():
        if pattern.match(path):
            op = spec()["paths"][template].get(method.lower())
            if op is not None:
                return template, op
    return None


def _formats() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if isinstance(value, str):
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlparse(value)
        return bool(parts.scheme and parts.netloc)

    return checker


def validate(instance: Any, schema: dict[str, Any]) -> None:
    root = {**schema, "components": spec()["components"]}
    jsonschema.Draft7Validator(root, format_checker=_formats()).validate(instance)


def check_response(response: httpx.Response) -> None:
    """Raise AssertionError unless the response matches the spec for its operation."""
    request = response.request
    if request.method == "OPTIONS":
        return  # not an API operation: the sandbox answers it with the path's Allow
    path = request.url.path
    if path.startswith("/v1/v1/"):
        path = path[3:]  # the server serves the doubled prefix the official client makes
    if not path.startswith("/v1/"):
        return  # delivery URLs and web pages are the sandbox's own, not the API's
    status = response.status_code
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    found = operation(request.method, path)
    if path.endswith("/stream") and request.method == "GET":
        assert status != 200 or content_type == "text/event-stream", content_type
        found = None  # the SSE endpoint is not in the spec; its frames are tested directly
        if status == 200:
            return
    documented = found[1]["responses"].get(str(status)) if found else None
    if documented is None:
        assert found is None or status >= 400, f"{request.method} {path}: status {status} is not in the spec"
        assert content_type == "application/problem+json", f"{status} sent as {content_type}"
        validate(response.json(), PROBLEM)
        return
    contents = documented.get("content")
    if not contents and status >= 400:
        # documented without a body (readme 404): our errors still carry problem+json
        assert content_type == "application/problem+json", f"{status} sent as {content_type}"
        validate(response.json(), PROBLEM)
        return
    if not contents:
        assert response.content in (b"", b"null"), f"{request.method} {path} {status} must be empty"
        return
    if "application/octet-stream" in contents or "text/plain" in contents:
        assert content_type in contents, f"{request.method} {path}: {content_type} not in {list(contents)}"
        return
    media = next(iter(contents.values()))
    assert content_type in ("application/json", "application/problem+json"), content_type
    validate(response.json(), media["schema"])


def hook(response: httpx.Response) -> None:
    """An httpx response event hook: read the body (unless SSE) and check it."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        check_response(response)
        return
    response.read()
    check_response(response)


def spec_observer(mismatches: list[str]) -> Callable[..., None]:
    """An observer for `sandbox.server.start(observe=…)` that records each response
    the spec does not allow (the server thread must not raise)."""

    def observe(method: str, path: str, query: bytes, status: int, headers: list, body: bytes) -> None:
        # the path as sent on the wire: a fuzzer's control characters must not break the URL
        url = "http://sandbox" + quote(path, safe="/%:@!$&'()*+,;=~") + (f"?{query.decode('latin-1')}" if query else "")
        try:
            response = httpx.Response(status, headers=headers, content=body, request=httpx.Request(method, url))
            check_response(response)
        except Exception as error:  # any failure is a mismatch to report
            mismatches.append(f"{method} {path} -> {status}: {type(error).__name__}: {error}"[:400])

    return observe
