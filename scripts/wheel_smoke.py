"""Smoke-test an installed rshell wheel: every run-time file it needs is in the install.

Run by the Python of a fresh venv that holds only the built wheel, from a working
directory outside any checkout (`.ci/run` does this):

    /tmp/venv/bin/python scripts/wheel_smoke.py

Each check runs the venv's own `rshell` as a user would and looks at the real content:
every `help TOPIC`, `completion bash|zsh|fish`, `--version`, `scaffold` with both
templates, `--local` one run and one stream, and `serve` answering `GET /v1/hardware`.
Prints one line per check and `N passed, N failed`; exits 1 when any failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from importlib import metadata, resources
from pathlib import Path

BIN = Path(sys.executable).parent
RSHELL = str(BIN / "rshell")
TIMEOUT = 120


def rshell(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [RSHELL, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise AssertionError(f"rshell {' '.join(args)} exited {result.returncode}: {result.stderr.strip()[-400:]}")
    return result


def check_installed_alone(env: dict[str, str], cwd: Path) -> None:
    import rshell as package

    where = Path(package.__file__).resolve()
    assert str(where).startswith(str(Path(sys.prefix).resolve())), f"rshell imported from {where}, not the venv"
    assert not (where.parents[1] / "references").exists(), "a checkout's references/ is beside the package"


def check_version(env: dict[str, str], cwd: Path) -> None:
    out = rshell("--version", env=env, cwd=cwd).stdout.strip()
    assert out == f"rshell {metadata.version('rshell')}", out


def check_help_topics(env: dict[str, str], cwd: Path) -> None:
    from rshell.commands.topics import TOPICS

    for topic, headings in TOPICS.items():
        out = rshell("help", topic, env=env, cwd=cwd).stdout
        first_word = re.findall(r"\w+", headings[0])[0]
        assert first_word in out and len(out) > 80, f"help {topic}: {out[:200]!r}"


def check_completion_scripts(env: dict[str, str], cwd: Path) -> None:
    from rshell.commands.builtins import COMPLETERS

    for shell, relative in COMPLETERS.items():
        out = rshell("completion", shell, env=env, cwd=cwd).stdout
        shipped = (resources.files("rshell") / "_project" / relative).read_text(encoding="utf-8")
        assert out.strip() == shipped.strip() and "--complete" in out, f"completion {shell}: {out[:200]!r}"


def check_local_run_stream_and_scaffold(env: dict[str, str], cwd: Path) -> None:
    run = json.loads(rshell("--local", "run", "rshell/echo", "text=hello wheel", "--json", env=env, cwd=cwd).stdout)
    assert run["status"] == "succeeded" and "hello wheel" in json.dumps(run["output"]), run
    stream = rshell("--local", "run", "rshell/tinylm", "prompt=a fox", "max_tokens=8", env=env, cwd=cwd)
    assert stream.stdout.strip(), f"no streamed text: {stream.stderr[-300:]!r}"
    for template, entry in (("python", "main.py"), ("node", "index.js")):
        target = cwd / f"scaffold-{template}"
        rshell("--local", "scaffold", run["id"], str(target), "--template", template, env=env, cwd=cwd)
        assert (target / entry).is_file() and "rshell/echo" in (target / entry).read_text(), f"scaffold {template}"


def check_serve_hardware(env: dict[str, str], cwd: Path) -> None:
    server = subprocess.Popen(
        [RSHELL, "serve", "--port", "0", "--data", str(cwd / "serve-data")],
        env=env,
        cwd=cwd,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
        assert found, f"serve printed {line!r}"
        request = urllib.request.Request(found.group(1) + "/hardware", headers={"Authorization": "Bearer smoke"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            hardware = json.loads(answer.read())
        assert answer.status == 200 and any(h.get("sku") == "cpu" for h in hardware), hardware
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def stop_leftovers(marker: str, env: dict[str, str]) -> None:
    """Stop the `--local` sandbox the checks started (its own stop command), then end any
    process still holding the smoke run's private folder, and wait until they are gone,
    so the folder can be removed."""
    subprocess.run([sys.executable, "-m", "rshell.sandbox.local", "stop"], env=env, capture_output=True, timeout=60)
    holders = [pid for pid in _pids() if marker.encode() in _process_text(pid)]
    for pid in holders:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in holders):
        time.sleep(0.1)
    for pid in holders:
        _signal(pid, signal.SIGKILL)


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and int(p.name) != os.getpid()]


def _process_text(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes() + Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(OSError):  # it ended by itself
        os.kill(pid, signum)


CHECKS: list[Callable[[dict[str, str], Path], None]] = [
    check_installed_alone,
    check_version,
    check_help_topics,
    check_completion_scripts,
    check_local_run_stream_and_scaffold,
    check_serve_hardware,
]


def main() -> int:
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="rshell-wheel-smoke-", ignore_cleanup_errors=True) as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "RSHELL_"))}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"))
        env.update(XDG_CACHE_HOME=str(home / "cache"), RSHELL_DATA_DIR=str(home / "rshell-data"))
        env.update(NO_COLOR="1", TERM="dumb", PYTHONDONTWRITEBYTECODE="1")
        os.chdir(home)
        try:
            for check in CHECKS:
                try:
                    check(env, home)
                except Exception as error:  # report every check, then fail as a whole
                    failed += 1
                    print(f"FAIL {check.__name__}: {error}")
                else:
                    passed += 1
                    print(f"ok   {check.__name__}")
        finally:
            stop_leftovers(str(home), env)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
