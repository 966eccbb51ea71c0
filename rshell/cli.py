"""Entry points (SPEC section 2): REPL, `-c`, scripts, argv one-shots, `serve`.

Start-up is kept light: nothing here imports prompt-toolkit or httpx at
module level, so `rshell -c help` costs little more than the interpreter itself.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import msgspec

from rshell import __version__
from rshell.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, AuthError, RshellError, UsageError

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a filter whose reader left

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.executor import Executor
    from rshell.rendering.output import Output


class GlobalOption(msgspec.Struct, frozen=True):
    """One of rshell's own options, declared once: the usage text, `parse_options`,
    the shell completers (`rshell --complete`) and the docs read this."""

    name: str
    dest: str
    help: str
    metavar: str = ""  # takes a value when set
    short: str = ""
    ends: bool = False  # no statement follows it on the line (-c's is its value; --help, --version)
    hidden: bool = False  # not in the usage text (what completers/ scripts call)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.short, self.name) if self.short else (self.name,)

    @property
    def label(self) -> str:
        """How the usage text shows it: `-c STATEMENTS`, `-v, --version`."""
        return ", ".join(self.names) + (f" {self.metavar}" if self.metavar else "")


GLOBAL_OPTIONS: tuple[GlobalOption, ...] = (
    GlobalOption("-c", "command", "run STATEMENTS (`;` or newlines between them) and exit", "STATEMENTS", ends=True),
    GlobalOption("--local", "local", "use the local sandbox API (no token or network; its data is kept)"),
    GlobalOption("--session", "session", "a named session: results persist across runs", "NAME"),
    GlobalOption("--json", "json", "print results as the API's JSON"),
    GlobalOption("--dry-run", "dry_run", "print the requests a script would send instead of sending them"),
    GlobalOption("--keep-going", "keep_going", "a script goes on after a failing statement"),
    GlobalOption("--debug", "debug", "show a traceback for internal errors"),
    GlobalOption("--version", "version", "print the version", short="-v", ends=True),
    GlobalOption("--help", "help", "this help; `rshell help` lists the commands", short="-h", ends=True),
    GlobalOption("--complete", "complete", "the completions of LINE (completers/ call it)", "LINE", hidden=True),
    GlobalOption(
        "--complete-shell", "complete_shell", "in the form SHELL inserts (bash, zsh, fish)", "SHELL", hidden=True
    ),
)
_BY_NAME = {name: option for option in GLOBAL_OPTIONS for name in option.names}

USAGE = (
    """\
usage: rshell [OPTIONS]                      interactive shell (on a terminal)
       rshell [OPTIONS] -c 'STATEMENTS'      run statements, exit with the first failure's code
       rshell [OPTIONS] FILE.rsh [--dry-run] [--keep-going]
       rshell [OPTIONS] < FILE.rsh           a script on stdin
       rshell [OPTIONS] WORD...              one command, e.g. rshell run owner/model prompt=hi
       rshell serve [--host H] [--port N] [--data DIR] [--cog NAME=URL] [--rate-limit N]

options:
"""
    + "\n".join(f"  {o.label:<17}{o.help}" for o in GLOBAL_OPTIONS if not o.hidden)
    + """

exit codes: 0 success, 1 API or runtime failure, 2 usage error (nothing sent), 130 interrupted"""
)


def global_option(name: str) -> GlobalOption | None:
    """The option spelled `name` (`-v` or `--version`)."""
    return _BY_NAME.get(name)


class Options(msgspec.Struct):
    command: str | None = None  # -c
    session: str | None = None
    local: bool = False
    json: bool = False
    dry_run: bool = False
    keep_going: bool = False
    debug: bool = False
    complete: str | None = None
    complete_shell: str | None = None  # the form a system shell's script needs (bash, zsh, fish)
    words: list[str] = msgspec.field(default_factory=list)


def parse_options(argv: list[str]) -> Options:
    """rshell's own options come first; the rest are a script path or command words.

    `--dry-run` and `--keep-going` may also follow a script path (SPEC 2).
    """
    opts = Options()
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        arg = argv[i]
        name, eq, value = arg.partition("=")
        option = global_option(name)
        if option is None or option.ends and not option.metavar or not option.metavar and eq:
            raise UsageError(f"unknown option '{arg}'", "`rshell --help` lists the options")
        if option.metavar:
            if not eq:
                if i + 1 >= len(argv):
                    raise UsageError(f"{name} needs a value", USAGE.splitlines()[0])
                i += 1
                value = argv[i]
            setattr(opts, option.dest, value)
        else:
            setattr(opts, option.dest, True)
        i += 1
    opts.words = argv[i:]
    if opts.complete_shell is not None and opts.complete is None:
        raise UsageError("--complete-shell goes with --complete LINE", "the scripts in completers/ call both")
    if opts.words and _is_script(opts.words[0]):
        for word in opts.words[1:]:
            if word not in ("--dry-run", "--keep-going"):
                raise UsageError(
                    f"unexpected '{word}' after the script path", "usage: rshell FILE.rsh [--dry-run] [--keep-going]"
                )
            setattr(opts, _BY_NAME[word].dest, True)
    return opts


def _is_script(word: str) -> bool:
    return word.endswith(".rsh") or (os.sep in word and Path(word).is_file())


def _installed_version() -> str:
    """The installed distribution's version (its metadata), or the source's in a bare checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rshell")
    except PackageNotFoundError:
        return __version__


class Env(msgspec.Struct):
    """What the process gives rshell, as httpie's `Environment`: its streams. The
    console script passes the real ones; tests pass their own."""

    stdin: TextIO = msgspec.field(default_factory=lambda: sys.stdin)
    stdout: TextIO = msgspec.field(default_factory=lambda: sys.stdout)
    stderr: TextIO = msgspec.field(default_factory=lambda: sys.stderr)

    @property
    def stdin_isatty(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False


def main(args: list[str] | None = None, env: Env | None = None) -> int:
    """The composition root: every way in (the console script, `--complete`, `serve`,
    the tests) reads rshell's options here and builds the client, the session and the
    `--local` sandbox through `Api`."""
    # Exit without the interpreter's final cycle collection over every object the
    # imports made (a fifth of a one-shot's CPU time): frozen objects are left to the OS.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    argv = sys.argv[1:] if args is None else args
    env = env or Env()
    if argv[:1] in (["-h"], ["--help"]):
        env.stdout.write(USAGE + "\n")
        return 0
    if argv[:1] in (["--version"], ["-v"]):
        env.stdout.write(f"rshell {_installed_version()}\n")
        return 0
    if argv[:1] == ["serve"]:
        return _serve(argv[1:], env)
    try:
        opts = parse_options(argv)
    except UsageError as error:
        _print_error(error, env)
        return EXIT_USAGE
    if opts.complete is not None:
        from rshell.completion.oneshot import main as complete_main

        return complete_main(
            opts.complete, env.stdout, shell=opts.complete_shell, session=opts.session, local=opts.local
        )
    try:
        return asyncio.run(_run(opts, env))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except RshellError as error:
        _print_error(error, env)
        return error.exit_code
    except BrokenPipeError:
        return _stdout_closed()


def _stdout_closed() -> int:
    """The reader of stdout went away (`rshell … | head -1`): as any Unix filter, stop
    without a word and exit 141 (128 + SIGPIPE). stdout is pointed at /dev/null so the
    interpreter's own flush at exit cannot complain either."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
    return EXIT_BROKEN_PIPE


def _serve(argv: list[str], env: Env) -> int:
    """`rshell serve`: the local sandbox in the foreground until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(prog="rshell serve", description="Run the local Replicate-compatible sandbox API.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--data", type=Path, default=None, help="directory that keeps state across restarts")
    parser.add_argument(
        "--cog",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="attach a running Cog server as model NAME (owner/name)",
    )
    parser.add_argument(
        "--rate-limit", type=float, default=None, metavar="N", help="requests per second per token before 429"
    )
    ns = parser.parse_args(argv)
    cogs: dict[str, str] = {}
    for item in ns.cog:
        name, eq, url = item.partition("=")
        if not eq or name.count("/") != 1 or not url.startswith(("http://", "https://")):
            _print_error(UsageError(f"expected --cog owner/name=http://HOST:PORT, got '{item}'"), env)
            return EXIT_USAGE
        cogs[name] = url
    from rshell.sandbox.server import default_data_dir, serve
    from rshell.sandbox.store import StoreUnavailable

    data = Path(ns.data).expanduser() if ns.data is not None else Path(default_data_dir())
    try:
        _usable_directory(data, given=ns.data is not None)
        serve(ns.host, ns.port, data, cogs, ns.rate_limit)
    except StoreUnavailable as error:  # read-only, or not a database: said like the checks above
        failure = _data_error(ns.data is not None)(str(error), _DATA_HINT)
        _print_error(failure, env)
        return failure.exit_code
    except KeyboardInterrupt:
        return 0
    except RshellError as error:
        _print_error(error, env)
        return error.exit_code
    except OSError as error:
        _print_error(_listen_error(error, ns.host, ns.port), env)
        return EXIT_FAILURE
    return 0


def _usable_directory(path: Path, *, given: bool) -> None:
    """The sandbox's data directory exists (made if need be) and is writable; else one
    line saying which and why (exit 2 for a --data the user gave, 1 for the default)."""
    kind = _data_error(given)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise kind(f"cannot create the data directory {path}: {error.strerror or error}", _DATA_HINT) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise kind(f"cannot write to the data directory {path}", _DATA_HINT)


_DATA_HINT = "choose another with --data DIR"


def _data_error(given: bool) -> type[RshellError]:
    """A --data the user gave is their input (exit 2); the default is the machine's (1)."""
    return UsageError if given else RshellError


def _listen_error(error: OSError, host: str, port: int) -> RshellError:
    """A failure to start listening, said as such (port in use, not allowed, no such address)."""
    import errno
    import socket

    where = f"{host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return RshellError(
            f"cannot listen on {where}: the port is in use", "choose another with --port N (0 picks a free one)"
        )
    if error.errno == errno.EACCES:
        return RshellError(
            f"cannot listen on {where}: permission denied", "ports below 1024 need privileges; try --port 8000"
        )
    if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
        return RshellError(f"cannot listen on {where}: no such local address", "use --host 127.0.0.1")
    return RshellError(f"cannot start the sandbox on {where}: {error.strerror or error}")


def _print_error(error: RshellError, env: Env | None = None) -> None:
    from rshell.rendering.output import Output

    Output(None, env.stderr if env else None).error(error)


async def _run(opts: Options, env: Env) -> int:
    from rshell.commands.context import Environment
    from rshell.executor import Executor, read_stdin_json
    from rshell.rendering.output import Output

    interactive = not opts.words and opts.command is None and env.stdin_isatty
    persist = interactive or opts.session is not None
    out = Output(env.stdout, env.stderr, json_mode=True if opts.json else None)
    api = Api(out, dry_run=opts.dry_run, local=opts.local)
    session = _load_session(opts.session or "default", api.scope) if persist else _new_session()
    argv_mode = bool(opts.words) and not _is_script(opts.words[0]) and opts.command is None
    executor = Executor(
        session,
        out,
        api.make,
        dry_run=opts.dry_run,
        interactive=interactive,
        read_piped=(lambda: read_stdin_json(env.stdin)) if argv_mode and not env.stdin_isatty else None,
        base_url=api.base_url,
        debug=opts.debug,
        env=Environment(
            stdin=env.stdin,
            make_client=api.make_with_token,
            token_source=api.token_source,
            secrets=api.secrets,
            cache_url=api.cache_url,
        ),
    )
    api.on_start = executor.set_base_url
    if persist:
        executor.on_statement = lambda _stmt, _code: _save_session(session, api.secrets())
    try:
        return await _dispatch(opts, executor, interactive, argv_mode, env)
    finally:
        await executor.aclose()
        if persist:
            _save_session(session, api.secrets())
        api.stop()


async def _dispatch(opts: Options, executor: Executor, interactive: bool, argv_mode: bool, env: Env) -> int:
    if opts.command is not None:
        return await executor.run_text(opts.command, source="-c", keep_going=opts.keep_going)
    if argv_mode:
        return await executor.run_argv(opts.words)
    if opts.words:
        path = Path(opts.words[0]).expanduser()
        from rshell.commands.builtins import _read_script

        return await executor.run_text(
            _read_script(path), source=str(opts.words[0]), keep_going=opts.keep_going, folder=path.parent
        )
    if interactive:
        from rshell.repl.app import run_repl

        return await run_repl(executor, session_name=executor.session.name)
    return await executor.run_text(env.stdin.read(), source="<stdin>", keep_going=opts.keep_going)


def _new_session() -> Any:
    from rshell.session.state import Session

    return Session()


def _load_session(name: str, scope: str) -> Any:
    from rshell.session.store import load_session

    return load_session(name, scope)


def _save_session(session: Any, secrets: tuple[str, ...] = ()) -> None:
    from rshell.session.store import save_session

    save_session(session, secrets)


class Api:
    """Where the API is and how to build the shared client for it, decided lazily: the
    one place a client is made (the shell, `--complete`'s fetches, the tests' `rsh`).

    `base_url` and `token` replace what the environment and the config say (a test's
    server); `retries=0` makes a client that never waits to retry (a Tab).
    """

    def __init__(
        self,
        out: Output | None,
        *,
        dry_run: bool = False,
        local: bool = False,
        base_url: str | None = None,
        token: str | None = None,
        retries: int | None = None,
    ) -> None:
        from rshell.client.urls import scope_of

        self.out = out
        self.dry_run = dry_run
        self.local = local
        self._given_token = token
        self._retries = retries
        self.sandbox: Any = None  # --local: started when the first request needs it (see _local)
        self.on_start: Any = None  # told the sandbox's URL once it serves
        self._secrets: tuple[str, ...] = ()  # every token seen in use so far, newest last
        if local:
            from rshell.completion.cache import LOCAL_CACHE_URL
            from rshell.sandbox.local import local_dir, recorded_url

            self.base_url = recorded_url(local_dir()) or "http://127.0.0.1/v1"
            self.token_source: str | None = "the local sandbox (--local)"
            self.scope, self.cache_url = "local", LOCAL_CACHE_URL
        else:
            self.base_url = base_url if base_url is not None else _base_url_from_env()
            self.token_source = None
            self.scope, self.cache_url = scope_of(self.base_url), self.base_url

    def _local(self) -> Any:
        """The --local sandbox, opened on first use: the right side of
        `rshell --local run … | rshell --local run …` reads its input first, by which
        time the left side has let the sandbox go, so it serves the same data on the
        same address."""
        if self.sandbox is None:
            from rshell.sandbox.local import open_local

            self.sandbox = open_local()
            self.base_url = self.sandbox.url
            if self.on_start is not None:
                self.on_start(self.base_url)
        return self.sandbox

    def stop(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()

    def secrets(self) -> tuple[str, ...]:
        """Every token in use so far, so no file rshell writes holds one.

        Looked up again on each call: `auth login` in the REPL stores a new token
        after the first look-up, and a token once in use stays on the list after
        `auth logout`, since earlier statements may still hold it.
        """
        try:
            token = self._token()
        except RshellError:
            token = None
        if token and token not in self._secrets:
            self._secrets = (*self._secrets, token)
        return self._secrets

    def _token(self) -> str | None:
        if self._given_token is not None:
            return self._given_token
        if self.local:
            from rshell.sandbox.catalog import TOKEN

            return TOKEN
        from rshell.session.credentials import load_token

        return load_token(self.base_url)

    def make(self) -> ReplicateClient:
        if self.local:
            self._local()
        token = self._token()
        if self.dry_run:
            return self._dry_run_client(token)
        if not token:
            raise AuthError(
                "no API token: set REPLICATE_API_TOKEN or run `rshell auth login`",
                "or try everything offline against the local sandbox: rshell --local",
            )
        return self.make_with_token(token)

    def make_with_token(self, token: str | None, transport: Any = None) -> ReplicateClient:
        """A client with `token` (`auth login` checks a new one): `--local`'s sandbox
        starts first, whichever command asks."""
        from rshell.client.api import ReplicateClient

        if self.local:
            self._local()
        if self._retries is not None:
            return ReplicateClient(token, self.base_url, transport=transport, max_retries=self._retries)
        return ReplicateClient(token, self.base_url, transport=transport)

    def _dry_run_client(self, token: str | None) -> ReplicateClient:
        from rshell.dryrun import dry_run_client

        return dry_run_client(self.make_with_token, self.out.stdout if self.out else sys.stdout, token)


def _base_url_from_env() -> str:
    from rshell.session.credentials import resolve_base_url

    return resolve_base_url()
