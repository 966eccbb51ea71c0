"""Fuzz the sandbox with schemathesis against the official spec (rshell/openapi.json).

A bounded run (few examples per operation, a fixed seed, a hard timeout): no 5xx,
every response conforms to the spec's schema and content type. The `sandbox`
fixture also checks each response server-side. The spec's server is
api.replicate.com; the run is pointed at the local sandbox explicitly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from rshell import openapi

HANG_GUARD = 240  # seconds; the run takes ~10 s on two cores, this only stops a hang
CONFIG = """
# real names, so the fuzzer reaches past the 404s into validation and runs
[parameters]
model_owner = "rshell"
model_name = "echo"
deployment_owner = "sandbox"
"""


def _schemathesis() -> list[str]:
    beside = Path(sys.executable).with_name("schemathesis")
    found = str(beside) if beside.exists() else shutil.which("schemathesis")
    assert found, "schemathesis is a test dependency (pip install -e '.[test]')"
    return [found]


def test_schemathesis_finds_no_server_error_and_no_spec_break(sandbox, tmp_path):
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        *_schemathesis(),
        "--config-file",
        str(config),
        "run",
        str(openapi.PATH),
        "--url",
        sandbox.url,
        "-H",
        f"Authorization: Bearer {sandbox.token}",
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        "8",
        "--seed",
        "20261202",
        # One worker: with two threads, hypothesis' lambda descriptions call ast.parse
        # at once, and CPython 3.11.7 then can fail with "SystemError: AST constructor
        # recursion depth mismatch" (an error path of its AST constructor, cpython
        # gh-106905, fixed in later releases): a red run that says nothing about the
        # sandbox, seen in CI and here under load.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=HANG_GUARD, cwd=tmp_path, stdin=subprocess.DEVNULL
    )
    tail = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, tail
    counts = re.search(r"(\d+) generated, (\d+) passed\b", done.stdout)
    assert counts is not None and int(counts[1]) == int(counts[2]) > 500, tail  # every case ran and passed
