"""What a test needs from the machine (root, a command): under CI it must be there,
so its absence fails the test; elsewhere the test skips and says what is missing."""

from __future__ import annotations

import os

import pytest


def unavailable(reason: str, how: str = "") -> None:
    """Fail under CI (`.ci/run` sets CI and provides it), skip with the reason elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must install it (.ci/run does, and runs as root)")
    pytest.skip(f"{reason}{'; ' + how if how else ''} (CI runs this test)")
