"""Turn stored records into the API's JSON objects, with URLs on the caller's origin.

Records keep private bookkeeping under keys starting with `_` (events, webhook) and
store sandbox URLs with a marker; views drop the former and publicise the latter.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rshell.sandbox.catalog import ACCOUNT, BUILTIN_CREATED_AT
from rshell.sandbox.urls import publicise

if TYPE_CHECKING:
    from rshell.sandbox.core import Sandbox

Json = dict[str, Any]
EXAMPLE_MAX_BYTES = 64 * 1024  # the largest prediction a model view embeds as its default example


def _public(record: Json) -> Json:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def version_view(version: Json) -> Json:
    return {
        "id": version["id"],
        "created_at": version["created_at"],
        "cog_version": version.get("cog_version"),
        "openapi_schema": version.get("openapi_schema"),
    }


def model_view(sandbox: Sandbox, model: Json, origin: str) -> Json:
    key = f"{model['owner']}/{model['name']}"
    latest = sandbox.latest_version(key)
    example = _default_example(sandbox, key, origin)
    return {
        "url": f"{origin}/{quote(model['owner'])}/{quote(model['name'])}",
        "owner": model["owner"],
        "name": model["name"],
        "description": model.get("description"),
        "visibility": model.get("visibility", "public"),
        "github_url": model.get("github_url"),
        "paper_url": model.get("paper_url"),
        "license_url": model.get("license_url"),
        "cover_image_url": model.get("cover_image_url"),
        "run_count": int(model.get("run_count", 0)),
        "is_official": bool(model.get("official")),
        "default_example": example,
        "latest_version": version_view(latest) if latest else None,
    }


def _default_example(sandbox: Sandbox, model_key: str, origin: str) -> Json | None:
    found = examples(sandbox, model_key)
    return run_view("predictions", found[0], origin) if found else None


def examples(sandbox: Sandbox, model_key: str) -> list[Json]:
    """A model's examples: its succeeded predictions small enough to embed, newest first.

    A 20 MB prediction is never an example (each model view would carry it), and the
    records are not copied: finished runs no longer change and views build new objects.
    """
    runs = sandbox.store.matching(
        "predictions",
        lambda p: p["model"] == model_key and p["status"] == "succeeded" and view_size(p) <= EXAMPLE_MAX_BYTES,
    )
    return sorted(runs, key=lambda p: (p["created_at"], p["id"]), reverse=True)


def view_size(record: Json) -> int:
    """Bytes of a record's public JSON, measured once (finished runs do not change)."""
    size = record.get("_size")
    if not isinstance(size, int):
        size = len(json.dumps(_public(record), default=str))
        if record.get("status") in ("succeeded", "failed", "canceled"):
            record["_size"] = size  # derived from the record; cached on it
    return size


def model_sort_key(sandbox: Sandbox, model: Json, sort_by: str) -> tuple[str, str]:
    key = f"{model['owner']}/{model['name']}"
    if sort_by == "model_created_at":
        return (model.get("created_at") or BUILTIN_CREATED_AT, key)
    latest = sandbox.latest_version(key)
    return (latest["created_at"] if latest else "", key)


def run_view(kind: str, record: Json, origin: str) -> Json:
    """A prediction or training as the API shows it."""
    view = publicise(_public(record), origin)
    if record.get("_official"):
        view["version"] = "hidden"  # Replicate does not show an official model's version
    for optional in ("started_at", "completed_at", "deadline"):  # dates the API omits, never nulls
        if view.get(optional) is None:
            view.pop(optional, None)
    api = f"{origin}/v1/{kind}/{record['id']}"
    view["urls"] = {"get": api, "cancel": f"{api}/cancel", "web": f"{origin}/p/{record['id']}"}
    if kind == "predictions":
        view["urls"]["stream"] = f"{api}/stream"
    else:
        view.pop("deployment", None)
        if view.get("output") is None:
            view.pop("output", None)  # a training's output is an object or absent
    return view


def deployment_view(record: Json) -> Json:
    release = record["releases"][-1]
    return {"owner": record["owner"], "name": record["name"], "current_release": release}


def release(number: int, model: str, version: str, configuration: Json, created_at: str) -> Json:
    creator = {k: ACCOUNT[k] for k in ("type", "username", "name", "github_url")}
    return {
        "number": number,
        "model": model,
        "version": version,
        "created_at": created_at,
        "created_by": creator,
        "configuration": configuration,
    }


def file_view(record: Json, origin: str, download: str | None = None) -> Json:
    """A file as the API shows it; `download` is its signed download URL, if any."""
    api = f"{origin}/v1/files/{record['id']}"
    return {
        "id": record["id"],
        "name": record.get("name") or record["id"],
        "content_type": record["content_type"],
        "size": record["size"],
        "etag": record["sha256"],  # the official client requires one
        "checksums": {"sha256": record["sha256"]},
        "metadata": record.get("metadata") or {},
        "created_at": record["created_at"],
        "expires_at": record["expires_at"],
        "urls": {"get": api, **({"download": download} if download else {})},
    }
