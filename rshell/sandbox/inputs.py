"""Check a prediction's input against its version's Cog schema, and fill defaults.

Cog writes the inputs as `components.schemas.Input` (properties with `x-order`,
defaults, min/max, and enums as `allOf: [{$ref: …}]`). We validate with jsonschema
against that component inside the version's own document, so the `$ref`s resolve,
and report the first failure as a 422 naming the field, as Replicate does.
"""

from __future__ import annotations

import copy
from typing import Any

from rshell.sandbox.problems import invalid


def input_schema(openapi_schema: dict[str, Any] | None, component: str = "Input") -> dict[str, Any] | None:
    """The `Input` (or `TrainingInput`) component of a version's schema, if it has one."""
    if not openapi_schema:
        return None
    return openapi_schema.get("components", {}).get("schemas", {}).get(component)


def validate_inputs(
    openapi_schema: dict[str, Any] | None, inputs: dict[str, Any], component: str = "Input"
) -> dict[str, Any]:
    """The inputs with defaults filled in; raises a 422 Problem on the first bad field.

    Trainings pass `component="TrainingInput"`, Cog's schema of a `train()`'s inputs.
    """
    schema = input_schema(openapi_schema, component)
    if schema is None:
        return dict(inputs)
    properties: dict[str, Any] = schema.get("properties", {})
    unknown = sorted(set(inputs) - set(properties))
    if unknown:
        valid = ", ".join(sorted(properties)) or "none"
        raise invalid(f"input.{unknown[0]}: unknown input (valid inputs: {valid})")
    _check(openapi_schema or {}, schema, inputs)
    _check_data_urls(inputs, "input")
    filled = dict(inputs)
    for name, prop in properties.items():
        if name not in filled and "default" in prop:
            filled[name] = copy.deepcopy(prop["default"])
    return filled


def _check_data_urls(value: Any, where: str) -> None:
    """A `data:` URL input must decode (`;base64,!!!` would otherwise run as an empty file)."""
    from rshell.sandbox.predictors.base import PredictionError, decode_data_url

    if isinstance(value, str) and value.startswith("data:"):
        try:
            decode_data_url(value)
        except PredictionError as error:
            raise invalid(f"{where}: {error}") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_data_urls(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_data_urls(item, f"{where}.{index}")


def _check(document: dict[str, Any], schema: dict[str, Any], inputs: dict[str, Any]) -> None:
    import jsonschema  # imported here: only prediction creation needs it

    root = {"components": document.get("components", {}), **schema}
    validator = jsonschema.Draft7Validator(root)
    errors = sorted(validator.iter_errors(inputs), key=lambda e: (list(e.absolute_path), e.message))
    if not errors:
        return
    error = errors[0]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        raise invalid(f"input.{missing}: required input is missing")
    field = ".".join(str(p) for p in error.absolute_path) or "input"
    raise invalid(f"input.{field}: {_message(error)}")


def _message(error: Any) -> str:
    """jsonschema's message, shortened for the long enum-via-allOf case."""
    if error.validator in ("enum", "allOf") and error.context:
        return _message(error.context[0])
    if error.validator == "enum":
        choices = ", ".join(repr(v) for v in error.validator_value)
        return f"{error.instance!r} is not one of {choices}"
    return str(error.message)
