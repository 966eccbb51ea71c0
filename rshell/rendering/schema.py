"""A version's OpenAPI schema as the table of inputs a person reads before `run`.

Shared by `model schema` and `deployments schema`. The schema comes from a server,
so every part of it is checked for its shape before it is read.
"""

from __future__ import annotations

import json
from typing import Any

from rshell.rendering.tables import table

CHOICES_WIDTH = 40  # choices longer than this are counted in the table and listed below it


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
        parts.append(listed if len(listed) <= CHOICES_WIDTH else f"one of {len(choices)} (below)")
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
    from rshell.grammar.inputs import schemas_of

    schemas = schemas_of(openapi_schema)
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
        if choices and len("one of " + ", ".join(choices)) > CHOICES_WIDTH:
            lines.append(f"{key}: {' | '.join(choices)}")
    lines.append(f"output: {output_type(openapi_schema)}")
    if required:
        lines.append("* required")
    return "\n".join(lines)
