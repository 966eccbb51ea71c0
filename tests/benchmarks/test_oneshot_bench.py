"""Budget (SPEC 10): a network one-shot finishes within 150 ms of the interpreter's
own start, and before the official Python client doing the same call in a fresh
process.

Three one-shots against a live sandbox (`hardware list`, `run rshell/echo text=hi`,
`prediction show ID`), each with the official client's same call (`replicate`, in
this venv), the same request written directly with rshell's own libraries (asyncio
and httpx, nothing of rshell), `python -c pass` and the floor
`python -c 'import asyncio'`, interleaved in the same rounds, medians per side:

- against the official client, in wall time: the user waits for the whole process,
  network requests included (a one-shot that sent one request more would show);
- against the bare httpx script, in CPU time: what rshell adds to the libraries it is
  built on (its grammar, catalog, checks and output), which is all a change to
  rshell can make slower. This is the tight guard: rshell measures 0.83-0.95x. The
  bare script itself is 125 to 170 ms over `pass` on this machine, depending on the
  machine's state, so the 150 ms holds while the machine runs at its usual speed
  (rshell 110-122 ms over `pass` in CI) and no change to rshell alone can hold it
  when the whole machine runs 40% slower;
- against the floor, in CPU time (start-up is computation, and the sandbox answers in
  a millisecond): a coarse ceiling, 150 ms over `pass` as a multiple of the floor when
  the floor was measured at 45 ms (20 + 150) / 45 = 3.8; rshell measures 2.3-2.8x.

Every process keeps its bytecode, as an installed one does (`budgets.installed_env`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from budgets import CHILD_CPU, WALL, Figure, installed_env, interleaved_times, within_budget
from processes import echo_prediction

pytestmark = pytest.mark.benchmark

ROUNDS = 11
FLOOR_RATIO = 3.8
OFFICIAL_RATIO = 1.0
BARE_RATIO = 1.1  # rshell measures 0.85-0.95x: it skips the CA bundle an http:// call never uses

ONE_SHOTS: dict[str, tuple[list[str], str]] = {
    "hardware list": (["hardware", "list"], "print(replicate.hardware.list())"),
    "run rshell/echo text=hi": (
        ["run", "rshell/echo", "text=hi"],
        "print(replicate.run('rshell/echo', input={'text': 'hi'}))",
    ),
    "prediction show ID": (["prediction", "show", "{id}"], "print(replicate.predictions.get('{id}'))"),
}

# The same requests written directly with asyncio and httpx (httpx's own command-line
# tool kept out, as rshell keeps it out): what the one-shots cost without rshell.
BARE = """
import asyncio, os, sys
sys.modules.setdefault("httpx._main", None)
import httpx

async def main():
    headers = {{"Authorization": "Bearer " + os.environ["REPLICATE_API_TOKEN"]}}
    base = os.environ["REPLICATE_BASE_URL"].rstrip("/")
    base += "/" if base.endswith("/v1") else "/v1/"
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        response = await client.{call}
        response.raise_for_status()
        print(response.json())

asyncio.run(main())
"""
BARE_CALLS = {
    "hardware list": 'get("hardware")',
    "run rshell/echo text=hi": (
        'post("models/rshell/echo/predictions", json={{"input": {{"text": "hi"}}}}, headers={{"Prefer": "wait"}})'
    ),
    "prediction show ID": 'get("predictions/{id}")',
}


def _rshell() -> list[str]:
    script = Path(sys.executable).with_name("rshell")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rshell"]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


@pytest.mark.parametrize("one_shot", list(ONE_SHOTS))
def test_network_one_shot_is_near_bare_python_and_beats_the_official_client(
    one_shot: str, sandbox: Any, tmp_path: Path
) -> None:
    words, official = ONE_SHOTS[one_shot]
    prediction = echo_prediction(sandbox)
    words = [word.replace("{id}", prediction) for word in words]
    official = "import replicate; " + official.replace("{id}", prediction)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "XDG_"))}
    env.update(
        REPLICATE_BASE_URL=sandbox.root,
        REPLICATE_API_TOKEN=sandbox.token,
        HOME=str(tmp_path / "home"),
        NO_PROXY="127.0.0.1,localhost",
    )
    env = installed_env(env, str(tmp_path / "pycache"))
    python = sys.executable
    argvs = {
        "pass": [python, "-c", "pass"],
        "floor": [python, "-c", "import asyncio"],
        "rshell": [*_rshell(), *words],
        "official": [python, "-c", official],
        "bare": [python, "-c", BARE.format(call=BARE_CALLS[one_shot].format(id=prediction))],
    }
    # Each action notes its child's CPU time too, so one set of rounds gives both clocks.
    cpu: dict[str, list[float]] = {name: [] for name in argvs}

    def action(name: str) -> Any:
        def run() -> None:
            before = CHILD_CPU()
            done = subprocess.run(argvs[name], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=120)
            cpu[name].append(CHILD_CPU() - before)
            assert done.returncode == 0, done.stderr.decode()[-2000:]

        return run

    def measure() -> list[Figure]:
        for times in cpu.values():
            times.clear()
        wall = dict(zip(argvs, interleaved_times(ROUNDS, *(action(name) for name in argvs), clock=WALL), strict=True))
        walls = {name: _median(times) for name, times in wall.items()}
        cpus = {name: _median(times[1:]) for name, times in cpu.items()}  # the first is the warm-up
        detail = (
            f"medians of {ROUNDS} interleaved runs, wall (CPU): rshell {walls['rshell'] * 1000:.0f} "
            f"({cpus['rshell'] * 1000:.0f}) ms, official client {walls['official'] * 1000:.0f} "
            f"({cpus['official'] * 1000:.0f}) ms, python -c pass {walls['pass'] * 1000:.0f} "
            f"({cpus['pass'] * 1000:.0f}) ms, import asyncio {walls['floor'] * 1000:.0f} "
            f"({cpus['floor'] * 1000:.0f}) ms; rshell over pass: {(walls['rshell'] - walls['pass']) * 1000:.0f} ms "
            f"wall, {(cpus['rshell'] - cpus['pass']) * 1000:.0f} ms CPU (SPEC 10: 150 ms, on an idle machine)"
        )
        return [
            Figure(
                f"one-shot {one_shot}: rshell / official client, fresh process (wall)",
                walls["rshell"],
                walls["official"],
                OFFICIAL_RATIO,
                detail,
            ),
            Figure(
                f"one-shot {one_shot}: rshell / the same request in a bare asyncio+httpx script (CPU)",
                cpus["rshell"],
                cpus["bare"],
                BARE_RATIO,
                f"rshell {cpus['rshell'] * 1000:.0f} ms, bare script {cpus['bare'] * 1000:.0f} ms CPU",
            ),
            Figure(
                f"one-shot {one_shot}: rshell / python -c 'import asyncio' (CPU)",
                cpus["rshell"],
                cpus["floor"],
                FLOOR_RATIO,
            ),
        ]

    within_budget(measure)
