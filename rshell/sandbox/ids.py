"""Identifiers and timestamps in Replicate's formats.

Prediction, training and file ids are 26 lowercase base32 characters, as Replicate's
are; version ids are 64-hex digests of what makes a version (so the same schema and
weights always give the same id, across restarts).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any


def new_id() -> str:
    """A random id like Replicate's (`gm3qorzdhgbfurvjtvhg6dckhu`)."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").lower().rstrip("=")[:26]


def version_id(predictor: str, schema: dict[str, Any], weights: dict[str, Any] | None) -> str:
    """The stable id of a version: a digest of its predictor, schema and weights."""
    canonical = json.dumps(
        {"predictor": predictor, "schema": schema, "weights": weights},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """RFC 3339 with microseconds and a Z, as the API writes dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timestamp() -> str:
    """The current time as the API writes it."""
    return iso(now())


def later(seconds: float) -> str:
    """A time `seconds` from now, for deadlines and expiries."""
    return iso(now() + timedelta(seconds=seconds))


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
