"""Pydantic models of the Replicate API's objects, shaped by the official OpenAPI file.

Every model allows extra fields and keeps optional fields optional, and statuses and
timestamps stay plain strings, so a new field or status value from the server (or
the local sandbox) never breaks parsing and `model_dump(mode="json")` gives back the
API's own JSON for `NAME =` bindings.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from rshell.client.fields import TERMINAL_STATUSES

T = TypeVar("T")


class ApiObject(BaseModel):
    """Base of every API object: tolerant of unknown fields, kept for round trips."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class Account(ApiObject):
    type: str | None = None
    username: str
    name: str | None = None
    avatar_url: str | None = None
    github_url: str | None = None


class Hardware(ApiObject):
    name: str | None = None
    sku: str


class Version(ApiObject):
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


class Model(ApiObject):
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


class PredictionUrls(ApiObject):
    get: str | None = None
    cancel: str | None = None
    stream: str | None = None
    web: str | None = None


class Prediction(ApiObject):
    id: str
    model: str | None = None
    version: str | None = None
    deployment: str | None = None
    status: str = "starting"
    input: dict[str, Any] = Field(default_factory=dict)
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
    urls: PredictionUrls = Field(default_factory=PredictionUrls)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class Training(Prediction):
    """A training has a prediction's lifecycle; its output names the new version."""


class DeploymentConfiguration(ApiObject):
    hardware: str | None = None
    min_instances: int | None = None
    max_instances: int | None = None


class DeploymentRelease(ApiObject):
    number: int | None = None
    model: str | None = None
    version: str | None = None
    created_at: str | None = None
    created_by: Account | None = None
    configuration: DeploymentConfiguration | None = None


class Deployment(ApiObject):
    owner: str
    name: str
    current_release: DeploymentRelease | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class FileUrls(ApiObject):
    get: str | None = None


class File(ApiObject):
    id: str
    name: str | None = None
    content_type: str | None = None
    size: int | None = None
    checksums: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: str | None = None
    expires_at: str | None = None
    urls: FileUrls = Field(default_factory=FileUrls)


class Collection(ApiObject):
    name: str
    slug: str
    description: str | None = None
    full_description: str | None = None
    models: list[Model] = Field(default_factory=list)


class SearchModelMetadata(ApiObject):
    generated_description: str | None = None
    score: float | None = None
    tags: list[str] = Field(default_factory=list)


class SearchModel(ApiObject):
    model: Model
    metadata: SearchModelMetadata = Field(default_factory=SearchModelMetadata)


class SearchCollection(ApiObject):
    name: str
    slug: str
    description: str | None = None
    models: list[str] | None = None


class SearchPage(ApiObject):
    name: str
    href: str


class SearchResponse(ApiObject):
    query: str = ""
    models: list[SearchModel] = Field(default_factory=list)
    collections: list[SearchCollection] = Field(default_factory=list)
    pages: list[SearchPage] = Field(default_factory=list)


class Page(ApiObject, Generic[T]):
    """One page of a list endpoint; `next` is the absolute URL of the following page."""

    results: list[T] = Field(default_factory=list)
    next: str | None = None
    previous: str | None = None


class ServerEvent(ApiObject):
    """One SSE event of a prediction stream (`output`, `logs`, `error`, `done`)."""

    event: str
    data: str = ""
    id: str | None = None
