"""Completion sources, declared once each (pgcli's `@refresher`).

A source is what a catalog declaration names in `complete=` (`"prediction"`), or a
kind of data the engine asks the refresher for (`"schema"`). Each fetched one is
declared here by one decorator: the cache kind it fills, how long that stays fresh,
the fetch itself, and, for the id/name lists, the catalog name it answers. The
refresher, the cache, the engine and the catalog's check all read these tables.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rshell.completion.cache import ModelInfo, VersionInfo
from rshell.completion.matcher import Candidate
from rshell.completion.meta import join, one_line

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.client.models import Model, Prediction
    from rshell.completion.cache import CompletionCache

Fetch = Callable[[Any, "CompletionCache", str], Awaitable[None]]


@dataclass(frozen=True)
class Source:
    """One fetched kind: `ttl` seconds fresh; `listed` names the catalog source whose
    completion is the cache's list of this kind (`"prediction"` → `predictions`)."""

    kind: str
    ttl: float
    fetch: Fetch
    listed: str | None = None


FETCHES: dict[str, Source] = {}
LISTED: dict[str, str] = {}  # catalog source name -> the list kind that answers it
# Sources answered without the API (or, for models, by several fetches).
LOCAL = frozenset({"model", "path", "variable", "command", "option", "alias", "api_method", "api_path"})


def refresher(kind: str, ttl: float, *, listed: str | None = None) -> Callable[[Fetch], Fetch]:
    """Declare the fetch of `kind` (the decorated function)."""

    def register(fetch: Fetch) -> Fetch:
        FETCHES[kind] = Source(kind, ttl, fetch, listed)
        if listed is not None:
            LISTED[listed] = kind
        return fetch

    return register


def names() -> frozenset[str]:
    """Every source a catalog declaration may name."""
    return LOCAL | frozenset(LISTED)


def _model_info(m: Model) -> ModelInfo:
    return ModelInfo(m.full_name, one_line(m.description), m.run_count or 0)


@refresher("models", 600)
async def _models(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    page = await (client.models_search(key) if key else client.models_list())
    cache.put_models((_model_info(m) for m in page.results), query=key or None)


@refresher("schema", 3600)
async def _schema(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    """`owner/name` → the latest version's schema; `owner/name:id` → that version's."""
    model, _, version_id = key.partition(":")
    owner, _, name = model.partition("/")
    if version_id:
        pinned = await client.models_versions_get(owner, name, version_id)
        cache.put_version_schema(version_id, pinned.openapi_schema)
        return
    found = await client.models_get(owner, name)
    latest = found.latest_version  # None for a model with no version yet: only its info is kept
    schema, latest_id = (latest.openapi_schema, latest.id) if latest is not None else (None, None)
    cache.put_schema(model, schema, latest_id, _model_info(found))


@refresher("versions", 600)
async def _versions(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    owner, _, name = key.partition("/")
    page = await client.models_versions_list(owner, name)
    cache.put_versions(key, [VersionInfo(v.id, v.created_at or "") for v in page.results])
    for v in page.results:
        cache.put_version_schema(v.id, v.openapi_schema)


@refresher("deployment", 600)
async def _deployment(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    """`owner/name` of a deployment → its current version's schema (`run --deployment`)."""
    from rshell.commands.modelref import fetch_deployment_schema

    owner, _, name = key.partition("/")
    schema, version = await fetch_deployment_schema(client, owner, name)
    if version:
        cache.put_deployment(key, str(version), schema)


@refresher("hardware", 86400, listed="hardware")
async def _hardware(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    found = await client.hardware_list()
    cache.put_list("hardware", [Candidate(h.sku, one_line(h.name)) for h in found])


async def _runs(kind: str, runs: Sequence[Prediction], cache: CompletionCache) -> None:
    """Prediction or training ids, newest first; their models count as recent."""
    cache.put_list(kind, [Candidate(r.id, join(r.model, r.status, _date(r.created_at))) for r in runs])
    cache.add_recent_models([r.model for r in runs if r.model])


@refresher("predictions", 30, listed="prediction")
async def _predictions(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    await _runs("predictions", (await client.predictions_list()).results, cache)


@refresher("trainings", 30, listed="training")
async def _trainings(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    await _runs("trainings", (await client.trainings_list()).results, cache)


@refresher("deployments", 120, listed="deployment")
async def _deployments(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    page = await client.deployments_list()
    items = []
    for d in page.results:
        release = d.current_release
        config = release.configuration if release is not None else None
        model = release.model if release is not None else None
        items.append(Candidate(d.full_name, join(model, config.hardware if config is not None else None)))
    cache.put_list("deployments", items)


@refresher("files", 120, listed="file")
async def _files(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    page = await client.files_list()
    items = [Candidate(f.id, join(f.name, f.content_type, _date(f.created_at))) for f in page.results]
    cache.put_list("files", items)


@refresher("collections", 3600, listed="collection")
async def _collections(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    page = await client.collections_list()
    items = [Candidate(c.slug, join(c.name, c.description)) for c in page.results]
    cache.put_list("collections", items)


@refresher("account", 86400)
async def _account(client: ReplicateClient, cache: CompletionCache, key: str) -> None:
    cache.set_username((await client.account_get()).username)


def _date(value: Any) -> str:
    """`2024-05-01T12:00:00Z` → `2024-05-01 12:00`."""
    return str(value or "")[:16].replace("T", " ")
