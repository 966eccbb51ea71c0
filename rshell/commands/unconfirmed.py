"""A run whose create never answered, found again on the server.

A create held by `Prefer: wait` gives no id until it answers, so Ctrl-C inside that
wait (or a lost answer) leaves a prediction rshell cannot name. It is looked for
instead: newest first among the runs created since the request was sent (less a
margin for clock skew), on the same target, whose input holds every key and value
that was sent (the server may add defaults). `batch` resumes a killed row by the same
kind of search; `Sent.matches` is the rule to share.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.client.models import Page, Prediction

SKEW = timedelta(minutes=5)  # clock difference allowed between this machine and the API
PAGES = 3  # list pages read per look: a create seconds old is on the first


class Sent(msgspec.Struct, frozen=True):
    """What a create asked for: enough to recognise the run it made."""

    kind: str  # "prediction" or "training"
    inputs: dict[str, Any]
    model: str | None = None  # owner/name: a model's endpoint, or a trainer's
    version: str | None = None  # a version id (owner/name:id is cut to the id)
    deployment: str | None = None
    at: datetime = msgspec.field(default_factory=lambda: datetime.now(UTC))

    def matches(self, run: Prediction) -> bool:
        """The same target, and every input sent is in the run's input unchanged."""
        recorded = run.input or {}
        same_input = all(key in recorded and recorded[key] == value for key, value in self.inputs.items())
        return same_input and self._same_target(run)

    def _same_target(self, run: Prediction) -> bool:
        if self.version:
            return bool(run.version) and self.version.rpartition(":")[2] == run.version
        if self.deployment:
            return run.deployment in (None, self.deployment)
        return run.model == self.model

    def since(self) -> datetime:
        return self.at - SKEW


def _created(run: Prediction) -> datetime | None:
    try:
        moment = datetime.fromisoformat((run.created_at or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def find(client: ReplicateClient, sent: Sent, known: Collection[str] = ()) -> Prediction | None:
    """The newest run that matches `sent`, created since it was sent and not one of
    the `known` ids (runs the session already has, e.g. a `--no-wait` one with the
    same input); None if there is none yet."""
    since = sent.since()
    first: Callable[[], Awaitable[Page[Any]]]
    if sent.kind == "training":
        first = client.trainings_list
    else:
        first = lambda: client.predictions_list(created_after=since.isoformat())  # noqa: E731
    page = await first()
    for _ in range(PAGES):
        for run in page.results:  # newest first
            created = _created(run)
            if created is not None and created < since:
                return None
            if run.id not in known and sent.matches(run):
                return run
        if not page.next:
            return None
        page = await client.get_page(page.next, page.parsed_as())
    return None
