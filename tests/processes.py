"""For tests that run rshell (or another client) as a real process against a sandbox:
its environment, pointed at the sandbox with a private home, and a finished run to
name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def private_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment less any REPLICATE_, XDG_ and RSHELL_ variables, with
    a private home, config, data and cache under `home` and the checkout on
    PYTHONPATH; `extra` (a URL, a token, an option) goes over it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_", "RSHELL_"))}
    env.update(
        HOME=str(home / "home"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def sandbox_env(sandbox: Any, home: Path, *, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """`private_env` pointed at the sandbox (its URL and token), less `drop`'s variables."""
    env = private_env(home, REPLICATE_BASE_URL=sandbox.url, REPLICATE_API_TOKEN=sandbox.token)
    return {k: v for k, v in env.items() if not (drop and k.startswith(drop))}


def echo_prediction(sandbox: Any) -> str:
    """The id of a finished rshell/echo prediction, made with a plain request."""
    reply = httpx.post(
        f"{sandbox.url}/predictions",
        json={"version": "rshell/echo", "input": {"text": "x"}},
        headers={"Authorization": f"Bearer {sandbox.token}", "Prefer": "wait"},
        timeout=60,
    )
    reply.raise_for_status()
    return str(reply.json()["id"])
