"""Budget (SPEC 10): `rshell -c 'help'` within 100 ms of the interpreter's own start.

Measured against `python -c pass` from the same venv in the same run (medians of
interleaved runs), so a slow machine slows both sides alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.benchmark

RUNS = 9
BUDGET_S = 0.100


def _rshell() -> list[str]:
    script = Path(sys.executable).with_name("rshell")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rshell"]


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr.decode()
    return elapsed


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_")}
    env["REPLICATE_API_TOKEN"] = "r8_fake-benchmarktoken"
    return env


def test_help_one_shot_costs_under_100ms_over_bare_python() -> None:
    baseline, rshell = [], []
    _time([sys.executable, "-c", "pass"])  # warm the file cache for both
    _time(_rshell() + ["-c", "help"])
    for _ in range(RUNS):
        baseline.append(_time([sys.executable, "-c", "pass"]))
        rshell.append(_time(_rshell() + ["-c", "help"]))
    overhead = statistics.median(rshell) - statistics.median(baseline)
    assert overhead < BUDGET_S, f"rshell -c help costs {overhead * 1000:.0f} ms over python -c pass"


def test_help_one_shot_loads_no_heavy_stack() -> None:
    probe = (
        "import sys; from rshell.cli import main; code = main(['-c', 'help']);"
        "heavy = [m for m in ('prompt_toolkit', 'httpx', 'pydantic', 'yaml', 'starlette') if m in sys.modules];"
        "print('HEAVY', heavy, file=sys.stderr); raise SystemExit(code)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stderr
