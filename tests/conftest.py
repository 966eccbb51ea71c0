"""Shared fixtures: a live local sandbox on 127.0.0.1 for end-to-end tests, the one
respx-mocked API, a hostile server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent / "benchmarks"

# A `--local` sandbox a test starts runs in a process of its own (rshell/sandbox/detached.py):
# it stops itself this soon after its last user, and `_stop_local_sandboxes` stops any left.
os.environ.setdefault("RSHELL_LOCAL_IDLE", "2")


def _asked_for_benchmarks(config: pytest.Config) -> bool:
    """Benchmarks run only when their folder (or a file in it) is named on the command line."""
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == BENCHMARKS or BENCHMARKS in path.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`pytest` alone runs the tests; `pytest tests/benchmarks` runs the budgets (a CI step
    of its own: their timings mean something only on a machine that runs nothing else)."""
    if _asked_for_benchmarks(config):
        return
    kept = [item for item in items if BENCHMARKS not in item.path.parents]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if BENCHMARKS in item.path.parents])
        items[:] = kept


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Every budget of the run as a ratio, met or missed."""
    import sys

    budgets = sys.modules.get("budgets")
    figures = getattr(budgets, "FIGURES", [])
    if figures:
        terminalreporter.section("budgets (measured / baseline in the same run)")
        for figure in figures:
            terminalreporter.write_line(figure.line())


@pytest.fixture
def sandbox() -> Iterator[object]:
    """A running sandbox with the built-in models and a temporary data directory.

    Yields the handle: `.url` (ends in /v1), `.token`, `.root` (no /v1); stopped after.
    Every complete response it sends, to whichever client, is checked against the
    official OpenAPI description; a mismatch fails the test that caused it.
    """
    from openapi_check import spec_observer

    from rshell.sandbox.server import start

    mismatches: list[str] = []
    handle = start(observe=spec_observer(mismatches))
    try:
        yield handle
    finally:
        handle.stop()
    assert not mismatches, "responses that break the official spec:\n" + "\n".join(mismatches[:5])


@pytest.fixture(scope="session", autouse=True)
def _stop_local_sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No `--local` sandbox a test started outlives the run: each one under this run's
    temporary folders (found by the address it recorded) is stopped, by its pid."""
    yield
    from rshell.sandbox.local import stop_local

    for address in tmp_path_factory.getbasetemp().rglob("address.json"):
        stop_local(address.parent)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    """Replace the poll loop's pause and clock: record each delay, never really wait.
    The clock moves only by these pauses (and what a test adds to `sleeps.clock`), so the
    delays are the same on a busy machine as on an idle one."""
    import asyncio

    from rshell.commands import running

    delays = Sleeps()

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        delays.clock += seconds
        await asyncio.sleep(0)

    monkeypatch.setattr(running, "sleep", fake_sleep)
    monkeypatch.setattr(running, "now", lambda: delays.clock)
    return delays


class Sleeps(list[float]):
    """The poll loop's recorded pauses, and the fake clock they advance."""

    clock: float = 1000.0


@pytest.fixture
def hostile() -> Iterator[object]:
    """A scripted, untrusted server on 127.0.0.1 (tests/hostile_server.py); empty routes."""
    from hostile_server import HostileServer

    with HostileServer() as server:
        yield server


@pytest.fixture
def api() -> Iterator[object]:
    """The respx-mocked API (`rsh.MOCKED` points a run at it). Every route a test
    declares must be called: a route the code never asks for fails the test."""
    import respx
    from rsh import BASE

    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    """A private home, config, data, cache and working folder for an rshell process."""
    made = {name: tmp_path / name for name in ("data", "config", "cache", "home", "work")}
    for path in made.values():
        path.mkdir()
    return made


@pytest.fixture
def counted() -> Iterator[tuple[Any, list[str]]]:
    """A sandbox that records every request it answers ("METHOD /path"): for tests that
    count what was sent (exit 2 means nothing was)."""
    from rshell.sandbox.server import start

    seen: list[str] = []
    handle = start(observe=lambda method, path, *_: seen.append(f"{method} {path}"))
    try:
        yield handle, seen
    finally:
        handle.stop()
