"""Facts about runs shared by the client's models and the JSON a session binds:
the statuses that end a run or keep it going, and what kind of run a bound value is.

Plain stdlib: completion and the session use it too.
"""

from __future__ import annotations

from typing import Any

# A prediction or training with one of these statuses will not change again.
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled", "aborted"})
# Still running: worth waiting on. Any other status is one rshell does not know, and
# waiting on it could last forever (SPEC 8: every wait is bounded).
RUNNING_STATUSES = frozenset({"starting", "processing"})


def json_run_kind(value: Any) -> str | None:
    """ "prediction" or "training" for a bound value that is a run's JSON, else None
    (a bound value can be anything: a string, a list, a user's own object)."""
    if not isinstance(value, dict) or not isinstance(value.get("status"), str) or not value.get("id"):
        return None
    urls = value.get("urls")
    get = str(urls.get("get") or "") if isinstance(urls, dict) else ""
    if "/trainings/" in get or value.get("destination"):
        return "training"
    return "prediction" if value.get("input") is not None or get else None


def is_run_list(value: Any) -> bool:
    """A list of runs by id and status: what `NAME = batch …` binds (its rows), or
    `prediction wait A B`. `vars` summarises it and `wait NAME` follows it."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and "status" in v and "id" in v for v in value)
    )
