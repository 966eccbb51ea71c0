"""`model …` handlers: list, search, show, schema, versions (and versions delete),
readme, examples, create, update, delete.

Their text comes from `rendering/models.py` and `rendering/schema.py` (the latter
shared with `deployments schema`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rshell import writes
from rshell.commands.context import Result
from rshell.commands.paging import fetch_list, list_result
from rshell.errors import ApiError, RshellError, UsageError
from rshell.rendering.models import example_table, model_fields, model_table, version_fields, version_table
from rshell.rendering.output import as_json
from rshell.rendering.schema import schema_text
from rshell.rendering.tables import short_id

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context
    from rshell.commands.modelref import ModelRef
    from rshell.commands.paging import Listing

DEFAULT_HARDWARE = "cpu"


def split_name(text: str, what: str = "model") -> tuple[str, str]:
    """`owner/name` → (owner, name); anything else is a usage error sent nowhere."""
    from rshell.commands.modelref import parse_model_name

    if ":" in (text or "") and "/" in text:
        raise UsageError(f"'{text}' names a version, not a {what}", f"write just owner/name, e.g. {text.split(':')[0]}")
    return parse_model_name(text or "", what)


# list, search, versions ------------------------------------------------------------


async def list_(ctx: Context, args: ParsedArgs) -> Result:
    """Public models, sorted as asked (the API's default: newest version first)."""
    sort = {"sort_by": args.get("sort_by"), "sort_direction": args.get("sort_direction")}
    return await list_result(
        ctx, args, lambda client, cursor: client.models_list(cursor, **sort), model_table, "models"
    )


async def search(ctx: Context, args: ParsedArgs) -> Result:
    """Models matching QUERY (the API's `QUERY /v1/models`)."""
    query = (args.get("query") or "").strip()
    if not query:
        raise UsageError("`model search` needs words to search for", "e.g. model search 'text to image'")
    return await list_result(
        ctx, args, lambda client, cursor: client.models_search(query, cursor), model_table, "models"
    )


async def _model_list(ctx: Context, args: ParsedArgs, what: str) -> tuple[Listing, str]:
    """A list under one model (`versions`, `examples`), by the client call named after
    its operationId (`models_versions_list`), its path checked by the paging; and the
    model's `owner/name` for the text."""
    owner, name = split_name(args.model)
    client = await ctx.client()
    list_page = getattr(client, f"models_{what}_list")
    listing = await fetch_list(client, args, lambda cursor: list_page(owner, name, cursor), "models", owner, name, what)
    return listing, f"{owner}/{name}"


async def versions(ctx: Context, args: ParsedArgs) -> Result:
    """A model's versions, newest first, as the API lists them."""
    listing, model = await _model_list(ctx, args, "versions")
    return Result(listing.data, version_table(model, listing.results, listing.hint(args)))


def _version_ref(text: str) -> tuple[ModelRef, str, str]:
    """`owner/name:VERSION` read for `model versions show/delete`: the reference, owner, name."""
    from rshell.commands.modelref import parse_model_ref

    ref = parse_model_ref(text)
    if ref.model is None or not ref.version:
        raise UsageError(f"'{text}' does not name a model's version", "write owner/name:VERSION (see `model versions`)")
    owner, name = split_name(ref.model)
    return ref, owner, name


async def versions_delete(ctx: Context, args: ParsedArgs) -> Result:
    """Delete one version, named owner/name:version (the API refuses one a deployment uses)."""
    from rshell.commands.modelref import full_version

    ref, owner, name = _version_ref(args.version)
    client = await ctx.client()
    ref = await full_version(client, ref)  # a short id deletes only the one version it names
    await client.models_versions_delete(owner, name, ref.version or "")
    return Result(None, f"deleted version {ref.version} of {owner}/{name}", bind=False)


async def versions_show(ctx: Context, args: ParsedArgs) -> Result:
    """One version (`GET /models/{owner}/{name}/versions/{id}`): the read the official
    clients have; its text is its fields, then its inputs and output."""
    ref, owner, name = _version_ref(args.version)
    client = await ctx.client()
    version = as_json(await client.models_versions_get(owner, name, ref.version or ""))
    return Result(version, version_fields(f"{owner}/{name}", version))


async def readme(ctx: Context, args: ParsedArgs) -> Result:
    """The model's README: laid out for a terminal, the Markdown itself for --json or a pipe."""
    from rshell.rendering.markdown import render_markdown

    owner, name = split_name(args.model)
    client = await ctx.client()
    text = await client.models_readme_get(owner, name)
    return Result(text, render_markdown(text), plain=text)


async def examples(ctx: Context, args: ParsedArgs) -> Result:
    """The example predictions the model's page shows."""
    listing, model = await _model_list(ctx, args, "examples")
    return Result(listing.data, example_table(model, listing.results, listing.hint(args)))


# show ------------------------------------------------------------------------------


async def show(ctx: Context, args: ParsedArgs) -> Result:
    """A model's metadata; --web also opens its page (or prints the URL on stderr).

    `owner/name:version` is accepted as the official CLI accepts it: the model is
    shown (a note says the version is ignored) and --web opens that version's page."""
    text = args.model or ""
    base, _, version = text.partition(":") if "/" in text else (text, "", "")
    owner, name = split_name(base if version else text)
    from rshell.commands.modelref import model_named

    client = await ctx.client()
    model = as_json(await model_named(client, owner, name))
    if version:
        ctx.out.info(f"ignoring version {version}: showing the model {owner}/{name}")
    if args.get("web"):
        _open_model_page(ctx, owner, name, version)
    return Result(model, model_fields(model))


def _open_model_page(ctx: Context, owner: str, name: str, version: str = "") -> None:
    from rshell.commands.running import open_web, site_url  # one --web behaviour for every command

    open_web(ctx, site_url(ctx, owner, name, *(("versions", version) if version else ())))


# schema ----------------------------------------------------------------------------


async def schema(ctx: Context, args: ParsedArgs) -> Result:
    """The inputs and output of a model version (latest unless one is named)."""
    from rshell.commands.modelref import fetch_schema, parse_model_ref

    ref = parse_model_ref(args.model)
    if ref.model is None:
        raise UsageError(
            f"a bare version id does not say which model it belongs to: '{args.model}'",
            "write owner/name:VERSION",
        )
    client = await ctx.client()
    openapi_schema, version_id = await fetch_schema(client, ref, "describe")
    if not openapi_schema:
        raise RshellError(
            f"{ref} has no version with a schema", "push a version first, or name one as owner/name:VERSION"
        )
    title = f"{ref.model}:{short_id(version_id)}" if version_id else ref.model
    return Result(openapi_schema, schema_text(openapi_schema, title))


# create, update, delete ------------------------------------------------------------


def _given_fields(operation: str, args: ParsedArgs) -> dict[str, Any]:
    """The body fields the flags set; `--readme @FILE` reads the file first."""
    changes = writes.given(operation, args.values)
    text = changes.get("readme")
    if isinstance(text, str) and text.startswith("@"):
        from rshell.grammar.inputs import readable_file

        path = readable_file(text[1:])
        try:
            changes["readme"] = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path} as UTF-8 text: {exc}") from None
    return changes


async def create(ctx: Context, args: ParsedArgs) -> Result:
    """A new model (private and on CPU unless told otherwise: the output says which).
    With --exist-ok, a model already there whose fields match what was asked is the
    result (a replayed script goes on); one that differs is refused, named."""
    owner, name = split_name(args.model)
    visibility = args.get("visibility", "private")
    hardware = args.get("hardware", DEFAULT_HARDWARE)
    client = await ctx.client()
    given = {k: v for k, v in _given_fields("models.create", args).items() if k != "hardware"}
    try:
        with hardware_hint():
            model = as_json(await client.models_create(owner, name, visibility=visibility, hardware=hardware, **given))
    except ApiError as exc:
        if exc.status != 409 or not args.get("exist_ok"):
            already(exc)
            raise
        existing = as_json(await client.models_get(owner, name))
        differ(f"model {owner}/{name}", existing, {"visibility": visibility, **given})
        return Result(
            existing, f"model {owner}/{name} already exists, as asked: nothing created\n" + model_fields(existing)
        )
    if args.get("web"):
        _open_model_page(ctx, owner, name)
    return Result(model, f"created {visibility} model {owner}/{name} on {hardware}\n" + model_fields(model))


def already(exc: ApiError) -> None:
    """A 409 on create: the hint says how a script that made it before goes on."""
    if exc.status == 409 and not exc.hint:
        exc.hint = "add --exist-ok to take the one there when it matches (a script then replays)"


def differ(what: str, existing: dict[str, Any], asked: dict[str, Any]) -> None:
    """--exist-ok's check: every field asked for has that value on the object already
    there (a field the API does not show, like a model's hardware, cannot be checked)."""
    wrong = [
        f"{key} {existing[key]!r} (asked {value!r})"
        for key, value in asked.items()
        if key in existing and existing[key] != value
    ]
    if wrong:
        raise UsageError(
            f"{what} already exists with {', '.join(wrong)}", "change the flags to match, or use a new name"
        )


@contextlib.contextmanager
def hardware_hint() -> Iterator[None]:
    """An unknown hardware SKU refused by the API: point at the command that lists them."""
    try:
        yield
    except ApiError as exc:
        if exc.status in (400, 404, 422) and "hardware" in exc.detail.lower():
            exc.hint = "`hardware list` shows the SKUs"
        raise


async def update(ctx: Context, args: ParsedArgs) -> Result:
    """Change only the metadata flags given; no flags is a mistake, not an empty PATCH."""
    owner, name = split_name(args.model)
    changes = _given_fields("models.update", args)
    if not changes:
        flags = ", ".join(f.flag or "" for f in writes.flagged("models.update"))
        raise UsageError("`model update` needs at least one field to change", f"flags: {flags}")
    client = await ctx.client()
    model = as_json(await client.models_update(owner, name, **changes))
    changed = ", ".join(key.replace("_", " ") for key in changes)
    return Result(model, f"updated {owner}/{name}: {changed}\n" + model_fields(model))


async def delete(ctx: Context, args: ParsedArgs) -> Result:
    """Delete a model; `_` keeps its value since the API returns nothing."""
    owner, name = split_name(args.model)
    client = await ctx.client()
    await client.models_delete(owner, name)
    return Result(None, f"deleted model {owner}/{name}", bind=False)
