"""Model references (`owner/name`, `owner/name:version`, a bare version id), the
OpenAPI schema behind them, and turning `key=value` words into a request's input.

Shared by the prediction, training, model and deployment handlers so every command
reads a reference the same way and validates inputs before anything is sent.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from rshell import dataurls
from rshell.errors import RshellError, UsageError

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.client.models import Model
    from rshell.commands.context import Context
    from rshell.commands.registry import Command
    from rshell.grammar.inputs import Input

# A version id as the API issues them: 64 lowercase hex digits.
VERSION_ID_RE = re.compile(r"[0-9a-f]{64}\Z")
# A version id cut short, as rshell's tables show it: at least 12 of its hex digits.
SHORT_VERSION_RE = re.compile(r"[0-9a-f]{12,63}\Z")
_VERSION_PAGES = 20  # a model's versions read to complete a short id, at most this many pages
_CANDIDATES_SHOWN = 5
# The one rule for an owner's, a model's or a deployment's name.
NAME_PART = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
PART_RE = re.compile(rf"{NAME_PART}\Z")
MODEL_RE = re.compile(rf"(?P<owner>{NAME_PART})/(?P<name>{NAME_PART})(?::(?P<version>{NAME_PART}))?\Z")


class ModelRef(msgspec.Struct, frozen=True):
    """What a user named: a model, a model at a version, or a bare version id."""

    owner: str | None
    name: str | None
    version: str | None

    @property
    def model(self) -> str | None:
        """`owner/name`, or None for a bare version id."""
        return f"{self.owner}/{self.name}" if self.owner and self.name else None

    def __str__(self) -> str:
        if self.model is None:
            return self.version or ""
        return f"{self.model}:{self.version}" if self.version else self.model


def parse_model_ref(text: str) -> ModelRef:
    """Read a reference; a malformed one is a usage error naming it."""
    text = text.strip()
    if VERSION_ID_RE.match(text):
        return ModelRef(None, None, text)
    match = MODEL_RE.match(text)
    if match is None:
        raise UsageError(
            f"expected owner/name[:version] or a version id, got '{text}'",
            "e.g. stability-ai/sdxl or stability-ai/sdxl:<version id>",
        )
    return ModelRef(match["owner"], match["name"], match["version"])


def parse_model_name(text: str, what: str = "model") -> tuple[str, str]:
    """`owner/name` (no version) split in two, for --destination and --deployment."""
    ref = parse_model_ref(text) if "/" in text else None
    if ref is None or ref.model is None or ref.version is not None:
        raise UsageError(f"expected owner/name for the {what}, got '{text}'")
    return ref.owner or "", ref.name or ""


class RunTarget(msgspec.Struct, frozen=True):
    """What a run's line names, read once with the line (`parse_args`): the model (or
    version) it runs, or the deployment; a training's destination. Precheck, the
    schema check and the handlers read it; nothing parses the words again."""

    model: ModelRef | None = None
    deployment: tuple[str, str] | None = None  # (owner, name)
    destination: tuple[str, str] | None = None  # (owner, name), a training's

    @property
    def shown(self) -> str:
        """How the line named it: `owner/name[:version]`, a version id, a deployment's `owner/name`."""
        return "/".join(self.deployment) if self.deployment else str(self.model or "")


def read_target(command: Command, values: Mapping[str, Any]) -> RunTarget | None:
    """The target of a command that runs a model (a `model` argument and `key=value`
    inputs), checked without the network; None for any other command."""
    if command.inputs_arg is None or not any(arg.name == "model" for arg in command.args):
        return None
    text, deployment = values.get("model"), values.get("deployment")
    if deployment:
        if text:
            raise UsageError("give a model or --deployment, not both", f"drop '{text}' to run the deployment")
        return RunTarget(deployment=parse_model_name(str(deployment), "deployment"))
    if not text:
        raise UsageError(
            f"`{command.name}` needs a model",
            "e.g. run owner/model prompt='a fox' (`model list` shows them), or --deployment owner/name",
        )
    ref = parse_model_ref(str(text))
    if command.kind != "training":
        return RunTarget(ref)
    if ref.model is None:
        raise UsageError(
            f"training needs owner/name:version, got a bare version id '{text}'",
            "write the trainer's model too, e.g. ostris/flux-dev-lora-trainer:<version>",
        )
    return RunTarget(ref, destination=parse_model_name(str(values.get("destination") or ""), "destination"))


class Route(msgspec.Struct, frozen=True):
    """Where a prediction of a reference is created, and the schema it is checked against.

    Official models run by name (`model`); any other model runs a version
    (`version`), as the real API requires. `fallback` marks a model whose kind rshell
    could not learn: try the model endpoint, and on 404 the latest version (`latest`,
    looked up then if not known), as the official Go CLI does. `official` is the
    model's own `is_official` (None when unknown or no model was fetched).
    """

    schema: dict | None
    model: str | None = None
    version: str | None = None
    latest: str | None = None
    fallback: bool = False
    official: bool | None = None

    @property
    def version_id(self) -> str | None:
        """The version behind the schema: the one named, else the model's latest."""
        return self.version or self.latest


async def resolve(client: ReplicateClient, ref: ModelRef, doing: str = "run", *, typos: bool = True) -> Route:
    """The route and schema of `ref`, from the model (or version) object it fetches.

    A bare version id has no GET endpoint without its model, so it comes back
    without a schema (inputs then go unvalidated, as the official CLI does). A model
    that is not official and has no latest version is an error naming what to do.
    `typos=False`: a caller that swallows a 404 skips the did-you-mean look-up.
    """
    if ref.model is None:
        return Route(None, version=ref.version)
    if ref.version:
        version_id = (await full_version(client, ref)).version or ref.version
        key, known = (ref.owner or "", ref.name or "", version_id), client.version_schemas
        if key not in known:
            known[key] = (await client.models_versions_get(*key)).openapi_schema
        return Route(known[key], version=version_id)
    owner, name = ref.owner or "", ref.name or ""
    model = await (model_named(client, owner, name) if typos else client.models_get(owner, name))
    route = route_of_model(model, ref.model)
    if route.model is None and route.version is None:
        raise no_version(ref.model, doing)
    return route


async def full_version(client: ReplicateClient, ref: ModelRef) -> ModelRef:
    """`ref` with a short version id (`2c7a486c9976`, as tables show it) made whole
    from the model's versions; a full id, or any other text, is left as written."""
    short = ref.version or ""
    if not SHORT_VERSION_RE.match(short):
        return ref
    matches = [v for v in await _version_ids(client, ref.owner or "", ref.name or "") if v.startswith(short)]
    if len(matches) == 1:
        return ModelRef(ref.owner, ref.name, matches[0])
    if not matches:
        raise UsageError(
            f"no version of {ref.model} starts with {short}", f"`model versions {ref.model}` lists its versions"
        )
    shown = ", ".join(matches[:_CANDIDATES_SHOWN]) + (", …" if len(matches) > _CANDIDATES_SHOWN else "")
    raise UsageError(f"{ref} could be any of {len(matches)} versions: {shown}", "write more of the version id")


async def _version_ids(client: ReplicateClient, owner: str, name: str) -> list[str]:
    """Every version id of a model, newest first (a bounded walk of the pages)."""
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(_VERSION_PAGES):
        page = await client.models_versions_list(owner, name, cursor)
        ids.extend(version.id for version in page.results)
        cursor = page.next
        if not cursor:
            break
    return ids


async def model_named(client: ReplicateClient, owner: str, name: str) -> Model:
    """The model `owner/name`; a 404 keeps the server's words and adds the closest
    model name rshell knows (the completion cache, then a search) as a hint."""
    from rshell.errors import ApiError

    try:
        return await client.models_get(owner, name)
    except ApiError as exc:
        if exc.status != 404 or exc.hint:
            raise
        guess = await closest_model(client, f"{owner}/{name}")
        if guess:
            exc.hint = f"did you mean {guess}?"
        raise


async def closest_model(client: ReplicateClient, wanted: str) -> str | None:
    """The model name closest to `wanted`: first among those the completion cache
    holds (no request), else among a search for its owner's and its own name."""
    from rshell.commands.registry import suggest

    guess = suggest(wanted, _cached_models(client.base_url))
    if guess:
        return guess
    found: set[str] = set()
    for query in dict.fromkeys(wanted.split("/")):
        try:
            answer = await client.search(query, limit=50)
        except RshellError:
            continue  # no search here (or offline): the 404 says enough
        found.update(f"{hit.model.owner}/{hit.model.name}" for hit in answer.models)
    found.discard(wanted)
    return suggest(wanted, found)


def _cached_models(base_url: str) -> list[str]:
    """Model names in this API host's completion cache (empty when there is none)."""
    from rshell.completion.cache import CompletionCache, default_path

    cache = CompletionCache(default_path(base_url))
    cache.load()
    return list(cache.models)


def route_of_model(model: Model, name: str) -> Route:
    """`is_official` decides: by name, else by `latest_version`; unknown: both, in turn.

    A model that is not official and has no latest version gets a route with neither
    `model` nor `version`: nothing can run it.
    """
    latest = model.latest_version
    schema, latest_id = (latest.openapi_schema, latest.id) if latest is not None else (None, None)
    official = model.is_official
    if official is True:
        return Route(schema, model=name, latest=latest_id, official=True)
    if official is None:
        return Route(schema, model=name, latest=latest_id, fallback=True)
    latest_id = str(latest_id) if latest_id else None
    return Route(schema, version=latest_id, latest=latest_id, official=False)


def no_version(name: str, doing: str = "run", how: str | None = None) -> RshellError:
    """A model with no `latest_version` has nothing to run, train or deploy (exit 1:
    the API said so; no request that changes anything was sent)."""
    return RshellError(
        f"{name} has no version to {doing}: it is not an official model, so it runs by version",
        f"push or train a version into {name} first, or {how or f'name one as {name}:VERSION'}",
    )


def unknown_route(ref: ModelRef) -> Route:
    """The route when the lookup failed and the caller goes on anyway (--dry-run)."""
    if ref.model is None or ref.version:
        return Route(None, version=ref.version)
    return Route(None, model=ref.model, fallback=True)


async def latest_version_id(client: ReplicateClient, owner: str, name: str) -> str | None:
    """The id of a model's latest version, or None when it has none."""
    latest = (await client.models_get(owner, name)).latest_version
    return latest.id if latest is not None else None


async def fetch_schema(
    client: ReplicateClient, ref: ModelRef, doing: str = "run", *, typos: bool = True
) -> tuple[dict | None, str | None]:
    """(openapi_schema, version id) of `ref`: the version named, else the latest."""
    route = await resolve(client, ref, doing, typos=typos)
    return route.schema, route.version_id


async def fetch_deployment_schema(client: ReplicateClient, owner: str, name: str) -> tuple[dict | None, str | None]:
    """(openapi_schema, version id) of a deployment's current release."""
    deployment = await client.deployments_get(owner, name)
    release = deployment.current_release
    version_id, model = (release.version, release.model) if release is not None else (None, None)
    if not version_id or not model or "/" not in model:
        return None, version_id
    m_owner, m_name = model.split("/", 1)
    version = await client.models_versions_get(m_owner, m_name, version_id)
    return version.openapi_schema, version_id


def output_schema(openapi_schema: dict | None) -> dict | None:
    """The Cog `Output` schema of a version, if it has one."""
    from rshell.grammar.inputs import schemas_of

    found = schemas_of(openapi_schema).get("Output")
    return found if isinstance(found, dict) else None


def is_concatenate(openapi_schema: dict | None) -> bool:
    """True when the output is a text iterator meant to be joined (a language model)."""
    schema = output_schema(openapi_schema) or {}
    return schema.get("type") == "array" and schema.get("x-cog-array-display") == "concatenate"


async def streams_text(client: ReplicateClient, run: dict) -> bool:
    """Whether a prediction's output is streamed text, asked of its version's schema.

    For a run read from another process's JSON (`rshell run … | rshell run …`): the
    API's object does not say it, and the piped JSON stays the API's.
    """
    model, version = run.get("model"), run.get("version")
    if not isinstance(model, str) or not isinstance(run.get("output"), list):
        return False
    known = isinstance(version, str) and VERSION_ID_RE.match(version)  # an official model's is "hidden"
    try:
        ref = parse_model_ref(f"{model}:{version}" if known else model)
        schema, _ = await fetch_schema(client, ref, typos=False)
    except RshellError:
        return False  # unknown here: the list stays a list; the command itself reports what is wrong
    return is_concatenate(schema)


def training_schema(openapi_schema: dict | None) -> dict | None:
    """The version's schema with Cog's `TrainingInput` standing in as `Input`, so the
    input grammar validates a trainer's inputs; None when the version has no trainer."""
    from rshell.grammar.inputs import schemas_of

    schemas = schemas_of(openapi_schema)
    if not openapi_schema or "TrainingInput" not in schemas:
        return None
    components = dict(openapi_schema.get("components") or {})
    components["schemas"] = {**schemas, "Input": schemas["TrainingInput"]}
    return {**openapi_schema, "components": components}


async def prepare_inputs(
    ctx: Context,
    given: list[Input],
    schema: dict | None,
    *,
    file_encoding: str,
    base: dict | None = None,
    model: str | None = None,
) -> dict:
    """The line's inputs (split when it was read) → the request's input: check every
    @file, coerce and validate every value, and only then upload files (or inline them
    as data URLs). `base` (rerun: an earlier prediction's input) is what they change;
    `model` names the model when its schema is malformed (the inputs then go unchecked)."""
    from rshell.grammar.inputs import FileRef, coerce, input_schema, malformed, raw_values, validate

    raw = raw_values(given, inline=file_encoding == "data")
    if malformed(schema):
        ctx.out.info(
            f"{f'model {model}' if model else 'this model'}: its input schema is malformed; inputs sent unchecked"
        )
    inputs_schema = input_schema(schema) if schema else None
    values = {**(base or {}), **coerce(raw, inputs_schema)}
    if inputs_schema is not None:
        validate(values, inputs_schema, stand_ins=ctx.dry_run)
    refs = [ref for ref in _walk(values) if isinstance(ref, FileRef)]
    if not refs:
        return values
    urls: dict[Path, str] = {}
    for ref in refs:
        if ref.path not in urls:
            urls[ref.path] = await _file_url(ctx, ref.path, file_encoding)
    return _replace(values, lambda v: urls[v.path] if isinstance(v, FileRef) else v)


def _walk(value: Any) -> list[Any]:
    """Every leaf of nested dicts and lists."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _walk(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _walk(v)]
    return [value]


def _replace(value: Any, fn: Any) -> Any:
    if isinstance(value, dict):
        return {k: _replace(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, fn) for v in value]
    return fn(value)


def _content_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


async def _file_url(ctx: Context, path: Path, file_encoding: str) -> str:
    """The URL a model fetches the file from: a data URL, or the Files API's."""
    if file_encoding == "data":
        return dataurls.encode(path.read_bytes(), _content_type(path))
    client = await ctx.client()
    uploaded = await client.files_create(path, content_type=_content_type(path))
    url = uploaded.urls.get
    if not url:
        raise RshellError(f"the Files API returned no URL for {path}")
    return str(url)
