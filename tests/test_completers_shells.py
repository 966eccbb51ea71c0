"""The completers/ scripts in real bash, zsh and fish: type a line and Tab in a
pseudo-terminal, then read the line back exactly as the shell holds it.

What the shells do with the candidates (readline's common prefix, its word breaks at
`=`, `:` and `@`, zsh's replacement of the current word) is the point, so nothing
here imitates a shell: each test drives the real one. A key binding writes the
shell's own line buffer to a file and then prints a numbered marker, which the test
waits for (pexpect, generous timeouts, no sleeps).

The API is a live sandbox on 127.0.0.1; its answers are fetched into the completion
cache once, in-process, before the shells run, so what the shells complete are real
model names, version ids and input keys and no Tab depends on a fetch finishing in
time on a loaded machine. A missing shell fails the test under CI (which installs
them, see .ci/run) and skips it, saying why, elsewhere.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from rshell.completion import oneshot

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 90  # seconds: a Tab starts a Python process, slow on a loaded machine
MARKER = re.compile(r"@@(\d+)@@")
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")
CLEAR = "\x01\x0b"  # beginning-of-line, kill-line: the same in bash, zsh and fish
DUMP_KEY = "\x18\x10"  # C-x C-p, bound to the dump in each shell

# Lines whose candidates the world fetches before the shells run.
WARM = [
    "rshell run rshell/pi",
    "rshell run rshell/pixels ",
    "rshell run rshell/pixels:",
    "rshell run rshell/pixels style=",
    "rshell run rshell/upscale ",
]


def require(shell: str) -> str:
    """The shell's path; missing, fail under CI (it must run there) and skip elsewhere."""
    path = shutil.which(shell)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{shell} is not installed: CI must install it (.ci/run does)")
        pytest.skip(f"{shell} is not installed (apt-get install {shell}); CI runs this test")
    return path


class World:
    """Private dirs, a shim `rshell` on PATH, and the environment for the shells."""

    def __init__(self, root: Path, base_url: str | None, token: str | None) -> None:
        self.root = root
        self.work = root / "work"
        (self.work / "examples").mkdir(parents=True)
        (self.work / "examples" / "fox.png").write_bytes(b"\x89PNG")
        (self.work / "exact.txt").write_text("x")
        bin_dir = root / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "rshell"
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m rshell "$@"\n')
        shim.chmod(0o755)
        self.env = {
            "PATH": f"{bin_dir}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "TERM": "xterm",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
        for name in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "RSHELL_DATA_DIR"):
            path = root / name.lower()
            path.mkdir()
            self.env[name] = str(path)
        if base_url:
            self.env["REPLICATE_BASE_URL"] = base_url
        if token:
            self.env["REPLICATE_API_TOKEN"] = token

    def warm(self, lines: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
        """Fetch what `lines` complete into this world's cache, in-process, without a budget."""
        for name in ("REPLICATE_BASE_URL", "REPLICATE_API_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        for name, value in self.env.items():
            if name != "PATH":
                monkeypatch.setenv(name, value)
        monkeypatch.setattr(oneshot, "FETCH_BUDGET", 120.0)
        for line in lines:
            oneshot.answer(line, "bash")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A sandbox for the module, and a world whose cache holds its answers (also --local's)."""
    from openapi_check import spec_observer

    from rshell.sandbox.server import start

    mismatches: list[str] = []
    handle = start(observe=spec_observer(mismatches))
    world = World(tmp_path_factory.mktemp("completers"), handle.url, handle.token)
    with pytest.MonkeyPatch.context() as monkeypatch:
        world.warm(WARM + [line.replace("rshell ", "rshell --local ", 1) for line in WARM], monkeypatch)
    try:
        yield world
    finally:
        handle.stop()
    assert not mismatches, "responses that break the official spec:\n" + "\n".join(mismatches[:5])


@pytest.fixture(scope="module")
def version_id(live: World) -> str:
    """rshell/pixels' latest version, as the sandbox reports it."""
    lines = [line for line in _plain(live, "rshell run rshell/pixels:") if line.startswith("rshell/pixels:")]
    assert lines, "the warmed cache lacks rshell/pixels' versions"
    return lines[0].split("\t")[0].split(":", 1)[1]


def _plain(world: World, line: str) -> list[str]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in world.env.items():
            if name != "PATH":
                monkeypatch.setenv(name, value)
        monkeypatch.setattr(oneshot, "FETCH_BUDGET", 0.0)
        return oneshot.answer(line)


class Shell:
    """One interactive shell in a pty with the completer loaded and a dump key bound."""

    def __init__(self, name: str, world: World) -> None:
        self.name = name  # "bash-completion": bash that loads the script as README's install does
        self.world = world
        self.dump = world.root / f"{name}-line"
        self.count = 0
        argv = {
            "bash": ["--norc", "--noprofile", "-i"],
            "bash-completion": ["--norc", "--noprofile", "-i"],
            "zsh": ["-f", "-i"],
            "fish": ["--no-config", "--private", "-i"],
        }[name]
        self.child = pexpect.spawn(
            require(name.split("-")[0]),
            argv,
            env=world.env,
            cwd=str(world.work),
            encoding="utf-8",
            codec_errors="replace",
            dimensions=(50, 250),
            timeout=TIMEOUT,
        )
        self.transcript = io.StringIO()  # everything the shell printed, for the "says nothing" checks
        self.child.logfile_read = self.transcript
        try:
            for line in self._setup():
                self.child.sendline(line)
            self.child.sendline("echo READY-$((6*7))" if name != "fish" else "echo READY-(math 6 \\* 7)")
            self.child.expect("READY-42")
        except BaseException:
            self.close()
            raise

    def _setup(self) -> list[str]:
        dump = shlex.quote(str(self.dump))
        if self.name.startswith("bash"):
            return [
                self._load_bash(),
                "__n=0",
                f"__dump() {{ printf '%s' \"$READLINE_LINE\" > {dump}; __n=$((__n+1)); printf '\\n@@%s@@\\n' $__n; }}",
                "bind -x '\"\\C-x\\C-p\": __dump'",
                "bind 'set bell-style none'",
            ]
        if self.name == "zsh":
            return [
                f"fpath=({shlex.quote(str(ROOT / 'completers'))} $fpath)",
                "autoload -U compinit && compinit -u -D",
                "__n=0",
                f'__dump() {{ print -rn -- "$BUFFER" > {dump}; __n=$((__n+1)); zle -M "@@$__n@@"; }}',
                "zle -N __dump && bindkey '^X^P' __dump",
                "unsetopt beep",
            ]
        return [
            f"source {shlex.quote(str(ROOT / 'completers' / 'rshell.fish'))}",
            "set -g __n 0",
            f"function __dump; commandline > {dump}; set -g __n (math $__n + 1); echo; echo @@$__n@@; end",
            "bind \\cx\\cp __dump",
        ]

    def _load_bash(self) -> str:
        """Source the script, or (bash-completion) install it where the loader finds it by name."""
        script = ROOT / "completers" / "rshell.bash"
        if self.name == "bash":
            return f"source {shlex.quote(str(script))}"
        if not BASH_COMPLETION.is_file():
            if os.environ.get("CI"):
                pytest.fail("bash-completion is not installed: CI must install it (.ci/run does)")
            pytest.skip("bash-completion is not installed (apt-get install bash-completion); CI runs this test")
        target = Path(self.world.env["XDG_DATA_HOME"]) / "bash-completion" / "completions" / "rshell"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(script, target)
        return f"source {BASH_COMPLETION}"

    def line_after(self, typed: str, tabs: int = 1) -> str:
        """Type `typed`, press Tab `tabs` times, and return the line the shell then holds."""
        self.count += 1
        self.child.send(typed + "\t" * tabs + DUMP_KEY)
        while True:
            self.child.expect(MARKER)
            if int(self.child.match.group(1)) == self.count:
                break
        text = self.dump.read_text(encoding="utf-8")
        self.child.send(CLEAR)
        return text.rstrip("\n") if self.name == "fish" else text  # fish's `commandline` adds a newline

    def close(self) -> None:
        self.child.close(force=True)


@pytest.fixture(params=["bash", "bash-completion", "zsh", "fish"])
def shell(request: pytest.FixtureRequest, live: World) -> Iterator[Shell]:
    sh = Shell(request.param, live)
    try:
        yield sh
    finally:
        sh.close()


@pytest.fixture(params=["bash", "zsh"])
def posix_shell(request: pytest.FixtureRequest, live: World) -> Iterator[Shell]:
    sh = Shell(request.param, live)
    try:
        yield sh
    finally:
        sh.close()


# never removing what was typed ---------------------------------------------------------------------


def test_a_model_prefix_completes_and_fuzzy_matches_do_not_shorten_it(shell: Shell) -> None:
    # the engine also offers rshell/palette-trainer (a fuzzy match): the line used to become rshell/p
    assert shell.line_after("rshell run rshell/pi") == "rshell run rshell/pixels "


def test_an_input_value_after_equals_keeps_the_equals(shell: Shell) -> None:
    # three candidates with no common start: the line stays as typed (bash used to make it style==)
    assert shell.line_after("rshell run rshell/pixels style=") == "rshell run rshell/pixels style="
    assert shell.line_after("rshell run rshell/pixels style=b") == "rshell run rshell/pixels style=blocks "


def test_a_version_after_the_colon_keeps_the_model(shell: Shell, version_id: str) -> None:
    assert shell.line_after("rshell run rshell/pixels:") == f"rshell run rshell/pixels:{version_id} "
    assert shell.line_after(f"rshell run rshell/pixels:{version_id[:6]}") == f"rshell run rshell/pixels:{version_id} "


def test_a_file_input_keeps_its_at(shell: Shell) -> None:
    # examples/ and exact.txt: nothing to insert, and the @ stays (bash used to drop it)
    assert shell.line_after("rshell run rshell/upscale image=@exa") == "rshell run rshell/upscale image=@exa"
    assert shell.line_after("rshell run rshell/upscale image=@exam") == "rshell run rshell/upscale image=@examples/"
    assert shell.line_after("rshell run rshell/upscale image=@examples/f") == (
        "rshell run rshell/upscale image=@examples/fox.png "
    )


def test_input_keys_complete_with_their_equals(shell: Shell) -> None:
    assert shell.line_after("rshell run rshell/pixels wi") == "rshell run rshell/pixels width="


def test_lines_only_ever_grow(posix_shell: Shell) -> None:
    """Whatever was typed stays: each line after Tab (and a second Tab) starts with it."""
    for typed in [
        "rshell run rshell/p",
        "rshell run pix",  # only fuzzy matches: nothing is inserted
        "rshell run rshell/pixels s",
        "rshell run rshell/pixels style=x",
        "rshell run rshell/pixels:zz",
        "rshell run rshell/upscale image=@",
        "rshell mod",
        "rshell --",
    ]:
        for tabs in (1, 2):
            after = posix_shell.line_after(typed, tabs)
            assert after.startswith(typed), (posix_shell.name, typed, tabs, after)


# rshell's own options before the command -------------------------------------------------------------


def test_rshell_options_complete_and_are_understood(shell: Shell) -> None:
    assert shell.line_after("rshell --lo") == "rshell --local "
    assert shell.line_after("rshell --local --js") == "rshell --local --json "
    assert shell.line_after("rshell --local --json run rshell/pi") == "rshell --local --json run rshell/pixels "
    assert shell.line_after("rshell --session work run rshell/pixels sty") == (
        "rshell --session work run rshell/pixels style="
    )


def test_local_completes_the_local_sandbox_models(shell: Shell) -> None:
    # every built-in model is rshell/…: their common start is inserted
    assert shell.line_after("rshell --local run ") == "rshell --local run rshell/"
    assert shell.line_after("rshell --local run rshell/ups") == "rshell --local run rshell/upscale "


# without a token or a network ------------------------------------------------------------------------


@pytest.fixture(params=["bash", "zsh", "fish"])
def offline_shell(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shell]:
    """A shell with no token and no cache; the API address is a closed port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    world = World(tmp_path, f"http://127.0.0.1:{port}/v1", None)
    sh = Shell(request.param, world)
    try:
        yield sh
    finally:
        sh.close()


def test_without_a_token_it_says_nothing_and_completes_the_static_parts(offline_shell: Shell) -> None:
    assert offline_shell.line_after("rshell model sche") == "rshell model schema "
    assert offline_shell.line_after("rshell run rshell/pi") == "rshell run rshell/pi"
    assert offline_shell.line_after("rshell run rshell/pixels --sa") == "rshell run rshell/pixels --save "
    printed = offline_shell.transcript.getvalue()
    assert "Traceback" not in printed and "rror" not in printed, printed[-2000:]
