"""`model …` handlers: list, search, show, schema, versions (and versions delete),
readme, examples, create, update, delete.

`schema_text` is shared with `deployments schema`: both render a version's
OpenAPI schema as the table of inputs a user reads before `run`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rshell import writes
from rshell.commands.context import Result
from rshell.commands.paging import fetch_list, list_result
from rshell.errors import RshellError, UsageError
from rshell.rendering.output import as_json
from rshell.rendering.tables import fields, human_count, short_id, short_time, table

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context
    from rshell.commands.paging import Listing

DEFAULT_HARDWARE = "cpu"
_CHOICES_WIDTH = 40


def split_name(text: str, what: str = "model") -> tuple[str, str]:
    """`owner/name` → (owner, name); anything else is a usage error sent nowhere."""
    from rshell.commands.modelref import parse_model_name

    if ":" in (text or "") and "/" in text:
        raise UsageError(f"'{text}' names a version, not a {what}", f"write just owner/name, e.g. {text.split(':')[0]}")
    return parse_model_name(text or "", what)


# list, search, versions ------------------------------------------------------------


def model_table(models: list[dict[str, Any]]) -> str:
    """owner/name, run count and description, the description cut to fit the terminal."""
    if not models:
        return "no models"
    rows = [
        (f"{m.get('owner')}/{m.get('name')}", human_count(m.get("run_count")), m.get("description")) for m in models
    ]
    return table(("model", "runs", "description"), rows, flex=2)


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
    if not listing.results:
        return Result(listing.data, f"{model} has no versions")
    rows = [(v.get("id"), short_time(v.get("created_at")), v.get("cog_version")) for v in listing.results]
    return Result(listing.data, table(("version", "created", "cog"), rows) + listing.hint(args))


async def versions_delete(ctx: Context, args: ParsedArgs) -> Result:
    """Delete one version, named owner/name:version (the API refuses one a deployment uses)."""
    from rshell.commands.modelref import parse_model_ref

    ref = parse_model_ref(args.version)
    if ref.model is None or not ref.version:
        raise UsageError(
            f"'{args.version}' does not name a model's version", "write owner/name:VERSION (see `model versions`)"
        )
    owner, name = split_name(ref.model)
    client = await ctx.client()
    await client.models_versions_delete(owner, name, ref.version)
    return Result(None, f"deleted version {ref.version} of {owner}/{name}", bind=False)


async def readme(ctx: Context, args: ParsedArgs) -> Result:
    """The model's README: laid out for a terminal, the Markdown itself for --json or a pipe."""
    from rshell.rendering.markdown import render_markdown

    owner, name = split_name(args.model)
    client = await ctx.client()
    text = await client.models_readme_get(owner, name)
    return Result(text, render_markdown(text), plain=text)


async def examples(ctx: Context, args: ParsedArgs) -> Result:
    """The example predictions the model's page shows."""
    from rshell.rendering.predictions import run_table

    listing, model = await _model_list(ctx, args, "examples")
    if not listing.results:
        return Result(listing.data, f"{model} has no examples")
    return Result(listing.data, run_table(listing.results, "predictions") + listing.hint(args))


# show ------------------------------------------------------------------------------


def model_fields(model: dict[str, Any]) -> str:
    latest = model.get("latest_version") or {}
    latest_text = f"{latest.get('id')} ({short_time(latest.get('created_at'))})" if latest.get("id") else "none"
    return fields(
        [
            ("model", f"{model.get('owner')}/{model.get('name')}"),
            ("description", model.get("description")),
            ("visibility", model.get("visibility")),
            ("official", "yes" if model.get("is_official") else None),
            ("runs", f"{model['run_count']:,}" if isinstance(model.get("run_count"), int) else None),
            ("latest version", latest_text),
            ("url", model.get("url")),
            ("github", model.get("github_url")),
            ("paper", model.get("paper_url")),
            ("license", model.get("license_url")),
            ("cover image", model.get("cover_image_url")),
        ]
    )


async def show(ctx: Context, args: ParsedArgs) -> Result:
    """A model's metadata; --web also opens its page (or prints the URL on stderr).

    `owner/name:version` is accepted as the official CLI accepts it: the model is
    shown (a note says the version is ignored) and --web opens that version's page."""
    text = args.model or ""
    base, _, version = text.partition(":") if "/" in text else (text, "", "")
    owner, name = split_name(base if version else text)
    client = await ctx.client()
    model = as_json(await client.models_get(owner, name))
    if version:
        ctx.out.info(f"ignoring version {version}: showing the model {owner}/{name}")
    if args.get("web"):
        _open_model_page(ctx, owner, name, version)
    return Result(model, model_fields(model))


def _open_model_page(ctx: Context, owner: str, name: str, version: str = "") -> None:
    from rshell.commands.running import open_web, site_url  # one --web behaviour for every command

    open_web(ctx, site_url(ctx, owner, name, *(("versions", version) if version else ())))


# schema ----------------------------------------------------------------------------


def _type_name(prop: dict[str, Any]) -> str:
    if "enum" in prop and "type" not in prop:
        return "choice"
    kind = str(prop.get("type") or "any")
    if kind == "string" and prop.get("format") == "uri":
        return "file/url"
    if kind == "array":
        items = prop.get("items")
        items = items if isinstance(items, dict) else {}
        return f"array of {_type_name(items)}"
    return kind


def _choices(prop: dict[str, Any]) -> list[str]:
    return [json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v for v in prop.get("enum") or []]


def _constraints(prop: dict[str, Any]) -> str:
    """min/max and choices; a long list of choices is named here and spelled out below."""
    parts: list[str] = []
    choices = _choices(prop)
    if choices:
        listed = "one of " + ", ".join(choices)
        parts.append(listed if len(listed) <= _CHOICES_WIDTH else f"one of {len(choices)} (below)")
    for key, label in (
        ("minimum", "min"),
        ("maximum", "max"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
    ):
        if key in prop:
            parts.append(f"{label} {_number(prop[key])}")
    return ", ".join(parts)


def _number(value: Any) -> str:
    """Cog writes integer bounds as floats (16.0); show them as people write them."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _default(prop: dict[str, Any]) -> str:
    if "default" not in prop:
        return ""
    return json.dumps(prop["default"], ensure_ascii=False)


def output_type(openapi_schema: dict[str, Any]) -> str:
    """The version's Output schema in a few words, e.g. `array of file/url (iterator)`."""
    schemas = (openapi_schema.get("components") or {}).get("schemas") or {}
    out = schemas.get("Output")
    if not isinstance(out, dict):
        return "unknown"
    ref = out.get("$ref")
    if isinstance(ref, str):
        target = schemas.get(ref.rsplit("/", 1)[-1])
        out = target if isinstance(target, dict) else out
        if out.get("$ref"):
            return ref.rsplit("/", 1)[-1]
    text = _type_name(out)
    if out.get("type") == "object" and isinstance(out.get("properties"), dict):
        text += " with " + ", ".join(out["properties"])
    notes = [str(out[k]) for k in ("x-cog-array-type", "x-cog-array-display") if out.get(k)]
    return f"{text} ({', '.join(notes)})" if notes else text


def schema_text(openapi_schema: dict[str, Any], title: str) -> str:
    """The inputs in x-order (type, default, constraints, required, description), then the output."""
    from rshell.grammar.inputs import input_schema, ordered_keys

    inputs = input_schema(openapi_schema) or {}
    props: dict[str, Any] = inputs.get("properties") or {}
    required = set(inputs.get("required") or [])
    rows = []
    for key in ordered_keys(inputs):
        prop = props.get(key) or {}
        mark = "*" if key in required else ""
        rows.append((key + mark, _type_name(prop), _default(prop), _constraints(prop), prop.get("description")))
    lines = [title]
    if rows:
        lines.append(table(("input", "type", "default", "constraints", "description"), rows, flex=4, lines=None))
    else:
        lines.append("no inputs")
    long_lists = [(key, _choices(props.get(key) or {})) for key in ordered_keys(inputs)]
    for key, choices in long_lists:
        if choices and len("one of " + ", ".join(choices)) > _CHOICES_WIDTH:
            lines.append(f"{key}: {' | '.join(choices)}")
    lines.append(f"output: {output_type(openapi_schema)}")
    if required:
        lines.append("* required")
    return "\n".join(lines)


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
    """A new model (private and on CPU unless told otherwise)."""
    owner, name = split_name(args.model)
    visibility = args.get("visibility", "private")
    hardware = args.get("hardware", DEFAULT_HARDWARE)
    client = await ctx.client()
    given = {k: v for k, v in _given_fields("models.create", args).items() if k != "hardware"}
    model = as_json(await client.models_create(owner, name, visibility=visibility, hardware=hardware, **given))
    if args.get("web"):
        _open_model_page(ctx, owner, name)
    if not isinstance(model, dict):
        return Result(model, None)
    return Result(model, f"created {visibility} model {owner}/{name} on {hardware}\n" + model_fields(model))


async def update(ctx: Context, args: ParsedArgs) -> Result:
    """Change only the metadata flags given; no flags is a mistake, not an empty PATCH."""
    owner, name = split_name(args.model)
    changes = _given_fields("models.update", args)
    if not changes:
        flags = ", ".join(f.flag or "" for f in writes.flagged("models.update"))
        raise UsageError("`model update` needs at least one field to change", f"flags: {flags}")
    client = await ctx.client()
    model = as_json(await client.models_update(owner, name, **changes))
    if not isinstance(model, dict):
        return Result(model, None)
    changed = ", ".join(key.replace("_", " ") for key in changes)
    return Result(model, f"updated {owner}/{name}: {changed}\n" + model_fields(model))


async def delete(ctx: Context, args: ParsedArgs) -> Result:
    """Delete a model; `_` keeps its value since the API returns nothing."""
    owner, name = split_name(args.model)
    client = await ctx.client()
    await client.models_delete(owner, name)
    return Result(None, f"deleted model {owner}/{name}", bind=False)
