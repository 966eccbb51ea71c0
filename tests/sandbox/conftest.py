"""Fixtures for the sandbox tests: an HTTP client whose every response is checked
against the official OpenAPI description, and fake predictors for precise timing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_check import hook


def checked_client(handle: Any, token: str | None = "rshell-sandbox") -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=handle.url, headers=headers, timeout=30.0, event_hooks={"response": [hook]})


@pytest.fixture
def api(sandbox: Any) -> Iterator[httpx.Client]:
    """A token-bearing client for the built-in-model sandbox; every response validated."""
    with checked_client(sandbox) as client:
        yield client


class FakeSandbox:
    """A sandbox hosting the fakes, with their gates and a checked client."""

    def __init__(self, handle: Any, gates: dict[str, Any]) -> None:
        self.handle = handle
        self.gates = gates
        self.client = checked_client(handle)


@pytest.fixture
def fake(tmp_path: Any) -> Iterator[FakeSandbox]:
    """A sandbox whose models are the fakes of sandbox_fakes, on a fresh data dir."""
    from sandbox_fakes import make_fakes

    from rshell.sandbox.server import start

    predictors, gates = make_fakes()
    handle = start(tmp_path / "data", predictors=predictors)
    box = FakeSandbox(handle, gates)
    try:
        yield box
    finally:
        box.client.close()
        for gate in gates.values():
            gate.open(100)  # let any gated worker finish so stop() is quick
        handle.stop()
