"""`collections list|show` and the top-level `search` (models, collections, docs pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rshell.commands.context import Result
from rshell.commands.models import model_table
from rshell.errors import UsageError
from rshell.rendering.output import as_json
from rshell.rendering.tables import human_count, table

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context

SEARCH_LIMIT = (1, 50)  # the API's bounds for GET /v1/search?limit=


def collection_table(collections: list[dict[str, Any]]) -> str:
    if not collections:
        return "no collections"
    rows = [(c.get("slug"), c.get("name"), c.get("description")) for c in collections]
    return table(("slug", "name", "description"), rows, flex=2)


async def list_(ctx: Context, args: ParsedArgs) -> Result:
    from rshell.commands.paging import list_result

    return await list_result(
        ctx, args, lambda client, cursor: client.collections_list(cursor), collection_table, "collections"
    )


async def show(ctx: Context, args: ParsedArgs) -> Result:
    """A collection's name and description, then its models as a table."""
    client = await ctx.client()
    collection = as_json(await client.collections_get(args.slug))
    lines = [f"{collection.get('name')} ({collection.get('slug')})"]
    if collection.get("description"):
        lines.append(" ".join(str(collection["description"]).split()))
    lines += ["", model_table(collection.get("models") or [])]
    return Result(collection, "\n".join(lines))


def _search_models(entries: list[dict[str, Any]]) -> str:
    rows = []
    for entry in entries:
        model = entry.get("model") or {}
        meta = entry.get("metadata") or {}
        about = model.get("description") or meta.get("generated_description")
        rows.append((f"{model.get('owner')}/{model.get('name')}", human_count(model.get("run_count")), about))
    return table(("model", "runs", "description"), rows, flex=2)


def search_text(found: dict[str, Any]) -> str:
    """The three sections the API returns, each left out when empty."""
    sections: list[str] = []
    if found.get("models"):
        sections.append("Models\n" + _search_models(found["models"]))
    if found.get("collections"):
        sections.append("Collections\n" + collection_table(found["collections"]))
    if found.get("pages"):
        rows = [(p.get("name"), p.get("href")) for p in found["pages"]]
        sections.append("Pages\n" + table(("page", "link"), rows))
    return "\n\n".join(sections) or f"nothing found for '{found.get('query', '')}'"


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
