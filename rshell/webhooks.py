"""Webhook deliveries: the signature check and the saved-request format.

Replicate signs deliveries by Standard Webhooks: `webhook-id`, `webhook-timestamp`
(Unix seconds) and `webhook-signature` (space-separated `v1,<base64>` entries), the
HMAC-SHA256 of `id.timestamp.body` keyed by the base64 after `whsec_` in the
account's secret. `check` decides as the official Python client's
`Webhooks.validate` does (tolerance for clock skew, constant-time comparison).

A saved delivery is one JSON object, `{"headers": {...}, "body": "<text>"}` (or
`"body_base64"` for a body that is not UTF-8): what `webhooks listen --save` writes
and `webhooks verify` reads. No HTTP here, no terminals.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any

import msgspec

DEFAULT_TOLERANCE = 300  # seconds of clock skew accepted either way, as Standard Webhooks' 5 minutes
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class InvalidDelivery(Exception):
    """Why a delivery does not verify (one line)."""


class Delivery(msgspec.Struct, frozen=True):
    """One request as received: lower-cased headers and the exact body bytes."""

    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, headers: dict[str, str], body: bytes) -> Delivery:
        return cls({k.lower(): v for k, v in headers.items()}, body)

    def saved(self) -> dict[str, Any]:
        """The saved-request JSON."""
        try:
            return {"headers": self.headers, "body": self.body.decode("utf-8")}
        except UnicodeDecodeError:
            return {"headers": self.headers, "body_base64": base64.b64encode(self.body).decode("ascii")}

    def run(self) -> dict[str, Any]:
        """The delivered prediction or training (empty when the body is not one)."""
        try:
            value = json.loads(self.body)
        except (ValueError, RecursionError):
            return {}
        return value if isinstance(value, dict) else {}


def read_saved(text: str) -> Delivery:
    """A saved delivery from its JSON; ValueError says what is wrong with it."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(value, dict) or not isinstance(value.get("headers"), dict):
        raise ValueError('expected {"headers": {...}, "body": "..."}')
    headers = {str(k): str(v) for k, v in value["headers"].items()}
    if isinstance(value.get("body"), str):
        return Delivery.of(headers, value["body"].encode("utf-8"))
    if isinstance(value.get("body_base64"), str):
        try:
            return Delivery.of(headers, base64.b64decode(value["body_base64"], validate=True))
        except (binascii.Error, ValueError):
            raise ValueError("body_base64 is not base64") from None
    raise ValueError('no "body" (text) or "body_base64"')


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret."""
    prefix, _, encoded = secret.strip().partition("_")
    if prefix != "whsec" or not encoded:
        raise InvalidDelivery("the secret must look like whsec_<base64> (see `webhooks secret`)")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidDelivery("the secret's part after whsec_ is not base64") from None


def signature(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The `v1,<base64>` signature of a delivery (what a sender puts in the header)."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode("ascii")


def check(delivery: Delivery, secret: str, tolerance: int | None = DEFAULT_TOLERANCE, now: float | None = None) -> None:
    """Return if the delivery is signed with `secret` within `tolerance` seconds of
    `now`; raise InvalidDelivery saying why not."""
    found = {name: delivery.headers.get(name, "") for name in HEADERS}
    for name, value in found.items():
        if not value:
            raise InvalidDelivery(f"the {name} header is missing")
    if not delivery.body:
        raise InvalidDelivery("the body is empty")
    key = secret_key(secret)
    timestamp = found["webhook-timestamp"]
    if not timestamp.isdigit():
        raise InvalidDelivery(f"webhook-timestamp is not Unix seconds: {timestamp[:40]!r}")
    if tolerance is not None:
        skew = abs((time.time() if now is None else now) - int(timestamp))
        if skew > tolerance:
            raise InvalidDelivery(f"the timestamp is {int(skew)} s away from now (the tolerance is {tolerance} s)")
    signed = f"{found['webhook-id']}.{timestamp}.".encode() + delivery.body
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    for entry in found["webhook-signature"].split():
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(given, expected):
            return
    raise InvalidDelivery("no signature matches (wrong secret, or the body or headers were changed)")


def event_of(run: dict[str, Any]) -> str:
    """Which webhook event a delivered run's status means (Replicate sends no event name)."""
    status = str(run.get("status") or "")
    if status in ("succeeded", "failed", "canceled", "aborted"):
        return "completed"
    if status == "starting":
        return "start"
    return "update" if status else "?"
