"""Shared fixtures: a live local sandbox on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

from typing import Iterator

import pytest


@pytest.fixture
def sandbox() -> Iterator[object]:
    """A running sandbox with the built-in models and a temporary data directory.

    Yields the handle: `.url` (ends in /v1), `.token`, `.root` (no /v1); stopped after.
    """
    from rshell.sandbox.server import start

    handle = start()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(autouse=True)
def _fresh_schema_cache() -> Iterator[None]:
    """Version schemas are cached per process; each test starts without them."""
    from rshell.commands import modelref

    modelref._VERSION_SCHEMAS.clear()
    yield
    modelref._VERSION_SCHEMAS.clear()
