"""The Replicate API's objects as msgspec structs, shaped by the official OpenAPI file.

Every object keeps optional fields optional, and statuses and timestamps stay plain
strings, so a new field or status value from the server (or the local sandbox) never
breaks parsing. `parse` keeps the JSON each object came from, so `as_json` gives back
the API's own JSON, fields rshell does not declare included, for `NAME =` bindings.

msgspec, not pydantic: the same typed check at the API boundary, but importing it
costs about 3 ms where pydantic's BaseModel costs about 60 ms, and every network
one-shot pays that before its first request (SPEC 10's 150 ms budget).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from rshell.client.fields import TERMINAL_STATUSES

T = TypeVar("T")
_SOURCE = "_source"
_KIND = "_kind"


class ApiObject(msgspec.Struct, kw_only=True, dict=True):
    """Base of every API object: tolerant of unknown fields, kept for round trips.

    Each subclass says `kw_only=True` again: msgspec applies it to the fields a class
    declares itself, and required fields follow optional ones here.
    """

    def as_json(self) -> dict[str, Any]:
        """The object as the API's JSON: what it was parsed from, with every declared
        field's current value (nested objects likewise) over it."""
        out: dict[str, Any] = dict(self.__dict__.get(_SOURCE) or {})
        for name in self.__struct_fields__:
            out[name] = _json_of(getattr(self, name))
        return out

    def parsed_as(self) -> Any:
        """The type `parse` was given: `Page[Model]` for a page of models, where
        `type()` says only `Page` (so a next page is read as the first was)."""
        return self.__dict__.get(_KIND, type(self))


def parse(kind: Any, data: Any) -> Any:
    """`data` (decoded JSON) as `kind` (an ApiObject type, `Page[X]` or `list[X]`).

    Lax about scalars the way JSON producers differ (`"5"` for an int), strict about
    shape; raises msgspec.ValidationError naming the path (`$.results[0]`).
    """
    value = msgspec.convert(data, kind, strict=False)
    _keep_source(value, data)
    if isinstance(value, ApiObject):
        value.__dict__[_KIND] = kind
    return value


def _keep_source(value: Any, data: Any) -> None:
    if isinstance(value, ApiObject) and isinstance(data, dict):
        value.__dict__[_SOURCE] = data
        for name in value.__struct_fields__:
            _keep_source(getattr(value, name), data.get(name))
    elif isinstance(value, list) and isinstance(data, list):
        for item, source in zip(value, data, strict=False):
            _keep_source(item, source)


def _json_of(value: Any) -> Any:
    if isinstance(value, ApiObject):
        return value.as_json()
    if isinstance(value, list):
        return [_json_of(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_of(item) for key, item in value.items()}
    return value


class Account(ApiObject, kw_only=True):
    type: str | None = None
    username: str
    name: str | None = None
    avatar_url: str | None = None
    github_url: str | None = None


class Hardware(ApiObject, kw_only=True):
    name: str | None = None
    sku: str


class Version(ApiObject, kw_only=True):
    id: str
    created_at: str | None = None
    cog_version: str | None = None
    openapi_schema: dict[str, Any] | None = None

    def component(self, name: str) -> dict[str, Any] | None:
        """A schema under components.schemas (Cog puts `Input`, `Output` there)."""
        schemas = ((self.openapi_schema or {}).get("components") or {}).get("schemas") or {}
        found = schemas.get(name)
        return found if isinstance(found, dict) else None

    def input_schema(self) -> dict[str, Any] | None:
        return self.component("Input")

    def output_schema(self) -> dict[str, Any] | None:
        return self.component("Output")


class Model(ApiObject, kw_only=True):
    owner: str
    name: str
    url: str | None = None
    description: str | None = None
    visibility: str | None = None
    github_url: str | None = None
    paper_url: str | None = None
    license_url: str | None = None
    cover_image_url: str | None = None
    run_count: int | None = None
    is_official: bool | None = None
    default_example: dict[str, Any] | None = None
    latest_version: Version | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class PredictionUrls(ApiObject, kw_only=True):
    get: str | None = None
    cancel: str | None = None
    stream: str | None = None
    web: str | None = None


class Prediction(ApiObject, kw_only=True):
    id: str
    model: str | None = None
    version: str | None = None
    deployment: str | None = None
    status: str = "starting"
    input: dict[str, Any] = msgspec.field(default_factory=dict)
    output: Any = None
    error: Any = None
    logs: str | None = None
    metrics: dict[str, Any] | None = None
    source: str | None = None
    data_removed: bool | None = None
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    deadline: str | None = None
    urls: PredictionUrls = msgspec.field(default_factory=PredictionUrls)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class Training(Prediction):
    """A training has a prediction's lifecycle; its output names the new version."""


class DeploymentConfiguration(ApiObject, kw_only=True):
    hardware: str | None = None
    min_instances: int | None = None
    max_instances: int | None = None


class DeploymentRelease(ApiObject, kw_only=True):
    number: int | None = None
    model: str | None = None
    version: str | None = None
    created_at: str | None = None
    created_by: Account | None = None
    configuration: DeploymentConfiguration | None = None


class Deployment(ApiObject, kw_only=True):
    owner: str
    name: str
    current_release: DeploymentRelease | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class FileUrls(ApiObject, kw_only=True):
    get: str | None = None


class File(ApiObject, kw_only=True):
    id: str
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    checksums: dict[str, Any] = msgspec.field(default_factory=dict)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    created_at: str | None = None
    expires_at: str | None = None
    urls: FileUrls = msgspec.field(default_factory=FileUrls)


class Collection(ApiObject, kw_only=True):
    name: str
    slug: str
    description: str | None = None
    full_description: str | None = None
    models: list[Model] = msgspec.field(default_factory=list)


class SearchModelMetadata(ApiObject, kw_only=True):
    generated_description: str | None = None
    score: float | None = None
    tags: list[str] = msgspec.field(default_factory=list)


class SearchModel(ApiObject, kw_only=True):
    model: Model
    metadata: SearchModelMetadata = msgspec.field(default_factory=SearchModelMetadata)


class SearchCollection(ApiObject, kw_only=True):
    name: str
    slug: str
    description: str | None = None
    models: list[str] | None = None


class SearchPage(ApiObject, kw_only=True):
    name: str
    href: str


class SearchResponse(ApiObject, kw_only=True):
    query: str = ""
    models: list[SearchModel] = msgspec.field(default_factory=list)
    collections: list[SearchCollection] = msgspec.field(default_factory=list)
    pages: list[SearchPage] = msgspec.field(default_factory=list)


class Page(ApiObject, Generic[T], kw_only=True):
    """One page of a list endpoint; `next` is the absolute URL of the following page."""

    results: list[T] = msgspec.field(default_factory=list)
    next: str | None = None
    previous: str | None = None


class ServerEvent(ApiObject, kw_only=True):
    """One SSE event of a prediction stream (`output`, `logs`, `error`, `done`)."""

    event: str
    data: str = ""
    id: str | None = None
