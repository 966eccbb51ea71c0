"""Rows whose create was sent but whose answer never reached `--output` (rshell was
killed in between): found again on the server instead of created twice.

Before each create a batch records the row as `sending` (with its input and the
time). A rerun that finds rows still `sending` lists the predictions created since
(a little earlier, for clock skew), leaves out those the file already names, and
gives each such row the oldest prediction of the same model with the same input.
A row with no match never reached the server, and is created as usual. The walk is
bounded: at most MAX_PAGES pages, only `next` links on the API's host.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rshell.client.fields import attr
from rshell.commands.batch_journal import CREATED, SENDING
from rshell.commands.paging import MAX_PAGES

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.commands.predictions import Target

SKEW = 300.0  # seconds the server's clock may lag ours


def _same_target(prediction: Any, target: Target) -> bool:
    if target.version:
        return attr(prediction, "version") == target.version
    if target.model:
        return attr(prediction, "model") == target.model
    return True  # a deployment's predictions name its model, not the deployment: input decides


async def _unclaimed(client: ReplicateClient, target: Target, since: float, known: set[str]) -> list[Any]:
    """Predictions of the target created since `since` that no row of the file names, oldest first."""
    after = datetime.fromtimestamp(since - SKEW, tz=UTC).isoformat().replace("+00:00", "Z")
    found: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await client.predictions_list(cursor, created_after=after)
        found += [p for p in page.results if p.id not in known and _same_target(p, target)]
        if not page.next or not client.is_api_url(page.next):
            break
        cursor = page.next
    return sorted(found, key=lambda p: str(attr(p, "created_at") or ""))


async def recover_sent(client: ReplicateClient, target: Target, earlier: dict[int, dict[str, Any]]) -> int:
    """Turn every `sending` row of `earlier` into `created` (its prediction found) or
    drop it (to be created); the number of rows found."""
    sending = {row: record for row, record in earlier.items() if record.get("status") == SENDING}
    if not sending:
        return 0
    known = {str(record["id"]) for record in earlier.values() if record.get("id")}
    since = min(float(record.get("at") or 0) for record in sending.values())
    candidates = await _unclaimed(client, target, since, known)
    adopted = 0
    for row in sorted(sending):
        match = next((p for p in candidates if attr(p, "input") == sending[row].get("input")), None)
        if match is None:
            del earlier[row]
            continue
        candidates.remove(match)
        earlier[row] = {"id": match.id, "status": CREATED}
        adopted += 1
    return adopted
