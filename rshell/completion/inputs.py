"""Input keys and values from a model version's schema.

Keys come in Cog's `x-order` (as the web UI shows them) with `type = default —
description` beside each; values are the enum's choices (Cog writes enums as
`allOf: [$ref]`, resolved by `grammar.inputs.input_schema`) or true/false. Parsing a
schema is not free, so the answer is memoised per schema object: the cache swaps in
new dicts rather than mutating, so identity is a safe key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rshell.commands.modelref import training_schema
from rshell.completion.matcher import Candidate
from rshell.completion.meta import input_meta, one_line
from rshell.grammar.inputs import input_schema, ordered_keys, type_of


@dataclass(frozen=True)
class InputField:
    name: str
    prop: dict[str, Any]
    required: bool


_MEMO: dict[tuple[int, bool], tuple[dict[str, Any], list[InputField]]] = {}
_MEMO_MAX = 64


def fields(openapi_schema: dict[str, Any] | None, training: bool = False) -> list[InputField]:
    """The inputs of a version (its trainer's with `training`), in x-order."""
    if not openapi_schema:
        return []
    memo_key = (id(openapi_schema), training)
    hit = _MEMO.get(memo_key)
    if hit is not None and hit[0] is openapi_schema:
        return hit[1]
    source = training_schema(openapi_schema) if training else openapi_schema
    schema = input_schema(source) or {}
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    found = [InputField(k, props[k], k in required) for k in ordered_keys(schema)]
    if len(_MEMO) >= _MEMO_MAX:
        _MEMO.clear()
    _MEMO[memo_key] = (openapi_schema, found)  # holding the schema keeps its id unique
    return found


def key_candidates(found: list[InputField], given: frozenset[str], separator: str) -> list[Candidate]:
    """`steps=` for each input not typed yet, with its type, default and description."""
    return [
        Candidate(f.name + separator, input_meta(f.prop, f.required), display=f.name, key=f.name.lower())
        for f in found
        if f.name not in given
    ]


def value_candidates(field: InputField) -> list[Candidate]:
    """Enum choices or true/false; the default is marked."""
    prop = field.prop
    default = prop.get("default")
    choices = prop.get("enum")
    if not isinstance(choices, list) and type_of(prop) == "array":
        choices = (prop.get("items") or {}).get("enum")
    if isinstance(choices, list):
        return [_value(v, default) for v in choices]
    if type_of(prop) == "boolean":
        return [_value(True, default), _value(False, default)]
    return []


_EXAMPLES: dict[str | None, Any] = {"integer": 0, "number": 0.0, "boolean": False, "string": ""}


def example(prop: Any, depth: int = 0) -> Any:
    """A value shaped like a JSON schema (an output's, a prediction's), for completing
    paths into a result that does not exist yet: `{{.output[0]` after a pipe."""
    if not isinstance(prop, dict) or depth > 6:
        return None
    kind = type_of(prop)
    if kind == "array":
        return [example(prop.get("items"), depth + 1)]
    if kind == "object" or "properties" in prop:
        return {str(k): example(v, depth + 1) for k, v in (prop.get("properties") or {}).items()}
    return _EXAMPLES.get(kind)


def predicted(openapi_schema: dict[str, Any] | None, training: bool = False) -> dict[str, Any]:
    """What a run of this version returns, shaped by the spec's prediction response
    with this version's inputs and `Output`."""
    from rshell.commands.modelref import output_schema
    from rshell.openapi import spec

    name = "schemas_training_response" if training else "schemas_prediction_response"
    shape = example(spec()["components"]["schemas"][name])
    shape["input"] = {f.name: example(f.prop) for f in fields(openapi_schema, training)}
    shape["output"] = example(output_schema(openapi_schema)) if openapi_schema else None
    return shape


def _value(value: Any, default: Any) -> Candidate:
    text = value if isinstance(value, str) else json.dumps(value)
    meta = "default" if value == default and type(value) is type(default) else None
    return Candidate(text, meta, display=one_line(text, 60))
