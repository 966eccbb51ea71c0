"""What a command handler receives (Context) and returns (Result).

A handler is `async def handler(ctx: Context, args: ParsedArgs) -> Result`. It talks
to the API only through `await ctx.client()`, prints progress through `ctx.out`, and
returns its result; the executor prints it and binds it to `_` and to `NAME =`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import IO, TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.grammar.lexer import Word
    from rshell.rendering.output import Output
    from rshell.session.state import Session


class Result(msgspec.Struct):
    """A command's outcome.

    data: JSON-able (the API object as JSON): what `NAME =` and `_` bind, what --json
          and a non-TTY stdout print.
    text: the human summary for a terminal; None means print `data` as JSON.
    ok:   False makes the statement fail with exit code 1 (a failed prediction) while
          still binding its data.
    bind: False for builtins that only show things (`vars`, `help`): `_` is kept.
    """

    data: Any = None
    text: str | None = None
    ok: bool = True
    bind: bool = True
    error: str | None = None  # why ok is False, one line
    plain: str | None = None  # printed as-is instead of JSON (a README's Markdown off a terminal)
    text_output: bool = False  # data's output is streamed text (a concatenate iterator): joined in templates


class Environment(msgspec.Struct, frozen=True):
    """What a handler may know of the process around it, beyond the session: typed,
    so no handler reaches into the executor or the entry point."""

    base_url: str = ""  # the API the executor talks to ("" when not configured)
    cache_url: str | None = None  # whose completion cache to use (`--local`: one for every port)
    stdin: IO[str] | None = None  # where `auth login --token-stdin` reads (None: sys.stdin)
    read_secret: Callable[[str], str] | None = None  # hidden input (None: getpass)
    make_client: Callable[[str], ReplicateClient] | None = None  # a client for a new token
    token_source: str | None = None  # where the token comes from, in words (never the token)
    secrets: Callable[[], tuple[str, ...]] | None = None  # the tokens in use, to keep out of files
    request_exit: Callable[[], None] | None = None  # `exit`: stop after this statement


class Context(msgspec.Struct):
    session: Session
    out: Output
    get_client: Callable[[], Awaitable[ReplicateClient]]
    piped: Any = None  # the previous pipeline stage's result, or JSON read from stdin
    dry_run: bool = False
    interactive: bool = False  # True in the REPL
    run_script: Callable[..., Awaitable[int]] | None = None  # for `source`
    shown: bool = True  # the stage whose result is printed (a pipeline's last): only it previews
    env: Environment = msgspec.field(default_factory=Environment)
    words: tuple[Word, ...] = ()  # the stage's words as typed (quoting known): a `run`'s sweep axes

    async def client(self) -> ReplicateClient:
        return await self.get_client()

    def wants_json(self, args: Any) -> bool:
        """Whether this command's result prints as JSON, decided once for the printing and
        for streaming (tokens must stay off a stdout that carries JSON): asked on the line
        (`--json`) or the session (`set json on`), else the output's mode (`rshell --json`),
        else JSON unless stdout is a terminal."""
        if args.values.get("json") or self.session.options.get("json"):
            return True
        mode = self.out.json_mode
        return mode if mode is not None else not self.out.stdout_tty
