"""`deployments …` handlers: list, show, create, update, schema, delete."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rshell.commands.context import Result
from rshell.commands.models import DEFAULT_HARDWARE, schema_text, split_name
from rshell.errors import RshellError, UsageError
from rshell.rendering.output import as_json
from rshell.rendering.tables import fields, more_hint, short_id, short_time, table

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
UPDATE_FLAGS = ("version", "hardware", "min_instances", "max_instances")


def _release(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment.get("current_release") or {}


def _config(deployment: dict[str, Any]) -> dict[str, Any]:
    return _release(deployment).get("configuration") or {}


def _instances(config: dict[str, Any]) -> str:
    low, high = config.get("min_instances"), config.get("max_instances")
    return "" if low is None and high is None else f"{low}-{high}"


def _model_version(release: dict[str, Any], length: int = 12) -> str:
    model, version = release.get("model") or "", release.get("version") or ""
    return f"{model}:{short_id(version, length)}" if version else model


def deployment_table(deployments: list[dict[str, Any]]) -> str:
    if not deployments:
        return "no deployments"
    rows = [
        (
            f"{d.get('owner')}/{d.get('name')}",
            _release(d).get("number"),
            _model_version(_release(d)),
            _config(d).get("hardware"),
            _instances(_config(d)),
        )
        for d in deployments
    ]
    return table(("deployment", "release", "model", "hardware", "instances"), rows)


def deployment_fields(deployment: dict[str, Any]) -> str:
    release, config = _release(deployment), _config(deployment)
    creator = (release.get("created_by") or {}).get("username")
    return fields(
        [
            ("deployment", f"{deployment.get('owner')}/{deployment.get('name')}"),
            ("release", release.get("number")),
            ("model", release.get("model")),
            ("version", release.get("version")),
            ("hardware", config.get("hardware")),
            ("instances", _instances(config)),
            ("released", " by ".join(x for x in (short_time(release.get("created_at")), creator) if x)),
        ]
    )


async def list_(ctx: Context, args: ParsedArgs) -> Result:
    """Your deployments (first page)."""
    client = await ctx.client()
    page = as_json(await client.deployments_list())
    return Result(page, deployment_table(page.get("results") or []) + more_hint(page))


async def show(ctx: Context, args: ParsedArgs) -> Result:
    owner, name = split_name(args.name, "deployment")
    client = await ctx.client()
    deployment = as_json(await client.deployments_get(owner, name))
    _web(ctx, args, deployment)
    return Result(deployment, deployment_fields(deployment))


def _web(ctx: Context, args: ParsedArgs, deployment: Any) -> None:
    """--web: the deployment's page (the API gives no URL for it)."""
    if args.get("web") and isinstance(deployment, dict):
        from rshell.commands.running import open_web, site_url

        open_web(ctx, site_url(ctx, "deployments", str(deployment.get("owner")), str(deployment.get("name"))))


def _check_instances(low: int | None, high: int | None) -> None:
    """Reject impossible scaling before anything is sent; the API enforces its own limits."""
    for flag, value in (("--min-instances", low), ("--max-instances", high)):
        if value is not None and value < 0:
            raise UsageError(f"{flag} cannot be negative, got {value}")
    if low is not None and high is not None and low > high:
        raise UsageError(f"--min-instances ({low}) is more than --max-instances ({high})")


async def _owner_matches(client: Any, owner: str, name: str) -> None:
    """A deployment is created under the token's account; an owner given must be that one."""
    account = as_json(await client.account_get())
    username = account.get("username") if isinstance(account, dict) else None
    if username and username != owner:
        raise UsageError(
            f"deployments are created under your account '{username}', not '{owner}'",
            f"write just the name: deployments create {name} --model …",
        )


async def _latest_version(client: Any, owner: str, name: str) -> str:
    model = as_json(await client.models_get(owner, name))
    latest = (model.get("latest_version") or {}) if isinstance(model, dict) else {}
    if not latest.get("id"):
        raise UsageError(f"{owner}/{name} has no version to deploy", "push a version first, or pass --version ID")
    return str(latest["id"])


def _deployment_name(text: str) -> tuple[str | None, str]:
    if "/" in (text or ""):
        return split_name(text, "deployment")
    if not _NAME_RE.match(text or ""):
        raise UsageError(f"'{text}' is not a deployment name", "use letters, digits, '-', '_' and '.', e.g. my-app")
    return None, text


async def create(ctx: Context, args: ParsedArgs) -> Result:
    """A deployment of --model at --version (default: the model's latest version)."""
    owner, name = _deployment_name(args.name)
    model_owner, model_name = split_name(args.model)
    low, high = args.get("min_instances", 0), args.get("max_instances", 1)
    _check_instances(low, high)
    hardware = args.get("hardware", DEFAULT_HARDWARE)
    client = await ctx.client()
    if owner is not None:
        await _owner_matches(client, owner, name)
    version = args.get("version") or await _latest_version(client, model_owner, model_name)
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
    _web(ctx, args, deployment)
    if not isinstance(deployment, dict):
        return Result(deployment, None)
    return Result(deployment, "created deployment\n" + deployment_fields(deployment))


async def update(ctx: Context, args: ParsedArgs) -> Result:
    """Send only the flags given; a call without any is a mistake, caught before sending."""
    owner, name = split_name(args.name, "deployment")
    changes = {key: args.values[key] for key in UPDATE_FLAGS if args.values.get(key) is not None}
    if not changes:
        raise UsageError(
            "`deployments update` needs something to change",
            "flags: --version ID, --hardware SKU, --min-instances N, --max-instances N",
        )
    _check_instances(changes.get("min_instances"), changes.get("max_instances"))
    client = await ctx.client()
    deployment = as_json(await client.deployments_update(owner, name, **changes))
    _web(ctx, args, deployment)
    if not isinstance(deployment, dict):
        return Result(deployment, None)
    return Result(deployment, "updated deployment\n" + deployment_fields(deployment))


async def schema(ctx: Context, args: ParsedArgs) -> Result:
    """The inputs and output of the version the deployment currently runs."""
    from rshell.commands.modelref import fetch_deployment_schema

    owner, name = split_name(args.name, "deployment")
    client = await ctx.client()
    openapi_schema, version_id = await fetch_deployment_schema(client, owner, name)
    if not openapi_schema:
        raise RshellError(f"deployment {owner}/{name} has no release with a schema")
    title = f"deployment {owner}/{name} (version {short_id(version_id)})"
    return Result(openapi_schema, schema_text(openapi_schema, title))


async def delete(ctx: Context, args: ParsedArgs) -> Result:
    owner, name = split_name(args.name, "deployment")
    client = await ctx.client()
    await client.deployments_delete(owner, name)
    return Result(None, f"deleted deployment {owner}/{name}", bind=False)
