"""`deployments …` handlers: list, show, create, update, schema, delete.

Names are read as the Go CLI reads them: `[owner/]name`, where a name without an
owner is the token's account's (one `GET /v1/account` finds it); `create --model`
takes `owner/name[:version]` and `--version` takes an id or `owner/name:id`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rshell import writes
from rshell.commands.context import Result
from rshell.commands.modelref import PART_RE, SHORT_VERSION_RE
from rshell.commands.models import DEFAULT_HARDWARE, already, differ, hardware_hint, split_name
from rshell.dryrun import DRY_RUN_VERSION, unless_dry_run
from rshell.errors import ApiError, RshellError, UsageError
from rshell.rendering.deployments import deployment_fields, deployment_table
from rshell.rendering.output import as_json
from rshell.rendering.schema import schema_text
from rshell.rendering.tables import short_id

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context


async def list_(ctx: Context, args: ParsedArgs) -> Result:
    """Your deployments."""
    from rshell.commands.paging import list_result

    return await list_result(
        ctx, args, lambda client, cursor: client.deployments_list(cursor), deployment_table, "deployments"
    )


async def _full_name(client: Any, text: str) -> tuple[str, str]:
    """`owner/name` as given, or the account's owner for a bare `name` (the Go CLI's rule)."""
    owner, name = _deployment_name(text)
    if owner is not None:
        return owner, name
    username = as_json(await client.account_get()).get("username")
    if not username:
        raise RshellError(f"cannot tell whose deployment '{name}' is", f"write owner/{name}")
    return str(username), name


def _version_id(text: str, model: str | None = None) -> str:
    """A --version: an id, or `owner/name:id` whose id is taken (and whose model must
    be `model` when one is known)."""
    if ":" not in text:
        return text
    from rshell.commands.modelref import parse_model_ref

    ref = parse_model_ref(text)
    if ref.model is None or not ref.version:
        raise UsageError(f"--version needs an id or owner/name:id, got '{text}'")
    if model is not None and ref.model != model:
        raise UsageError(f"--version {text} is a version of {ref.model}, not of --model {model}")
    return ref.version


async def show(ctx: Context, args: ParsedArgs) -> Result:
    client = await ctx.client()
    owner, name = await _full_name(client, args.name)
    deployment = as_json(await client.deployments_get(owner, name))
    _web(ctx, args, deployment)
    return Result(deployment, deployment_fields(deployment))


def _web(ctx: Context, args: ParsedArgs, deployment: dict[str, Any]) -> None:
    """--web: the deployment's page (the API gives no URL for it)."""
    if args.get("web"):
        from rshell.commands.running import open_web, site_url

        open_web(ctx, site_url(ctx, "deployments", str(deployment.get("owner")), str(deployment.get("name"))))


def _check_instances(low: int | None, high: int | None) -> None:
    """Reject impossible scaling before anything is sent; the API enforces its own limits."""
    for flag, value in (("--min-instances", low), ("--max-instances", high)):
        if value is not None and value < 0:
            raise UsageError(f"{flag} cannot be negative, got {value}")
    if low is not None and high is not None and low > high:
        raise UsageError(f"--min-instances ({low}) is more than --max-instances ({high})")


async def _whole_version(client: Any, version: str, model: str) -> str:
    """A version id as the API takes it: one cut short as tables show it (12 or more
    hex digits) is made whole from `model`'s versions, as `run` does."""
    from rshell.commands.modelref import ModelRef, full_version

    owner, _, name = model.partition("/")
    return (await full_version(client, ModelRef(owner, name, version))).version or version


def _version_model(text: str) -> str | None:
    """The model a --version of the form `owner/name:id` names, else None."""
    if ":" not in text:
        return None
    from rshell.commands.modelref import parse_model_ref

    return parse_model_ref(text).model


async def _deployed_model(client: Any, owner: str, name: str) -> str:
    """The model the deployment's current release runs (a short --version is one of its)."""
    release = as_json(await client.deployments_get(owner, name)).get("current_release") or {}
    return str(release.get("model") or "")


async def _owner_matches(client: Any, owner: str, name: str) -> None:
    """A deployment is created under the token's account; an owner given must be that one."""
    username = as_json(await client.account_get()).get("username")
    if username and username != owner:
        raise UsageError(
            f"deployments are created under your account '{username}', not '{owner}'",
            f"write just the name: deployments create {name} --model …",
        )


async def _latest_version(client: Any, owner: str, name: str) -> str:
    """The version a deployment of owner/name runs: its latest, decided from the model
    object like `run` (an official model runs by name and has no version to deploy)."""
    from rshell.commands.modelref import no_version, route_of_model

    route = route_of_model(await client.models_get(owner, name), f"{owner}/{name}")
    if route.official:
        raise RshellError(
            f"{owner}/{name} is an official model: it runs by name, with no version to deploy",
            f"run it directly: run {owner}/{name} key=value…",
        )
    if not route.latest:
        raise no_version(f"{owner}/{name}", "deploy", "pass --version ID")
    return route.latest


def _deployment_name(text: str) -> tuple[str | None, str]:
    if "/" in (text or ""):
        return split_name(text, "deployment")
    if not PART_RE.match(text or ""):
        raise UsageError(f"'{text}' is not a deployment name", "use letters, digits, '-', '_' and '.', e.g. my-app")
    return None, text


def _model_and_version(text: str, flag_version: str | None) -> tuple[str, str, str | None]:
    """--model owner/name[:version] and --version, which must agree when both name one."""
    from rshell.commands.modelref import parse_model_ref

    ref = parse_model_ref(text)
    if ref.model is None:
        raise UsageError(f"--model needs owner/name[:version], got '{text}'", "e.g. --model acme/sdxl:<version id>")
    given = _version_id(flag_version, ref.model) if flag_version else None
    if ref.version and given and ref.version != given:
        raise UsageError(f"--model {text} and --version {flag_version} name different versions", "give one of them")
    return ref.owner or "", ref.name or "", ref.version or given


async def create(ctx: Context, args: ParsedArgs) -> Result:
    """A deployment of --model at its version (from `--model owner/name:version`,
    --version, or else the model's latest version)."""
    owner, name = _deployment_name(args.name)
    model_owner, model_name, version = _model_and_version(args.model, args.get("version"))
    given = writes.given("deployments.create", args.values)
    low, high = given.get("min_instances", 0), given.get("max_instances", 1)
    _check_instances(low, high)
    hardware = given.get("hardware", DEFAULT_HARDWARE)
    client = await ctx.client()
    if owner is not None:
        await unless_dry_run(ctx, _owner_matches(client, owner, name), None)
    if version:
        version = await _whole_version(client, version, f"{model_owner}/{model_name}")
    pinned = version  # the version asked for; else the latest, which --exist-ok does not hold against one there
    if not version:
        latest: str = await unless_dry_run(ctx, _latest_version(client, model_owner, model_name), DRY_RUN_VERSION)
        version = latest
    try:
        with hardware_hint():
            deployment = as_json(
                await client.deployments_create(
                    name=name,
                    model=f"{model_owner}/{model_name}",
                    version=version,
                    hardware=hardware,
                    min_instances=low,
                    max_instances=high,
                )
            )
    except ApiError as exc:
        if exc.status != 409 or not args.get("exist_ok"):
            already(exc)
            raise
        return await _existing(client, args.name, f"{model_owner}/{model_name}", pinned, hardware, low, high)
    _web(ctx, args, deployment)
    shown = f"created deployment (hardware {hardware}, instances {low}-{high})\n"
    return Result(deployment, shown + deployment_fields(deployment))


async def _existing(
    client: Any, text: str, model: str, version: str | None, hardware: str, low: int, high: int
) -> Result:
    """--exist-ok: the deployment already there, when its release is what was asked."""
    owner, name = await _full_name(client, text)
    deployment = as_json(await client.deployments_get(owner, name))
    release = deployment.get("current_release") or {}
    asked: dict[str, Any] = {"model": model, "hardware": hardware, "min_instances": low, "max_instances": high}
    if version:
        asked["version"] = version
    differ(f"deployment {owner}/{name}", {**release, **(release.get("configuration") or {})}, asked)
    return Result(
        deployment,
        f"deployment {owner}/{name} already exists, as asked: nothing created\n" + deployment_fields(deployment),
    )


async def update(ctx: Context, args: ParsedArgs) -> Result:
    """Send only the flags given; a call without any is a mistake, caught before sending."""
    _deployment_name(args.name)
    changes = writes.given("deployments.update", args.values)
    if not changes:
        flags = ", ".join(f"{f.flag} {f.metavar}" for f in writes.flagged("deployments.update"))
        raise UsageError("`deployments update` needs something to change", f"flags: {flags}")
    written = changes.get("version")
    if written is not None:
        changes["version"] = _version_id(written)
    _check_instances(changes.get("min_instances"), changes.get("max_instances"))
    client = await ctx.client()
    owner, name = await _full_name(client, args.name)
    if written is not None and SHORT_VERSION_RE.match(changes["version"]):  # only a short id needs its model
        model = _version_model(written) or await _deployed_model(client, owner, name)
        changes["version"] = await _whole_version(client, changes["version"], model)
    deployment = as_json(await client.deployments_update(owner, name, **changes))
    _web(ctx, args, deployment)
    return Result(deployment, "updated deployment\n" + deployment_fields(deployment))


async def schema(ctx: Context, args: ParsedArgs) -> Result:
    """The inputs and output of the version the deployment currently runs."""
    from rshell.commands.modelref import fetch_deployment_schema

    client = await ctx.client()
    owner, name = await _full_name(client, args.name)
    openapi_schema, version_id = await fetch_deployment_schema(client, owner, name)
    if not openapi_schema:
        raise RshellError(f"deployment {owner}/{name} has no release with a schema")
    title = f"deployment {owner}/{name} (version {short_id(version_id)})"
    return Result(openapi_schema, schema_text(openapi_schema, title))


async def delete(ctx: Context, args: ParsedArgs) -> Result:
    client = await ctx.client()
    owner, name = await _full_name(client, args.name)
    await client.deployments_delete(owner, name)
    return Result(None, f"deleted deployment {owner}/{name}", bind=False)
