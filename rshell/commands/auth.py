"""`auth login|logout|status`: save, forget and check the API token.

The token is read with hidden input (or one line of stdin), checked against
`GET /v1/account` with a client made for that token alone, and only then saved.
No message, result or error here ever contains it.

Reads `ctx.env` (the executor's `Environment`): `make_client(token)` → a
ReplicateClient for that token, `base_url` (the API the session talks to) and
`token_source` (a description that overrides the credentials' own, e.g. for the
local sandbox). Tests may set `read_secret(prompt)` and `stdin`.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from rshell.commands.context import Result
from rshell.errors import AuthError, UsageError
from rshell.rendering.output import as_json, isatty

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context

PROMPT = "API token (input hidden): "
TOKEN_HINT = "create one at https://replicate.com/account/api-tokens"


def _base_url(ctx: Context) -> str:
    if ctx.env.base_url:
        return ctx.env.base_url
    from rshell.session.credentials import resolve_base_url

    return resolve_base_url()


def _client_for(ctx: Context, token: str) -> ReplicateClient:
    if ctx.env.make_client is not None:
        return ctx.env.make_client(token)
    from rshell.client.api import ReplicateClient

    return ReplicateClient(token, _base_url(ctx))


def read_token(ctx: Context, from_stdin: bool) -> str:
    """The token from one line of stdin, or typed with hidden input on a terminal."""
    stdin: IO[str] = ctx.env.stdin or sys.stdin
    if from_stdin:
        token = stdin.readline()
    else:
        if not isatty(stdin):
            raise UsageError(
                "no terminal to type the token into", "pipe it in: rshell auth login --token-stdin < token.txt"
            )
        reader: Callable[[str], str] = ctx.env.read_secret or getpass.getpass
        try:
            token = reader(PROMPT)
        except EOFError:
            token = ""
    token = token.strip()
    if not token:
        raise UsageError("no token given", TOKEN_HINT)
    if any(ch.isspace() for ch in token):
        raise UsageError("that does not look like an API token (it contains spaces)", TOKEN_HINT)
    return token


async def _verify(ctx: Context, token: str) -> dict[str, Any]:
    """The account the token belongs to; a refused token is an AuthError naming no token."""
    client = _client_for(ctx, token)
    try:
        return as_json(await client.account_get())
    except AuthError:
        raise AuthError("the API refused that token; nothing was saved", TOKEN_HINT) from None
    finally:
        await client.aclose()


async def login(ctx: Context, args: ParsedArgs) -> Result:
    """Ask for a token, check it with GET /v1/account, and save it (mode 0600)."""
    from rshell.session.credentials import save_token

    token = read_token(ctx, bool(args.get("token_stdin")))
    account = await _verify(ctx, token)
    path = save_token(token, _base_url(ctx))
    return Result(account, f"logged in as {account.get('username')} (token saved to {path})")


async def logout(ctx: Context, args: ParsedArgs) -> Result:
    """Forget the saved token; a token from the environment is not ours to remove."""
    from rshell.session.credentials import delete_token, token_source

    base_url = _base_url(ctx)
    removed = delete_token(base_url)
    lines = ["logged out: removed the saved token" if removed else "no saved token to remove"]
    still = token_source(base_url)
    if still:
        lines.append(f"a token is still set by {still}")
    return Result(None, "\n".join(lines), bind=False)


async def status(ctx: Context, args: ParsedArgs) -> Result:
    """Which account the token is for and where it comes from; never the token itself."""
    from rshell.session.credentials import token_source

    base_url = _base_url(ctx)
    source = ctx.env.token_source or token_source(base_url)
    if not source:
        raise AuthError("not logged in: no API token", "run `auth login`, or set REPLICATE_API_TOKEN")
    client = await ctx.client()
    try:
        account = as_json(await client.account_get())
    except AuthError:
        raise AuthError(
            f"the token from {source} was refused by the API", "run `auth login` with a new token"
        ) from None
    from rshell.client.urls import shown_url

    text = f"logged in to {shown_url(base_url)} as {account.get('username')} (token from {source})"
    return Result(account, text)
