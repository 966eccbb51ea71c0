"""The write operations' body fields (rshell/writes.py) against the spec's request bodies.

One declaration feeds the catalog's flags, the handlers' bodies and the sandbox's
checks; these tests hold it to `rshell/openapi.json`, field by field.
"""

from __future__ import annotations

from typing import Any

import pytest

from rshell import openapi, writes
from rshell.commands import catalog


def _request_schema(operation_id: str) -> dict[str, Any] | None:
    """The object schema of an operation's request body, $refs resolved; None for none."""
    method, path = openapi.operations()[operation_id]
    op = openapi.spec()["paths"][path][method.lower()]
    content = (op.get("requestBody") or {}).get("content") or {}
    for media in content.values():
        schema = media.get("schema") or {}
        ref = schema.get("$ref")
        if ref:
            schema = openapi.spec()["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        if schema.get("type") == "object":
            return schema
    return None


def test_every_operation_with_an_object_body_is_declared() -> None:
    with_bodies = {op for op in openapi.operations() if _request_schema(op) is not None}
    assert with_bodies == set(writes.BODIES)


@pytest.mark.parametrize("operation", sorted(writes.BODIES))
def test_declared_fields_are_the_spec_fields(operation: str) -> None:
    schema = _request_schema(operation)
    assert schema is not None
    props = schema["properties"]
    declared = {f.name: f for f in writes.fields(operation)}
    assert set(declared) == set(props)
    assert {n for n, f in declared.items() if f.required} == set(schema.get("required") or [])
    for name, field in declared.items():
        prop = props[name]
        assert field.type == prop["type"], name
        assert field.enum == tuple(prop.get("enum") or ()), name
        assert field.items_enum == tuple((prop.get("items") or {}).get("enum") or ()), name
        assert field.minimum == prop.get("minimum"), name
        assert field.maximum == prop.get("maximum"), name
        assert field.max_length == prop.get("maxLength"), name
        assert field.default == prop.get("default"), name


# the catalog's flags come from the declaration ----------------------------------------

COMMAND_OF = {
    "models.create": ("model", "create"),
    "models.update": ("model", "update"),
    "deployments.create": ("deployments", "create"),
    "deployments.update": ("deployments", "update"),
    "files.create": ("files", "upload"),
    "trainings.create": ("training", "create"),
    "predictions.create": ("prediction", "create"),
}


@pytest.mark.parametrize("operation, path", sorted(COMMAND_OF.items()))
def test_each_flagged_field_is_a_flag_of_its_command(operation: str, path: tuple[str, ...]) -> None:
    command = catalog.BY_PATH[path]
    for field in writes.flagged(operation):
        flag = command.flag(field.flag or "")
        assert flag is not None, f"{command.name} lacks {field.flag}"
        assert flag.dest == field.name
        assert flag.required == field.flag_required


def test_model_update_offers_exactly_the_update_body() -> None:
    command = catalog.BY_PATH[("model", "update")]
    offered = {f.dest for f in command.flags}
    assert offered == writes.names("models.update")
    assert command.flag("--cover-image-url") is None
    assert command.flag("--readme") is not None and command.flag("--weights-url") is not None


def test_model_create_offers_cover_image_but_not_update_only_fields() -> None:
    command = catalog.BY_PATH[("model", "create")]
    assert command.flag("--cover-image-url") is not None
    assert command.flag("--readme") is None and command.flag("--weights-url") is None


# checking bodies (the sandbox uses this) -----------------------------------------------


@pytest.mark.parametrize(
    "operation, body, partial, reason",
    [
        ("predictions.create", {"version": "v", "input": {}, "extra": 1}, False, "extra: unknown field"),
        ("models.predictions.create", {"input": {}, "version": "v"}, False, "version: unknown field"),
        ("models.update", {"readme": 3}, True, "readme: must be a string"),
        ("deployments.update", {"max_instances": 21}, True, "max_instances: must be at most 20"),
        ("deployments.update", {"min_instances": True}, True, "min_instances: must be an integer"),
        ("deployments.create", {"name": "x"}, False, "field is required"),
        ("models.create", {"owner": "a", "name": "b", "visibility": "secret", "hardware": "cpu"}, False, "one of"),
        ("trainings.create", {"destination": "a/b", "input": {}, "webhook_events_filter": [{}]}, False, "a list of"),
        ("files.create", {"content": "x", "filename": "n" * 256}, False, "at most 255"),
    ],
)
def test_problem_names_the_field_and_reason(operation: str, body: dict, partial: bool, reason: str) -> None:
    found = writes.problem(operation, body, partial=partial)
    assert found is not None and reason in found


def test_closed_bodies_are_those_the_spec_closes() -> None:
    """Issue 20: an unknown field is refused only where the published schema says
    `additionalProperties: false` (the prediction bodies); elsewhere it is allowed."""
    closed = {op for op in writes.BODIES if (_request_schema(op) or {}).get("additionalProperties") is False}
    assert closed == set(writes.CLOSED) and closed


def test_open_bodies_accept_fields_they_do_not_declare() -> None:
    """The official Go CLI sends `version` with every training; the spec allows extras."""
    body = {"destination": "a/b", "input": {}, "version": "0" * 64}
    assert writes.problem("trainings.create", body) is None
    assert writes.problem("models.update", {"cover_image_url": "https://x"}, partial=True) is None
    assert writes.problem("deployments.update", {"min_instances": 1, "note": "x"}, partial=True) is None


def test_a_fitting_body_has_no_problem() -> None:
    body = {"name": "d", "model": "a/b", "version": "v", "hardware": "cpu", "min_instances": 0, "max_instances": 2}
    assert writes.problem("deployments.create", body) is None
    assert writes.problem("models.update", {"readme": "# hi", "weights_url": "https://w"}, partial=True) is None


# Cancel-After durations ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds", [("30", 30), ("30s", 30), ("5m", 300), ("1h30m", 5400), ("1h30m45s", 5445), ("2h", 7200)]
)
def test_durations(text: str, seconds: int) -> None:
    assert writes.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "1.5h", "m", "4s", "-5m", "1h 30m", "9" * 20])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        writes.parse_duration(text)
