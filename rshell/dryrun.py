"""`--dry-run`: print the requests a script would send instead of sending them.

A transport under the shared client: reads go through to the real API when a token
is set (so schemas still validate inputs), or are refused when not; file uploads are
printed and answered with a placeholder URL so the statement can show the request
that would follow; any other request that changes something is printed, then the
statement stops with DryRunStop.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import IO, TYPE_CHECKING, Any, TypeVar

import httpx

from rshell.errors import ApiError, AuthError, DryRunStop, NetworkError

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.commands.context import Context

T = TypeVar("T")
DRY_RUN_VERSION = "LATEST"  # stands in for a version a dry run could not look up

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


def dry_run_client(
    make: Callable[[str, httpx.AsyncBaseTransport], ReplicateClient], stdout: IO[str], token: str | None
) -> ReplicateClient:
    """The client of a dry run, built by `make(token, transport)`: mutations printed on
    `stdout`; reads sent only when there is a token to send them with. The entry
    point and the tests build it here, so both exercise the same one."""
    inner = httpx.AsyncHTTPTransport() if token else None
    return make(token or "<no token>", DryRunTransport(stdout, inner))


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


# -- what a stopped statement binds ---------------------------------------------------


def placeholder_run(label: str, stop: DryRunStop) -> dict[str, Any]:
    """The run a dry-run statement binds: its output shaped as the schema says (one
    URL, a list, text, an object), each leaf naming where it stands in."""
    where = f"{label}.output"
    if stop.output_schema is None:
        output: Any = [f"<{where}[0]>"]
    elif stop.text_output:
        output = [f"<{where}>"]  # streamed text: one token, inserted joined
    else:
        output = _shaped(stop.output_schema, where, 0)
    return {"id": f"dry-run-{label}", "status": "dry-run", "output": output, "urls": {}}


def _shaped(schema: Any, where: str, depth: int) -> Any:
    schema = schema if isinstance(schema, dict) else {}
    kind = schema.get("type")
    if depth > 8:
        return f"<{where}>"
    if kind == "array":
        return [_shaped(schema.get("items"), f"{where}[0]", depth + 1)]
    if kind == "object" and isinstance(schema.get("properties"), dict):
        return {key: _shaped(prop, f"{where}.{key}", depth + 1) for key, prop in schema["properties"].items()}
    return {"integer": 0, "number": 0, "boolean": False}.get(str(kind), f"<{where}>")


NOT_VALIDATED = "inputs not validated"  # what --dry-run says when a schema could not be fetched


async def unless_dry_run(ctx: Context, read: Awaitable[T], stand_in: T, skipped: str = "not looked up") -> T:
    """A look-up a command needs before its write: in --dry-run one that fails (no
    token, or a model the script creates first) gives `stand_in`, so the write that
    follows is still shown; `skipped` says what went without it."""
    try:
        return await read
    except (AuthError, NetworkError, ApiError) as exc:
        if not ctx.dry_run:
            raise
        ctx.out.info(f"{skipped}: {exc.message}")
        return stand_in
