"""Turn stored records into the API's JSON objects, with URLs on the caller's origin.

Records keep private bookkeeping under keys starting with `_` (events, webhook) and
store sandbox URLs with a marker; views drop the former and publicise the latter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rshell.sandbox.catalog import ACCOUNT, BUILTIN_CREATED_AT
from rshell.sandbox.pagination import Newest
from rshell.sandbox.store import Query
from rshell.sandbox.urls import publicise

if TYPE_CHECKING:
    from rshell.sandbox.core import Sandbox

Json = dict[str, Any]
EXAMPLE_MAX_BYTES = 64 * 1024  # the largest prediction a model view embeds as its default example


def _public(record: Json) -> Json:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def version_key(version: Json) -> tuple[str, str]:
    """Versions list newest first by this."""
    return (version["created_at"], version["id"])


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
        "run_count": sandbox.store.count("predictions", Query(model=key)),  # whichever process served them
        "is_official": bool(model.get("official")),
        "default_example": example,
        "latest_version": version_view(latest) if latest else None,
    }


def _default_example(sandbox: Sandbox, model_key: str, origin: str) -> Json | None:
    found = examples(sandbox, model_key).fetch(None, 1)
    return run_view("predictions", found[0], origin) if found else None


def examples(sandbox: Sandbox, model_key: str) -> Newest:
    """A model's examples: its succeeded predictions small enough to embed, newest first.

    A 20 MB prediction is never an example (each model view would carry it); the store
    keeps each record's public size in an indexed column, so this reads one page.
    """
    query = Query(model=model_key, status="succeeded", max_size=EXAMPLE_MAX_BYTES)
    return Newest(sandbox.store, "predictions", query)


def model_sort_key(sandbox: Sandbox, model: Json, sort_by: str) -> tuple[str, str]:
    key = f"{model['owner']}/{model['name']}"
    if sort_by == "model_created_at":
        return (model.get("created_at") or BUILTIN_CREATED_AT, key)
    latest = sandbox.latest_version(key)
    return (latest["created_at"] if latest else "", key)


def output_streams(openapi_schema: Any) -> bool:
    """Whether a version's output streams, as Cog declares it: an array output marked
    `x-cog-array-type: iterator`. Only such predictions get `urls.stream` (the spec:
    "if the model supports streaming"); the official Go CLI streams whenever it is there."""
    schemas = openapi_schema.get("components", {}).get("schemas", {}) if isinstance(openapi_schema, dict) else {}
    output = schemas.get("Output") if isinstance(schemas, dict) else None
    return isinstance(output, dict) and output.get("x-cog-array-type") == "iterator"


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
        if record.get("_streams"):  # set at creation from the version's output schema
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
