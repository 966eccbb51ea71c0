"""`--dry-run`: print the requests a script would send instead of sending them.

A transport under the shared client: reads go through to the real API when a token
is set (so schemas still validate inputs), or are refused when not; file uploads are
printed and answered with a placeholder URL so the statement can show the request
that would follow; any other request that changes something is printed, then the
statement stops with DryRunStop.
"""

from __future__ import annotations

import json
from typing import IO

import httpx

from rshell.errors import DryRunStop

_READS = {"GET", "QUERY", "HEAD"}


class DryRunTransport(httpx.AsyncBaseTransport):
    def __init__(self, stdout: IO[str], inner: httpx.AsyncBaseTransport | None) -> None:
        self.stdout = stdout
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in _READS:
            if self.inner is None:
                return _refused(request)
            return await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/files"):
            return self._fake_upload(request)
        self._print(request)
        raise DryRunStop()

    def _print(self, request: httpx.Request, note: str = "") -> None:
        line = f"{request.method} {request.url}"
        body = _body(request)
        self.stdout.write(line + (f" {body}" if body else "") + (f"  # {note}" if note else "") + "\n")
        self.stdout.flush()

    def _fake_upload(self, request: httpx.Request) -> httpx.Response:
        """Answer a Files API upload with a placeholder, without reading the file."""
        self._print(request, "file upload")
        placeholder = "https://dry-run.invalid/files/upload"
        body = {
            "id": "dry-run",
            "urls": {"get": placeholder},
            "content_type": "application/octet-stream",
            "size": 0,
            "checksums": {},
            "metadata": {},
            "created_at": "1970-01-01T00:00:00Z",
            "expires_at": "1970-01-01T00:00:00Z",
        }
        return httpx.Response(201, json=body, request=request)


def _refused(request: httpx.Request) -> httpx.Response:
    """Without a token a dry run reads nothing: a 401 is not retried, and handlers
    then carry on without the schema (inputs go unvalidated)."""
    problem = {"title": "Unauthenticated", "detail": "no token, so nothing was read", "status": 401}
    return httpx.Response(401, json=problem, headers={"content-type": "application/problem+json"}, request=request)


def _body(request: httpx.Request) -> str:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        return ""
    try:
        raw = request.content
    except httpx.RequestNotRead:
        return ""
    if not raw:
        return ""
    try:
        return json.dumps(json.loads(raw), separators=(",", ":"))
    except ValueError:
        return raw.decode(errors="replace")[:200]
