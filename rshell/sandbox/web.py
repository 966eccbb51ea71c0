"""Small helpers every request handler uses: the sandbox, the origin, bodies, replies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rshell.sandbox.problems import Problem

if TYPE_CHECKING:
    from rshell.sandbox.core import Sandbox


def sandbox(request: Request) -> Sandbox:
    return request.app.state.sandbox


def origin(request: Request) -> str:
    """Scheme, host and port the client used (URLs in answers point back there)."""
    return f"{request.url.scheme}://{request.url.netloc}"


async def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON object body, checked at the edge (see `edge.json_body`)."""
    from rshell.sandbox.edge import json_body

    return await json_body(request)


def reply(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def empty(status: int) -> Response:
    return Response(status_code=status)


def param(request: Request, name: str) -> str:
    return str(request.path_params[name])


def expect_string(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """A string field of a body, or a 422 naming it."""
    value = body.get(name)
    if value is None:
        if required:
            raise Problem(422, f"{name}: field is required")
        return None
    if not isinstance(value, str):
        raise Problem(422, f"{name}: must be a string")
    return value
