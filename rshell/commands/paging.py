"""Lists: `--limit N`, `--all` and `--cursor C` on every list command.

A list handler asks `fetch_list` for its results instead of taking the first page:
it starts at the cursor (a bare cursor or a whole `next` URL of the same list on the
API's host), follows `next` links while --limit or --all wants more (never more than
MAX_PAGES pages, and never to another host or another list), and returns one
page-shaped dict, so `NAME = … list` binds the same shape with or without flags.
Plain imports only at module level: the catalog reads MAX_PAGES at start-up.
`Listing.hint` is the line under the table that says how to get the next page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec

from rshell.errors import RshellError, UsageError

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context, Result

MAX_PAGES = 50  # --all stops here: a bounded walk, whatever `next` links a server sends
MAX_LIMIT = 10_000

FetchPage = Callable[[str | None], Awaitable[Any]]  # cursor or next URL → a Page
ClientPage = Callable[["ReplicateClient", str | None], Awaitable[Any]]  # the same, given the client


def check_cursor(client: ReplicateClient, cursor: str | None, *segments: str) -> str | None:
    """A user's --cursor: a bare cursor, or a `next` URL of this very list on the API host."""
    if cursor is None:
        return None
    cursor = cursor.strip()
    if not cursor:
        raise UsageError("--cursor needs a value", "the cursor, or the whole next-page URL a list printed")
    if not cursor.startswith(("http://", "https://")):
        return cursor
    if not _same_list(client, cursor, segments):
        raise UsageError(
            "--cursor URL is not a page of this list on the API",
            f"give the cursor or next URL that `{' '.join(segments)}` printed",
        )
    return cursor


def _same_list(client: ReplicateClient, url: str, segments: tuple[str, ...]) -> bool:
    """True when `url` is on the API's host and its path is this list's path."""
    expected = urlsplit(client.url(*segments))
    given = urlsplit(url)
    return client.is_api_url(url) and given.path.rstrip("/") == expected.path.rstrip("/")


def check_limit(limit: int | None) -> None:
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}, got {limit}")


class Listing(msgspec.Struct):
    """What a list command shows: `data` is page-shaped API JSON (results, next,
    previous) for `NAME =`; `cut` counts results --limit left out of the last page."""

    data: dict[str, Any]
    cut: int = 0
    pages: int = 1

    @property
    def results(self) -> list[Any]:
        return list(self.data.get("results") or [])

    def hint(self, args: ParsedArgs) -> str:
        """The line under the table saying how to get the rest (the shared helper)."""
        from rshell.rendering.tables import more_hint

        return more_hint(self.data, again(args), cut=self.cut)


_PAGING_DESTS = frozenset({"limit", "all", "cursor", "json", "help"})


def again(args: ParsedArgs) -> str:
    """The command line that lists the same thing (its filters kept, paging left out)."""
    import shlex

    command = args.command
    words = [command.name, *(shlex.quote(str(args.values[a.name])) for a in command.args if args.get(a.name))]
    for flag in command.flags:
        value = args.values.get(flag.dest)
        if flag.dest in _PAGING_DESTS or value is None or value == command.defaults.get(flag.dest):
            continue
        words.append(flag.name if not flag.takes_value else f"{flag.name} {shlex.quote(str(value))}")
    return " ".join(words)


async def fetch_list(client: ReplicateClient, args: ParsedArgs, fetch: FetchPage, *segments: str) -> Listing:
    """The results --limit/--all/--cursor ask for.

    `fetch(cursor_or_url)` loads one page; `segments` name the list's path, against
    which the cursor and every followed `next` link are checked. The answer's `next`
    is the last fetched page's (None when the list is done).
    """
    from rshell.rendering.output import as_json

    limit, every = args.get("limit"), bool(args.get("all"))
    check_limit(limit)
    if limit is not None and every:
        raise UsageError("give --limit or --all, not both")
    page = as_json(await fetch(check_cursor(client, args.get("cursor"), *segments)))
    results: list[Any] = list(page.get("results") or [])
    previous, pages, seen = page.get("previous"), 1, set()
    while page.get("next") and (every or (limit is not None and len(results) < limit)):
        nxt = str(page["next"])
        if nxt in seen or pages >= MAX_PAGES:
            break
        if not _same_list(client, nxt, segments):
            raise RshellError(f"the API's next-page link leaves this list ({urlsplit(nxt).netloc}); not following it")
        seen.add(nxt)
        page = as_json(await fetch(nxt))
        results += list(page.get("results") or [])
        pages += 1
    cut = max(0, len(results) - limit) if limit is not None else 0
    data = {**page, "results": results[: len(results) - cut], "previous": previous}
    return Listing(data, cut, pages)


def iso_time(text: str | None, flag: str) -> str | None:
    """An ISO 8601 date or date-time for a filter, as the API's date-time (UTC when no
    zone is given); a bad one is a usage error before anything is sent."""
    if text is None:
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{flag} needs an ISO 8601 time, got '{text}'", "e.g. 2025-01-31 or 2025-01-31T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def list_result(
    ctx: Context, args: ParsedArgs, fetch: ClientPage, render: Callable[[list[Any]], str], *segments: str
) -> Result:
    """A list command's whole answer: the pages asked for, drawn by `render`, then the
    next-page hint (every `… list` that needs nothing more reads this way)."""
    from rshell.commands.context import Result

    client = await ctx.client()
    listing = await fetch_list(client, args, lambda cursor: fetch(client, cursor), *segments)
    return Result(listing.data, render(listing.results) + listing.hint(args))
