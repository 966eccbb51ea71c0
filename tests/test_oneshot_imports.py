"""A network one-shot loads only what its command needs (SPEC 10, issue 21).

Each command runs in a real process against a live sandbox and reports what it left
in `sys.modules`. A module added to the import path of a one-shot shows up here as a
named failure, not only as a slower benchmark.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from processes import echo_prediction, sandbox_env

ROOT = Path(__file__).resolve().parents[1]

# What no network one-shot needs, and why it would be there.
HEAVY = {
    "httpx._main": "httpx's own command-line tool",
    "click": "httpx's command-line tool",
    "rich": "httpx's command-line tool, or image drawing",
    "pygments": "httpx's command-line tool, or the REPL's highlighter",
    "prompt_toolkit": "the REPL",
    "rshell.repl": "the REPL",
    "rshell.completion": "completion",
    "rshell.rendering.markdown": "READMEs",
    "rshell.rendering.images": "image previews",
    "rshell.rendering.pager": "the pager",
    "PIL": "image previews",
    "yaml": "the hosts file (the token comes from the environment here)",
    "sqlite3": "sessions (a one-shot keeps none)",
    "rshell.sandbox": "the sandbox server",
    "starlette": "the sandbox server",
    "uvicorn": "the sandbox server",
    "pydantic": "nothing: API objects are msgspec structs (pydantic's import is ~60 ms)",
}

PROBE = """
import dataclasses, json, sys

made = []
process_class = dataclasses._process_class
def noting(cls, *args, **kwargs):
    made.append(cls.__module__ + "." + cls.__qualname__)
    return process_class(cls, *args, **kwargs)
dataclasses._process_class = noting

from rshell.cli import main

code = main(sys.argv[2:])
dataclasses._process_class = process_class
with open(sys.argv[1], "w") as report:
    modules = sorted(n for n, m in sys.modules.items() if m is not None)
    json.dump({"modules": modules, "dataclasses": [n for n in made if n.startswith("rshell.")]}, report)
raise SystemExit(code)
"""


@pytest.fixture
def env(sandbox, tmp_path: Path) -> dict[str, str]:
    return sandbox_env(sandbox, tmp_path, drop=("PYDANTIC_",))


def _one_shot(words: list[str], env: dict[str, str], tmp_path: Path) -> dict[str, list[str]]:
    """What the one-shot `words` left in sys.modules, and which of rshell's classes it
    made dataclasses (each costs about 0.5 ms to create: the start-up path's value
    types are msgspec structs, made in C)."""
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *words],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded: dict[str, list[str]] = json.loads(report.read_text())
    return loaded


def _heavy(modules: list[str]) -> dict[str, str]:
    return {name: why for name, why in HEAVY.items() if any(m == name or m.startswith(name + ".") for m in modules)}


def test_run_one_shot_loads_no_heavy_stack(env, tmp_path: Path) -> None:
    loaded = _one_shot(["run", "rshell/echo", "text=hi"], env, tmp_path)
    assert _heavy(loaded["modules"]) == {}
    assert loaded["dataclasses"] == []


def test_a_script_with_every_kind_of_line_makes_no_dataclass(env, tmp_path: Path) -> None:
    script = "a = run rshell/echo text=hi; show a.output; alias e='run rshell/echo'; e text=b; vars; save " + str(
        tmp_path / "s.rsh"
    )
    loaded = _one_shot(["-c", script], env, tmp_path)
    assert loaded["dataclasses"] == []


def test_hardware_list_loads_no_heavy_stack(env, tmp_path: Path) -> None:
    loaded = _one_shot(["hardware", "list"], env, tmp_path)
    assert _heavy(loaded["modules"]) == {}
    assert loaded["dataclasses"] == []


def test_prediction_show_loads_no_heavy_stack(env, tmp_path: Path, sandbox) -> None:
    loaded = _one_shot(["prediction", "show", echo_prediction(sandbox)], env, tmp_path)
    assert _heavy(loaded["modules"]) == {}
