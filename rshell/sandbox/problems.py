"""HTTP problems (RFC 7807) raised by the sandbox's handlers.

Handlers raise `Problem` instead of building error responses, so every error leaves
the server in one shape: `application/problem+json` with `title`, `status` and
`detail`, the shape Replicate's API and the official clients expect.
"""

from __future__ import annotations

from http import HTTPStatus

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Replicate's own words, so clients see here what they see there.
RESOURCE_NOT_FOUND = "The requested resource could not be found."
VERSION_REFUSED = "The specified version does not exist (or perhaps you don't have permission to use it?)"


class Problem(Exception):
    """An error answer: status, a one-line detail, and extra headers (Retry-After)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        """The problem+json document."""
        return {"title": _title(self.status), "status": self.status, "detail": self.detail}


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def not_found(kind: str, name: str) -> Problem:
    """The 404 every lookup raises, naming what was missing."""
    return Problem(404, f"{kind} {name} not found")


def invalid(detail: str) -> Problem:
    """A 422: the request was understood but a field fails validation."""
    return Problem(422, detail)


def resource_not_found() -> Problem:
    """Replicate's 404 for an endpoint a model does not have (a versioned model's
    predictions by name, an official model's versions)."""
    return Problem(404, RESOURCE_NOT_FOUND)


def version_refused(ref: str) -> Problem:
    """Replicate's 422 for a version that cannot be run (unknown, or an official model's)."""
    return Problem(422, f"version {ref}: {VERSION_REFUSED}")
