"""Human summaries of collections and of `search` (models, collections, docs pages)."""

from __future__ import annotations

from typing import Any

from rshell.rendering.models import model_table
from rshell.rendering.tables import human_count, table
from rshell.text import one_line


def collection_table(collections: list[dict[str, Any]]) -> str:
    if not collections:
        return "no collections"
    rows = [(c.get("slug"), c.get("name"), c.get("description")) for c in collections]
    return table(("slug", "name", "description"), rows, flex=2)


def collection_text(collection: dict[str, Any]) -> str:
    """`collections show`: its name and description, then its models as a table."""
    lines = [f"{collection.get('name')} ({collection.get('slug')})"]
    if collection.get("description"):
        lines.append(one_line(collection["description"]))
    lines += ["", model_table(collection.get("models") or [])]
    return "\n".join(lines)


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
