"""Offline failures are quick and quiet (issue 19 item 8): a connection that cannot be
made (refused, a name that resolves nowhere) is retried once, with one line, and the
error names the host that failed; a URL the user gave is not blamed on the API's.

Real sockets only: a port nobody listens on, and the `.invalid` TLD, which resolves
nowhere. The proof that there are not four retries is the lines said, not the clock.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest
from rsh import Outcome, rsh, rshell_main

from rshell.client.api import ReplicateClient
from rshell.errors import NetworkError

TOKEN = "r8_offline-test-token-0123456789"


def refused_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def one_shot(base_url: str, *args: str, tmp_path: Path) -> Outcome:
    """`rshell ARGS` against `base_url` with a private home, through `cli.main` here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_", "RSHELL_"))}
    env.update(
        REPLICATE_BASE_URL=base_url,
        REPLICATE_API_TOKEN=TOKEN,
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    return rshell_main(*args, env=env, cwd=tmp_path)


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "api.nowhere.invalid"])
def test_an_unreachable_api_is_retried_once_with_one_line(host: str, tmp_path: Path) -> None:
    netloc = host.format(port=refused_port())
    for _ in range(2):  # the second run says it again: nothing of the first one's is left over
        done = one_shot(f"http://{netloc}/v1", "run", "stability-ai/sdxl", "prompt=x", tmp_path=tmp_path)
        assert done.code == 1
        lines = done.stderr.splitlines()
        retries = [line for line in lines if "retrying" in line]
        assert len(retries) == 1, done.stderr
        assert f"cannot reach {netloc}" in retries[0] and "of 4" not in retries[0]
        assert lines[-2].startswith(f"error: cannot reach {netloc}: ")
        assert "REPLICATE_BASE_URL" in lines[-1]  # the API's host: its setting is worth checking
        assert len(lines) == 3, done.stderr


def test_a_url_the_user_gave_is_named_and_the_api_is_not_blamed() -> None:
    ran = rsh(
        "preview https://pictures.nowhere.invalid/x.png",
        api=(f"http://127.0.0.1:{refused_port()}/v1", TOKEN),
        stdout_tty=True,
        json_mode=False,
    )
    assert ran.code == 1 and isinstance(ran.error, NetworkError)
    assert ran.error.message.startswith("cannot reach pictures.nowhere.invalid: ")
    assert "REPLICATE_BASE_URL" not in str(ran.error.hint)


def test_two_requests_failing_together_say_it_once() -> None:
    """Two retry loops at once (a statement and a background look-up, or two downloads)
    on the same host: one line between them, not one each, interleaved."""
    said: list[str] = []

    async def both() -> list[BaseException | object]:
        async with ReplicateClient(TOKEN, f"http://127.0.0.1:{refused_port()}/v1") as client:
            client.on_retry = said.append
            return await asyncio.gather(client.account_get(), client.hardware_list(), return_exceptions=True)

    results = asyncio.run(both())
    assert all(isinstance(r, NetworkError) for r in results), results
    assert len(said) == 1, said
