"""The Starlette application: a route per operation of the official spec, auth, rate limit, errors.

`Gate` is plain ASGI middleware (so SSE responses stream untouched). It accepts the
doubled `/v1/v1/…` prefix that the official Python client produces when given a base
URL that already ends in /v1, answers `OPTIONS` with the path's real `Allow`, requires
a token on the API (except on prediction streams, which official streams serve
without one), and applies the rate limit.

`Shield` turns an unexpected exception into a 500 problem+json and logs it, without
re-raising: Starlette's own last-resort handler re-raises, so uvicorn dropped the
keep-alive connection after every 500.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from rshell.sandbox import api_account as account
from rshell.sandbox import api_deployments as deployments
from rshell.sandbox import api_files as files
from rshell.sandbox import api_models as models
from rshell.sandbox import api_predictions as predictions
from rshell.sandbox.core import Sandbox
from rshell.sandbox.edge import documented_media_type
from rshell.sandbox.problems import PROBLEM_MEDIA_TYPE, Problem
from rshell.sandbox.ratelimit import RateLimiter, retry_after

LOG = logging.getLogger("rshell.sandbox")
# prediction streams, and signed file downloads (the signature is the credential)
OPEN_PATHS = re.compile(r"^/v1/(predictions/[^/]+/stream|files/[^/]+/download)$")
MODEL = "/v1/models/{model_owner}/{model_name}"
DEPLOYMENT = "/v1/deployments/{deployment_owner}/{deployment_name}"

ROUTES = [
    Route("/v1/account", account.account_get, methods=["GET"]),
    Route("/v1/hardware", account.hardware_list, methods=["GET"]),
    Route("/v1/webhooks/default/secret", account.webhook_secret, methods=["GET"]),
    Route("/v1/collections", account.collections_list, methods=["GET"]),
    Route("/v1/collections/{collection_slug}", account.collections_get, methods=["GET"]),
    Route("/v1/search", account.search, methods=["GET"]),
    Route("/v1/models", models.models_list, methods=["GET"]),
    Route("/v1/models", models.models_create, methods=["POST"]),
    Route("/v1/models", models.models_search, methods=["QUERY"]),
    Route(MODEL, models.models_get, methods=["GET"]),
    Route(MODEL, models.models_update, methods=["PATCH"]),
    Route(MODEL, models.models_delete, methods=["DELETE"]),
    Route(MODEL + "/readme", models.models_readme, methods=["GET"]),
    Route(MODEL + "/examples", models.models_examples, methods=["GET"]),
    Route(MODEL + "/versions", models.versions_list, methods=["GET"]),
    Route(MODEL + "/versions/{version_id}", models.versions_get, methods=["GET"]),
    Route(MODEL + "/versions/{version_id}", models.versions_delete, methods=["DELETE"]),
    Route(MODEL + "/versions/{version_id}/trainings", predictions.trainings_create, methods=["POST"]),
    Route(MODEL + "/predictions", predictions.create_by_model, methods=["POST"]),
    Route("/v1/predictions", predictions.predictions_list, methods=["GET"]),
    Route("/v1/predictions", predictions.create_by_version, methods=["POST"]),
    Route("/v1/predictions/{prediction_id}", predictions.predictions_get, methods=["GET"]),
    Route("/v1/predictions/{prediction_id}/cancel", predictions.predictions_cancel, methods=["POST"]),
    Route("/v1/predictions/{prediction_id}/stream", predictions.predictions_stream, methods=["GET"]),
    Route("/v1/trainings", predictions.trainings_list, methods=["GET"]),
    Route("/v1/trainings/{training_id}", predictions.trainings_get, methods=["GET"]),
    Route("/v1/trainings/{training_id}/cancel", predictions.trainings_cancel, methods=["POST"]),
    Route("/v1/deployments", deployments.deployments_list, methods=["GET"]),
    Route("/v1/deployments", deployments.deployments_create, methods=["POST"]),
    Route(DEPLOYMENT, deployments.deployments_get, methods=["GET"]),
    Route(DEPLOYMENT, deployments.deployments_update, methods=["PATCH"]),
    Route(DEPLOYMENT, deployments.deployments_delete, methods=["DELETE"]),
    Route(DEPLOYMENT + "/predictions", predictions.create_by_deployment, methods=["POST"]),
    Route("/v1/files", files.files_list, methods=["GET"]),
    Route("/v1/files", files.files_create, methods=["POST"]),
    Route("/v1/files/{file_id}", files.files_get, methods=["GET"]),
    Route("/v1/files/{file_id}", files.files_delete, methods=["DELETE"]),
    Route("/v1/files/{file_id}/download", files.files_download, methods=["GET"]),
    Route("/delivery/{blob_id}/{filename}", files.delivery, methods=["GET"]),
    Route("/p/{run_id}", predictions.web_page, methods=["GET"]),
]


def problem_response(
    status: int, detail: str, headers: dict[str, str] | None = None, media_type: str | None = None
) -> JSONResponse:
    return JSONResponse(
        Problem(status, detail).body(),
        status_code=status,
        headers=headers,
        media_type=media_type or PROBLEM_MEDIA_TYPE,
    )


def _answer(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    """A problem in the media type the spec documents for it (`/search`'s 400 is plain
    JSON), problem+json otherwise."""
    media = documented_media_type(request, status)
    return problem_response(status, detail, headers, media if media and "json" in media else None)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return _answer(request, exc.status, exc.detail, exc.headers)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        detail = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        detail = f"method {request.method} is not allowed on {request.url.path}"
        headers["Allow"] = ", ".join(allowed_methods(request.url.path))
    else:
        detail = str(exc.detail)
    return _answer(request, exc.status_code, detail, headers)


def allowed_methods(path: str) -> list[str]:
    """Every method some route serves at `path` (Starlette's 405 names only one route's)."""
    found = {"OPTIONS"}
    for route in ROUTES:
        if route.path_regex.match(path) and route.methods:
            found |= route.methods
    return sorted(found) if len(found) > 1 else []


class Shield:
    """Last resort: an unexpected exception becomes a logged 500 problem+json, and the
    connection stays usable (nothing is re-raised unless the response had started)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            LOG.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = problem_response(500, f"internal sandbox error: {type(exc).__name__}")
            await response(scope, receive, send)


def bearer_token(headers: dict[bytes, bytes]) -> str | None:
    """The token of `Authorization: Bearer <t>` or `Token <t>`, if non-empty."""
    raw = headers.get(b"authorization", b"").decode("latin-1").strip()
    scheme, _, token = raw.partition(" ")
    if scheme.lower() in ("bearer", "token") and token.strip():
        return token.strip()
    return None


class Gate:
    """Path normalisation, authentication and rate limiting in front of the routes."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter | None) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/v1/v1" or path.startswith("/v1/v1/"):
            path = path[3:]
            scope = {**scope, "path": path, "raw_path": path.encode("utf-8")}
        if scope["method"] == "OPTIONS":
            await self._options(path)(scope, receive, send)
            return
        if path.startswith("/v1/"):
            refusal = self._check(scope, path)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _options(path: str) -> Response:
        """204 with the methods this path serves (no token needed: it reveals nothing)."""
        methods = allowed_methods(path)
        if not methods:
            return problem_response(404, f"no such endpoint: OPTIONS {path}")
        return Response(status_code=204, headers={"Allow": ", ".join(methods)})

    def _check(self, scope: Scope, path: str) -> Response | None:
        headers = dict(scope.get("headers") or [])
        token = bearer_token(headers)
        if token is None and not OPEN_PATHS.match(path):
            return problem_response(
                401,
                "authentication required: send `Authorization: Bearer <token>` (any token works here)",
                {"WWW-Authenticate": "Bearer"},
            )
        if self.limiter is not None:
            wait = self.limiter.acquire(token or "anonymous")
            if wait > 0:
                return problem_response(
                    429, "request was throttled: too many requests", {"Retry-After": retry_after(wait)}
                )
        return None


def build_app(sandbox: Sandbox, rate_limit: float | None = None) -> Any:
    """The ASGI app serving `sandbox`."""
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(Shield)],
        exception_handlers={Problem: _on_problem, HTTPException: _on_http},
    )
    app.state.sandbox = sandbox
    return Gate(app, RateLimiter(rate_limit) if rate_limit else None)
