"""`collections list|show` and the top-level `search` (models, collections, docs pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rshell.commands.context import Result
from rshell.errors import UsageError
from rshell.rendering.collections import collection_table, collection_text, search_text
from rshell.rendering.output import as_json

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context

SEARCH_LIMIT = (1, 50)  # the API's bounds for GET /v1/search?limit=


async def list_(ctx: Context, args: ParsedArgs) -> Result:
    from rshell.commands.paging import fetch_list

    client = await ctx.client()
    listing = await fetch_list(client, args, client.collections_list, "collections")
    return Result(listing.data, collection_table(listing.results) + listing.hint(args))


async def show(ctx: Context, args: ParsedArgs) -> Result:
    """A collection's name and description, then its models as a table."""
    client = await ctx.client()
    collection = as_json(await client.collections_get(args.slug))
    return Result(collection, collection_text(collection))


async def search(ctx: Context, args: ParsedArgs) -> Result:
    """Search models, collections and docs pages (GET /v1/search)."""
    query = (args.get("query") or "").strip()
    if not query:
        raise UsageError("`search` needs words to search for", "e.g. search 'upscale images'")
    limit = args.get("limit")
    low, high = SEARCH_LIMIT
    if limit is not None and not low <= limit <= high:
        raise UsageError(f"--limit must be between {low} and {high}, got {limit}")
    client = await ctx.client()
    found = as_json(await client.search(query, limit=limit))
    return Result(found, search_text(found))
