"""Budget (SPEC 10, issue 13): a batch of N rows at concurrency >= N finishes within
1.5x the slowest row. Measured in one run against a live in-process sandbox with 16
workers: the baseline is one `run` of the same 1 s model on the same executor; the
measured figure is `batch` of 16 rows at --concurrency 16. A script of 16 `run` lines
took 17.1 s (issue 13); the official client with asyncio.gather 2.5 s.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from pathlib import Path

import pytest
from budgets import check_ratio
from sleeper_model import Sleeper

from rshell.client.api import ReplicateClient
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.session.state import Session

pytestmark = pytest.mark.benchmark

MODEL = "bench/sleeper"
ROWS = 16
SLEEP_S = 1.0


def test_16_rows_of_1s_at_concurrency_16_take_within_1_5x_of_one_prediction(tmp_path: Path) -> None:
    from rshell.sandbox.server import start

    model = Sleeper(SLEEP_S, MODEL)
    handle = start(predictors={MODEL: model}, workers=ROWS)
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"x": n}) + "\n" for n in range(ROWS)))
    out = Output(io.StringIO(), io.StringIO(), json_mode=True)
    session = Session()

    async def main() -> tuple[float, float]:
        executor = Executor(session, out, lambda: ReplicateClient(handle.token, handle.url))
        ref = f"{MODEL}:{handle.sandbox.latest_version(MODEL)['id']}"
        try:
            assert await executor.run_text(f"run {ref} x=0 seconds=0") == 0  # warm: schema, connection
            start = time.perf_counter()
            assert await executor.run_text(f"run {ref} x=1") == 0, out.stderr.getvalue()
            single = time.perf_counter() - start
            start = time.perf_counter()
            code = await executor.run_text(f"b = batch {ref} --inputs {rows} --concurrency {ROWS}")
            assert code == 0, out.stderr.getvalue()
            return single, time.perf_counter() - start
        finally:
            await executor.aclose()

    try:
        single, whole = asyncio.run(main())
    finally:
        handle.stop()
    assert [p["status"] for p in session.variables["b"]] == ["succeeded"] * ROWS
    check_ratio(
        f"batch of {ROWS} x {SLEEP_S:.0f} s at concurrency {ROWS} / one prediction",
        whole,
        single,
        1.5,
        f"batch {whole:.2f} s, one run {single:.2f} s",
    )
