"""Webhook delivery: POST a run to the URL its creator gave, signed like Replicate.

Signatures follow the Standard Webhooks scheme Replicate uses: headers `webhook-id`,
`webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">` keyed by the base64 part of the account's `whsec_` secret, so a
receiver can verify with the secret from `GET /v1/webhooks/default/secret`.
Delivery runs on a daemon thread and never affects the run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rshell.sandbox.core import Sandbox

DEFAULT_EVENTS = ("start", "output", "logs", "completed")


def sign(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The `webhook-signature` header value."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


def deliver(sandbox: Sandbox, kind: str, job_id: str, event: str) -> None:
    """Send the run's current state if it asked for webhooks on `event`."""
    from rshell.sandbox import render

    record = sandbox.store.snapshot(kind, job_id)
    if not record or not record.get("_webhook"):
        return
    wanted = record.get("_webhook_events_filter") or DEFAULT_EVENTS
    if event not in wanted:
        return
    view = render.run_view(kind, record, sandbox.origin)
    body = json.dumps(view).encode("utf-8")
    webhook_id = f"msg_{job_id}_{event}"
    timestamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": sign(sandbox.secret, webhook_id, timestamp, body),
    }
    threading.Thread(target=_post, args=(record["_webhook"], body, headers), daemon=True).start()


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    import httpx

    for attempt in range(3):
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=10.0)
            if response.status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5 * (attempt + 1))
