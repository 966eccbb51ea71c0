"""Budget (issue 9 item 10): listing the first page of predictions with 10,000 stored
costs no more than 3x listing it with 100 stored.

Both sandboxes run in this process, on their own data directories, and serve the same
page size (100 rows, Replicate's), so the two requests render the same amount; what
differs is only how much the store holds. The old store sorted every record in memory
for each page; the SQLite store reads one page through an index.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from budgets import Figure, interleaved, within_budget

from rshell.sandbox import ids
from rshell.sandbox.server import SandboxHandle, start

pytestmark = pytest.mark.benchmark

SMALL, LARGE = 100, 10_000
ROUNDS = 15
BUDGET = 3.0


def _prediction(n: int, created: str) -> dict[str, Any]:
    """A finished prediction shaped as the sandbox stores one."""
    return {
        "id": ids.new_id(),
        "model": "rshell/echo",
        "version": "hidden",
        "input": {"text": f"row {n}"},
        "output": f"row {n}",
        "logs": f"echo row {n}\n",
        "error": None,
        "status": "succeeded",
        "created_at": created,
        "started_at": created,
        "completed_at": created,
        "data_removed": False,
        "source": "api",
        "metrics": {"predict_time": 0.001, "total_time": 0.002},
        "_webhook": None,
        "_webhook_events_filter": None,
        "_official": True,
        "_events": [[1, "output", f"row {n}"], [2, "logs", f"echo row {n}"], [3, "done", {}]],
    }


def _filled(root: Path, count: int) -> SandboxHandle:
    handle = start(root, predictors={})
    store, first = handle.sandbox.store, ids.now() - timedelta(days=30)
    with store.transaction():  # straight through the Store API, in one transaction
        for n in range(count):
            record = _prediction(n, ids.iso(first + timedelta(seconds=n)))
            store.put("predictions", record["id"], record)
    return handle


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[tuple[SandboxHandle, SandboxHandle]]:
    small, large = _filled(tmp_path / "small", SMALL), _filled(tmp_path / "large", LARGE)
    try:
        yield small, large
    finally:
        small.stop()
        large.stop()


def test_the_first_page_with_10000_stored_costs_about_what_it_costs_with_100(sandboxes):
    small, large = sandboxes
    headers = {"Authorization": f"Bearer {small.token}"}
    with httpx.Client(headers=headers, timeout=30) as a, httpx.Client(headers=headers, timeout=30) as b:

        def first_page(client: httpx.Client, handle: SandboxHandle, more: bool) -> Any:
            def fetch() -> None:
                page = client.get(handle.url + "/predictions").json()
                assert len(page["results"]) == 100 and (page["next"] is not None) == more

            return fetch

        def measure() -> Figure:
            baseline, measured = interleaved(ROUNDS, first_page(a, small, False), first_page(b, large, True))
            detail = f"{measured * 1000:.1f} ms vs {baseline * 1000:.1f} ms"
            return Figure("first page of predictions, 10,000 stored vs 100", measured, baseline, BUDGET, detail)

        within_budget(measure)
