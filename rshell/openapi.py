"""The official Replicate API description, as rshell carries it.

`rshell/openapi.json` is derived from the official file by
`scripts/derive_openapi.py` (facts only: paths, operations, parameters, schemas,
statuses, content types). The sandbox and the tests read it from here, so a clone
needs nothing beside it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("openapi.json")


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    """The parsed description (cached: it never changes while a process runs)."""
    return json.loads(PATH.read_text("utf-8"))


def operations() -> dict[str, tuple[str, str]]:
    """operationId → (METHOD, path template) for every operation of the spec."""
    found: dict[str, tuple[str, str]] = {}
    for template, item in spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = (method.upper(), template)
    return found


def json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable: true` becomes a null type (and a
    null enum member); `example` and `description` annotations are dropped. The sandbox
    validates request bodies with it and the tests validate responses with it."""
    if isinstance(node, list):
        return [json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("example", "description"):
            continue
        if key in ("properties", "schemas", "patternProperties") and isinstance(value, dict):
            out[key] = {name: json_schema(sub) for name, sub in value.items()}  # names, not keywords
        else:
            out[key] = json_schema(value)
    if "oneOf" in out:
        # The spec's oneOf means "one of these shapes", not "exactly one": a prediction's
        # `version` is any string or the official models' "hidden", which is both.
        out["anyOf"] = out.pop("oneOf")
    if out.pop("nullable", False):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out
