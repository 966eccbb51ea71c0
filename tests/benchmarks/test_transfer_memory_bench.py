"""Budget (SPEC 10): uploads and downloads stream, so memory does not grow with size.

The client uploads (`files_create`) and downloads (`files_download`, which shares its
streaming path with `download` for output URLs) an 8 MiB and a 64 MiB file through a
live sandbox. The sandbox runs in a subprocess, so tracemalloc here sees only the
client's allocations (rshell, httpx, the event loop). The peak for 64 MiB must stay
within a small margin of the peak for 8 MiB: a client that held a file in memory
would need at least 56 MiB more. Memory does not depend on load; a miss is still
measured once more before it fails, as every budget is.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import re
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from budgets import Figure, within_budget

from rshell.client.api import ReplicateClient
from rshell.commands.files import signed_params
from rshell.rendering.output import as_json

pytestmark = pytest.mark.benchmark

MiB = 1 << 20
SMALL, LARGE = 8 * MiB, 64 * MiB
STARTUP_TIMEOUT_S = 20.0
TOKEN = "rshell-sandbox"  # the sandbox's fixed token (rshell.sandbox.catalog.TOKEN)
ANNOUNCED = re.compile(r"sandbox listening on (\S+)")
SERVE = (
    "from pathlib import Path; from rshell.sandbox.server import serve; "
    "serve('127.0.0.1', 0, Path({data!r}), {{}}, None)"
)


@pytest.fixture
def remote_sandbox(tmp_path: Path) -> Iterator[str]:
    """A sandbox in its own process on a free port; yields its API URL (ends in /v1)."""
    log = tmp_path / "sandbox.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE.format(data=str(tmp_path / "data"))], stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        yield _announced_url(proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _announced_url(proc: subprocess.Popen[bytes], log: Path) -> str:
    """The URL `serve` prints once its socket is listening (port 0 picks a free one)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        found = ANNOUNCED.search(log.read_text())
        if found:
            return found.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise AssertionError(f"the sandbox did not start: {log.read_text()[-2000:]}")


def sized_file(path: Path, size: int) -> Path:
    """A file of `size` bytes, made quickly: a marked head and tail, sparse between."""
    with path.open("wb") as out:
        out.write(path.name.encode() * 64)
        out.seek(size - 16)
        out.write(b"end of the file!")
    assert path.stat().st_size == size
    return path


async def traced_peak(action: Callable[[], Awaitable[Any]]) -> tuple[int, Any]:
    """The most memory Python held while `action` ran, counted from its start."""
    tracemalloc.start()
    try:
        result = await action()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


async def _round_trip(client: ReplicateClient, source: Path, dest: Path) -> tuple[int, int]:
    """Upload then download `source`, checking the bytes; the two peaks."""
    up, uploaded = await traced_peak(lambda: client.files_create(source))
    signed = signed_params(client, as_json(await client.files_get(uploaded.id)), uploaded.id)
    down, written = await traced_peak(lambda: client.files_download(uploaded.id, dest, **signed))
    assert uploaded.size == source.stat().st_size
    assert Path(written).stat().st_size == source.stat().st_size
    assert uploaded.checksums["sha256"] == sha256(source) == sha256(Path(written))
    return up, down


async def _peaks(url: str, tmp_path: Path) -> dict[int, tuple[int, int]]:
    async with ReplicateClient(TOKEN, url) as client:
        warm = sized_file(tmp_path / "warm.bin", MiB)  # imports and the connection, unmeasured
        await _round_trip(client, warm, tmp_path / "warm.out")
        peaks = {}
        for size in (SMALL, LARGE):
            source = sized_file(tmp_path / f"in-{size}.bin", size)
            peaks[size] = await _round_trip(client, source, tmp_path / f"out-{size}.bin")
            (tmp_path / f"out-{size}.bin").unlink()
            source.unlink()
        return peaks


def test_tracemalloc_sees_a_file_held_in_memory(tmp_path: Path) -> None:
    """The instrument check: reading a file whole shows up as its full size."""
    source = sized_file(tmp_path / "whole.bin", SMALL)

    async def read() -> bytes:
        return source.read_bytes()

    peak, data = asyncio.run(traced_peak(read))
    assert len(data) == SMALL and peak >= SMALL


def test_upload_and_download_memory_does_not_grow_with_file_size(remote_sandbox: str, tmp_path: Path) -> None:
    from rshell.sandbox.server import start

    assert inspect.signature(start).parameters["max_file_size"].default > LARGE  # no 413

    def measure() -> list[Figure]:
        peaks = asyncio.run(_peaks(remote_sandbox, tmp_path))
        (small_up, small_down), (large_up, large_down) = peaks[SMALL], peaks[LARGE]
        report = (
            f"upload peak {small_up / 1024:.0f} KiB (8 MiB) vs {large_up / 1024:.0f} KiB (64 MiB); "
            f"download peak {small_down / 1024:.0f} KiB vs {large_down / 1024:.0f} KiB"
        )
        return [
            Figure("upload peak memory: 64 MiB / 8 MiB file (+1 MiB slack)", large_up, small_up + MiB, 1.5, report),
            Figure(
                "download peak memory: 64 MiB / 8 MiB file (+1 MiB slack)", large_down, small_down + MiB, 1.5, report
            ),
        ]

    within_budget(measure)
