"""Read API objects, whether pydantic models or the plain JSON a session binds.

Unknown API fields stay dicts inside the models, and handlers also work on the JSON
they bind, so one reader serves both. No pydantic import: completion and the session
use it too.
"""

from __future__ import annotations

from typing import Any


def attr(obj: Any, name: str, default: Any = None) -> Any:
    """`obj.name` for a model, `obj[name]` for a dict, `default` when absent."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


# A prediction or training with one of these statuses will not change again.
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled", "aborted"})
# Still running: worth waiting on. Any other status is one rshell does not know, and
# waiting on it could last forever (SPEC 8: every wait is bounded).
RUNNING_STATUSES = frozenset({"starting", "processing"})


def run_kind(obj: Any) -> str | None:
    """ "prediction" or "training" for an object that runs on the API, else None."""
    if not isinstance(attr(obj, "status"), str) or not attr(obj, "id"):
        return None
    urls = attr(obj, "urls") or {}
    if "/trainings/" in str(attr(urls, "get") or "") or attr(obj, "destination"):
        return "training"
    return "prediction" if attr(obj, "input") is not None or attr(urls, "get") else None


def is_run_list(value: Any) -> bool:
    """A list of runs by id and status: what `NAME = batch …` binds (its rows), or
    `prediction wait A B`. `vars` summarises it and `wait NAME` follows it."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and "status" in v and "id" in v for v in value)
    )
