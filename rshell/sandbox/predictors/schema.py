"""Generate a version's openapi_schema from a Cog-style declaration.

The document has the shape Cog's HTTP server publishes at /openapi.json (checked
against the output of cog 0.16's generator): `Input` with titled, ordered properties
(`x-order`), choices as enum components referenced through `allOf`, `Output`, and the
request/response envelopes. Clients (rshell's own input coercion, the official
client, Replicate's web UI conventions) read these exact keys.
"""

from __future__ import annotations

import collections.abc
import typing
from typing import Any

from rshell.sandbox.predictors.declare import (
    MISSING,
    ConcatenateIterator,
    Field,
    Path,
    strip_optional,
)

_REF = "#/components/schemas/"
_PRIMITIVES: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    Path: {"type": "string", "format": "uri"},
}
_WEBHOOK_EVENTS = ["start", "output", "logs", "completed"]
_STATUSES = ["starting", "processing", "succeeded", "canceled", "failed"]


def title_of(name: str) -> str:
    """Cog's (pydantic's) title for a field name: `input_images` -> `Input Images`."""
    return name.replace("_", " ").title()


def type_schema(annotation: Any) -> dict[str, Any]:
    """The JSON schema of a value type: primitives, Path, list[X], dict."""
    if annotation in _PRIMITIVES:
        return dict(_PRIMITIVES[annotation])
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        return {"items": type_schema(item), "type": "array"}
    if annotation is dict or origin is dict:
        return {"additionalProperties": True, "type": "object"}
    if annotation is Any:
        return {}
    raise TypeError(f"unsupported type in a model declaration: {annotation!r}")


def _constraints(field: Field) -> dict[str, Any]:
    spec = field.spec
    out: dict[str, Any] = {}
    if spec.le is not None:
        out["maximum"] = float(spec.le)
    if spec.ge is not None:
        out["minimum"] = float(spec.ge)
    if spec.max_length is not None:
        out["maxLength"] = spec.max_length
    if spec.min_length is not None:
        out["minLength"] = spec.min_length
    if spec.regex is not None:
        out["pattern"] = spec.regex
    return out


def _tail(field: Field) -> dict[str, Any]:
    """description, default and x-order: the keys every property ends with."""
    out: dict[str, Any] = {}
    if field.spec.description is not None:
        out["description"] = field.spec.description
    if field.spec.default is not MISSING and field.spec.default is not None:
        out["default"] = field.spec.default
    out["x-order"] = field.order
    return out


def enum_component(field: Field) -> dict[str, Any]:
    """The enum schema Cog emits for a field with choices, named after the field."""
    base = type_schema(field.base_type)
    return {
        "type": base.get("type", "string"),
        "enum": list(field.spec.choices or ()),
        "title": field.name,
        "description": "An enumeration.",
    }


def input_property(field: Field) -> dict[str, Any]:
    """One property of `Input`, as Cog writes it."""
    if field.spec.choices is not None:
        return {**_tail(field), "allOf": [{"$ref": _REF + field.name}]}
    base, optional = strip_optional(field.annotation)
    if optional:
        return {"title": title_of(field.name), **_tail(field), **type_schema(base), "nullable": True}
    return {**type_schema(base), **_constraints(field), "title": title_of(field.name), **_tail(field)}


def input_schema(fields: list[Field], title: str = "Input") -> dict[str, Any]:
    """The `Input` (or `TrainingInput`) object schema."""
    schema: dict[str, Any] = {
        "properties": {f.name: input_property(f) for f in fields},
        "type": "object",
    }
    required = [f.name for f in fields if f.required]
    if required:
        schema["required"] = required
    schema["title"] = title
    return schema


def output_schema(annotation: Any, title: str = "Output") -> dict[str, Any]:
    """`Output`: a type, or an iterator (streamed) marked the way Cog marks it."""
    origin = typing.get_origin(annotation)
    if origin is ConcatenateIterator or annotation is ConcatenateIterator:
        (item,) = typing.get_args(annotation) or (str,)
        return {
            "items": type_schema(item),
            "type": "array",
            "title": title,
            "x-cog-array-display": "concatenate",
            "x-cog-array-type": "iterator",
        }
    if origin in (collections.abc.Iterator, collections.abc.Generator, collections.abc.Iterable):
        item = typing.get_args(annotation)[0] if typing.get_args(annotation) else Any
        return {"items": type_schema(item), "type": "array", "title": title, "x-cog-array-type": "iterator"}
    return {**type_schema(annotation), "title": title}


def _nullable(title: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"title": title, **schema, "nullable": True}


def _request(input_name: str, title: str, filter_title: bool) -> dict[str, Any]:
    events: dict[str, Any] = {"title": "Webhook Events Filter"} if filter_title else {}
    events.update(
        {"default": list(_WEBHOOK_EVENTS), "items": {"$ref": _REF + "WebhookEvent"}, "type": "array", "nullable": True}
    )
    return {
        "properties": {
            "input": {"$ref": _REF + input_name, "nullable": True},
            "id": _nullable("Id", {"type": "string"}),
            "created_at": _nullable("Created At", {"type": "string", "format": "date-time"}),
            "context": _nullable("Context", {"additionalProperties": {"type": "string"}, "type": "object"}),
            "output_file_prefix": _nullable("Output File Prefix", {"type": "string"}),
            "webhook": _nullable("Webhook", {"type": "string", "maxLength": 65536, "minLength": 1, "format": "uri"}),
            "webhook_events_filter": events,
        },
        "type": "object",
        "title": title,
    }


def _response(input_name: str, output_name: str, title: str, output_nullable: bool) -> dict[str, Any]:
    output: dict[str, Any] = {"$ref": _REF + output_name}
    if output_nullable:
        output["nullable"] = True
    when = {"type": "string", "format": "date-time"}
    return {
        "properties": {
            "input": {"$ref": _REF + input_name, "nullable": True},
            "output": output,
            "id": _nullable("Id", {"type": "string"}),
            "version": _nullable("Version", {"type": "string"}),
            "created_at": _nullable("Created At", when),
            "started_at": _nullable("Started At", when),
            "completed_at": _nullable("Completed At", when),
            "logs": {"type": "string", "title": "Logs", "default": ""},
            "error": _nullable("Error", {"type": "string"}),
            "status": {"$ref": _REF + "Status", "nullable": True},
            "metrics": _nullable("Metrics", {"additionalProperties": True, "type": "object"}),
        },
        "type": "object",
        "title": title,
    }


def _enumeration(title: str, values: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": values, "title": title, "description": "An enumeration."}


def _validation_components() -> dict[str, Any]:
    return {
        "HTTPValidationError": {
            "properties": {"detail": {"items": {"$ref": _REF + "ValidationError"}, "type": "array", "title": "Detail"}},
            "type": "object",
            "title": "HTTPValidationError",
        },
        "ValidationError": {
            "properties": {
                "loc": {
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    "type": "array",
                    "title": "Location",
                },
                "msg": {"type": "string", "title": "Message"},
                "type": {"type": "string", "title": "Error Type"},
            },
            "type": "object",
            "required": ["loc", "msg", "type"],
            "title": "ValidationError",
        },
    }


def _json_response(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "Successful Response", "content": {"application/json": {"schema": schema}}}


_INVALID = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": _REF + "HTTPValidationError"}}},
}
_PREFER = {"name": "prefer", "in": "header", "required": False, "schema": {"title": "Prefer", "type": "string"}}


def _simple_get(summary: str, operation: str, title: str, method: str = "get") -> dict[str, Any]:
    return {
        method: {"summary": summary, "operationId": operation, "responses": {"200": _json_response({"title": title})}}
    }


def _id_param(noun: str) -> dict[str, Any]:
    return {
        "name": f"{noun}_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "title": f"{noun.title()} ID"},
    }


def _ok(response: str) -> dict[str, Any]:
    return {"200": _json_response({"$ref": _REF + response}), "422": _INVALID}


def _operation(
    summary: str,
    operation_id: str,
    parameters: list[dict[str, Any]],
    responses: dict[str, Any],
    *,
    description: str | None = None,
    body: dict[str, Any] | None = None,
    required: bool = False,
) -> dict[str, Any]:
    """One operation of Cog's HTTP API as its FastAPI app describes it."""
    operation: dict[str, Any] = {"summary": summary}
    if description:
        operation["description"] = description
    operation["operationId"] = operation_id
    operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            **({"required": True} if required else {}),
            "content": {"application/json": {"schema": body}},
        }
    operation["responses"] = responses
    return operation


def _cancelled(title: str) -> dict[str, Any]:
    return {"200": _json_response({"title": title}), "422": _INVALID}


def _prediction_paths() -> dict[str, Any]:
    """POST /predictions, PUT /predictions/{id}, POST .../cancel, as Cog routes them."""
    body, one = {"$ref": _REF + "PredictionRequest"}, [_id_param("prediction")]
    return {
        "/predictions": {
            "post": _operation(
                "Predict",
                "predict_predictions_post",
                [_PREFER],
                _ok("PredictionResponse"),
                description="Run a single prediction on the model",
                body=body,
            )
        },
        "/predictions/{prediction_id}": {
            "put": _operation(
                "Predict Idempotent",
                "predict_idempotent_predictions__prediction_id__put",
                [*one, _PREFER],
                _ok("PredictionResponse"),
                description="Run a single prediction on the model (idempotent creation).",
                body={"allOf": [body], "title": "Prediction Request"},
                required=True,
            )
        },
        "/predictions/{prediction_id}/cancel": {
            "post": _operation(
                "Cancel",
                "cancel_predictions__prediction_id__cancel_post",
                one,
                _cancelled("Response Cancel Predictions  Prediction Id  Cancel Post"),
                description="Cancel a running prediction",
            )
        },
    }


def _training_paths() -> dict[str, Any]:
    """POST /trainings, PUT /trainings/{id}, POST .../cancel (Cog's `train` routes)."""
    body, one = {"$ref": _REF + "TrainingRequest"}, [_id_param("training")]
    return {
        "/trainings": {
            "post": _operation("Train", "train_trainings_post", [_PREFER], _ok("TrainingResponse"), body=body)
        },
        "/trainings/{training_id}": {
            "put": _operation(
                "Train Idempotent",
                "train_idempotent_trainings__training_id__put",
                [*one, _PREFER],
                _ok("TrainingResponse"),
                body={**body, "title": "Training Request"},
                required=True,
            )
        },
        "/trainings/{training_id}/cancel": {
            "post": _operation(
                "Cancel Training",
                "cancel_training_trainings__training_id__cancel_post",
                one,
                _cancelled("Response Cancel Training Trainings  Training Id  Cancel Post"),
            )
        },
    }


def _paths(trainable: bool) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/shutdown": _simple_get(
            "Start Shutdown", "start_shutdown_shutdown_post", "Response Start Shutdown Shutdown Post", "post"
        )
    }
    if trainable:
        paths.update(_training_paths())
    paths["/"] = _simple_get("Root", "root__get", "Response Root  Get")
    paths["/health-check"] = _simple_get(
        "Healthcheck", "healthcheck_health_check_get", "Response Healthcheck Health Check Get"
    )
    paths.update(_prediction_paths())
    return paths


def openapi_document(fields: list[Field], output: Any, trainable: bool = False) -> dict[str, Any]:
    """The whole openapi_schema of a version declared by `fields` -> `output`.

    A trainable model's training takes the same inputs as its run, so it also gets
    `TrainingInput`/`TrainingOutput` and the /trainings routes, as a Cog model with a
    `train` entry does.
    """
    schemas: dict[str, Any] = {}
    schemas.update(_validation_components())
    schemas["Input"] = input_schema(fields)
    schemas["Output"] = output_schema(output)
    schemas["PredictionRequest"] = _request("Input", "PredictionRequest", filter_title=False)
    schemas["PredictionResponse"] = _response("Input", "Output", "PredictionResponse", output_nullable=False)
    schemas["Status"] = _enumeration("Status", list(_STATUSES))
    if trainable:
        schemas["TrainingInput"] = input_schema(fields, "TrainingInput")
        schemas["TrainingOutput"] = output_schema(output, "TrainingOutput")
        schemas["TrainingRequest"] = _request("TrainingInput", "TrainingRequest", filter_title=True)
        schemas["TrainingResponse"] = _response(
            "TrainingInput", "TrainingOutput", "TrainingResponse", output_nullable=True
        )
    schemas["WebhookEvent"] = _enumeration("WebhookEvent", list(_WEBHOOK_EVENTS))
    for field in fields:
        if field.spec.choices is not None:
            schemas[field.name] = enum_component(field)
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": _paths(trainable),
        "components": {"schemas": dict(sorted(schemas.items()))},
    }
