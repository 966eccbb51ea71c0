"""Account, hardware, webhook secret, collections and search handlers."""

from __future__ import annotations

import string
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from rshell.sandbox import render
from rshell.sandbox.catalog import ACCOUNT, COLLECTIONS, HARDWARE
from rshell.sandbox.pagination import Listed, page
from rshell.sandbox.problems import Problem, not_found
from rshell.sandbox.web import origin, param, reply, sandbox


async def account_get(request: Request) -> JSONResponse:
    return reply(ACCOUNT)


async def hardware_list(request: Request) -> JSONResponse:
    return reply(HARDWARE)


async def webhook_secret(request: Request) -> JSONResponse:
    return reply({"key": sandbox(request).secret})


def _collections(request: Request) -> list[dict[str, Any]]:
    """The catalog's collections that have at least one hosted model."""
    hosted = sorted(k for k, m in _models(request).items() if m.get("builtin"))
    found = []
    for entry in COLLECTIONS:
        members = hosted if entry["models"] is None else [m for m in entry["models"] if m in hosted]
        if members:
            found.append({**entry, "models": members})
    return found


def _models(request: Request) -> dict[str, dict[str, Any]]:
    box = sandbox(request)
    return {f"{m['owner']}/{m['name']}": m for m in box.store.values("models")}


async def collections_list(request: Request) -> JSONResponse:
    numbered = list(enumerate(_collections(request)))  # the catalog's order, keyed by place
    listing = Listed(numbered, lambda pair: (float(pair[0]),))
    return reply(page(request, listing, lambda pair: {k: pair[1][k] for k in ("name", "slug", "description")}))


async def collections_get(request: Request) -> JSONResponse:
    slug = param(request, "collection_slug")
    for entry in _collections(request):
        if entry["slug"] == slug:
            box, models = sandbox(request), _models(request)
            return reply(
                {
                    "name": entry["name"],
                    "slug": slug,
                    "description": entry["description"],
                    "full_description": f"{entry['description']}\n\nHosted by the rshell sandbox.",
                    "models": [render.model_view(box, models[key], origin(request)) for key in entry["models"]],
                }
            )
    raise not_found("collection", slug)


def score(query: str, *texts: str | None) -> float:
    """A crude relevance: 2 per word in the name, 1 per word elsewhere; 0 = no match.

    Punctuation around a word is ignored, as a full-text search ignores it: the official
    JS client's `models.search("pixels")` sends the JSON string `"pixels"`, quotes and all,
    and Replicate finds pixels models for it."""
    words = [w for w in (word.strip(string.punctuation) for word in query.lower().split()) if w]
    if not words:
        return 0.0
    name, *rest = [(t or "").lower() for t in texts]
    total = 0.0
    for word in words:
        if word in name:
            total += 2.0
        elif any(word in t for t in rest):
            total += 1.0
        else:
            return 0.0
    return total


async def search(request: Request) -> JSONResponse:
    query = request.query_params.get("query", "").strip()
    if not query:
        raise Problem(400, "query: a search query is required")
    limit = _limit(request.query_params.get("limit"))
    box, here = sandbox(request), origin(request)
    models = []
    for key, model in _models(request).items():
        points = score(query, key, model.get("description"))
        if points:
            models.append((points, key, model))
    models.sort(key=lambda m: (-m[0], m[1]))
    collections = [c for c in _collections(request) if score(query, c["slug"] + " " + c["name"], c["description"])]
    return reply(
        {
            "query": query,
            "models": [
                {
                    "model": render.model_view(box, m, here),
                    "metadata": {
                        "generated_description": m.get("description"),
                        "score": points,
                        "tags": _tags(key, request),
                    },
                }
                for points, key, m in models[:limit]
            ],
            "collections": [{k: c[k] for k in ("name", "slug", "description", "models")} for c in collections[:limit]],
            "pages": [],
        }
    )


def _tags(model_key: str, request: Request) -> list[str]:
    return [c["slug"] for c in _collections(request) if model_key in c["models"] and c["slug"] != "sandbox-models"]


def _limit(raw: str | None) -> int:
    if raw is None:
        return 20
    try:
        value = int(raw)
    except ValueError:
        raise Problem(400, "limit: must be an integer between 1 and 50") from None
    if not 1 <= value <= 50:
        raise Problem(400, "limit: must be an integer between 1 and 50")
    return value
