"""Schemas generated from Cog-style declarations have Cog's shape.

The whole-document comparison with a schema Cog itself generated is in
test_cog_attach.py; here: each built-in model's schema, the less common input
types, and that the schemas validate inputs the way a client would use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from rshell.sandbox.predictors import BUILTIN, CogStyleModel, Job, Predictor
from rshell.sandbox.predictors.declare import ConcatenateIterator, Input, Path, declared_fields

REF = "#/components/schemas/"


def schemas(name: str) -> dict[str, Any]:
    return BUILTIN[name].openapi_schema()["components"]["schemas"]


def input_validator(document: dict[str, Any], component: str = "Input") -> jsonschema.Validator:
    """A validator for one component that can follow the document's $refs."""
    schema = {**document["components"]["schemas"][component], "components": document["components"]}
    return jsonschema.Draft7Validator(schema)


def test_builtin_models_are_keyed_by_name_and_satisfy_the_protocol() -> None:
    assert set(BUILTIN) == {"rshell/pixels", "rshell/upscale", "rshell/tinylm", "rshell/echo", "rshell/palette-trainer"}
    for key, model in BUILTIN.items():
        assert isinstance(model, Predictor) and model.name == key
        assert model.hardware == "cpu" and model.description
        assert model.trainable is (key == "rshell/palette-trainer")


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_schema_is_a_cog_openapi_document(name: str) -> None:
    document = BUILTIN[name].openapi_schema()
    assert document["openapi"] == "3.0.2" and document["info"] == {"title": "Cog", "version": "0.1.0"}
    found = document["components"]["schemas"]
    for component in ["Input", "Output", "PredictionRequest", "PredictionResponse", "Status"]:
        assert component in found
    assert found["Status"]["enum"] == ["starting", "processing", "succeeded", "canceled", "failed"]
    assert found["PredictionRequest"]["properties"]["input"]["$ref"] == REF + "Input"
    assert found["PredictionResponse"]["properties"]["output"]["$ref"] == REF + "Output"
    assert "/predictions" in document["paths"] and "/predictions/{prediction_id}/cancel" in document["paths"]
    properties = found["Input"]["properties"]
    assert [p["x-order"] for p in properties.values()] == list(range(len(properties)))
    for key, prop in properties.items():
        if "allOf" in prop:  # choices: the enum lives in its own component, as Cog does it
            assert prop["allOf"] == [{"$ref": REF + key}] and found[key]["enum"]
            assert found[key]["description"] == "An enumeration."
        else:
            assert prop["title"] == key.replace("_", " ").title() and "type" in prop
        assert prop["description"]


def test_pixels_input_and_output() -> None:
    found = schemas("rshell/pixels")
    props = found["Input"]["properties"]
    assert list(props) == ["prompt", "width", "height", "seed", "num_outputs", "style"]
    assert found["Input"]["required"] == ["prompt"]
    assert props["width"] == {
        "type": "integer",
        "minimum": 16.0,
        "maximum": 512.0,
        "title": "Width",
        "default": 64,
        "x-order": 1,
        "description": "Width of the image in pixels",
    }
    assert props["seed"]["type"] == "integer" and "default" not in props["seed"]
    assert props["style"]["default"] == "gradient"
    assert found["style"] == {
        "type": "string",
        "enum": ["gradient", "blocks", "noise"],
        "title": "style",
        "description": "An enumeration.",
    }
    assert found["Output"] == {"items": {"type": "string", "format": "uri"}, "type": "array", "title": "Output"}


def test_upscale_has_an_integer_enum_and_a_file_in_and_out() -> None:
    found = schemas("rshell/upscale")
    assert found["Input"]["properties"]["image"]["format"] == "uri"
    assert found["scale"]["type"] == "integer" and found["scale"]["enum"] == [2, 4]
    assert found["Output"] == {"type": "string", "format": "uri", "title": "Output"}


def test_tinylm_output_is_a_concatenated_iterator() -> None:
    found = schemas("rshell/tinylm")
    assert found["Output"] == {
        "items": {"type": "string"},
        "type": "array",
        "title": "Output",
        "x-cog-array-type": "iterator",
        "x-cog-array-display": "concatenate",
    }
    assert found["Input"]["properties"]["temperature"]["type"] == "number"


def test_trainer_also_declares_training_components_and_routes() -> None:
    document = BUILTIN["rshell/palette-trainer"].openapi_schema()
    found = document["components"]["schemas"]
    assert found["TrainingInput"]["properties"] == found["Input"]["properties"]
    assert found["TrainingInput"]["required"] == ["input_images"]
    assert found["TrainingResponse"]["properties"]["output"]["$ref"] == REF + "TrainingOutput"
    assert {"/trainings", "/trainings/{training_id}/cancel"} <= set(document["paths"])
    assert "/trainings" not in BUILTIN["rshell/pixels"].openapi_schema()["paths"]


def test_schemas_validate_inputs_as_clients_use_them() -> None:
    document = BUILTIN["rshell/pixels"].openapi_schema()
    validator = input_validator(document)
    assert not list(validator.iter_errors({"prompt": "a cat", "style": "blocks", "width": 128}))
    bad = {e.validator for e in validator.iter_errors({"style": "sketch", "width": 4})}
    assert bad == {"required", "enum", "minimum"}


def test_the_schema_is_a_copy_callers_may_change() -> None:
    first = BUILTIN["rshell/echo"].openapi_schema()
    first["components"]["schemas"]["Input"]["properties"].clear()
    assert BUILTIN["rshell/echo"].openapi_schema()["components"]["schemas"]["Input"]["properties"]


class Unusual(CogStyleModel):
    def run(
        self,
        job: Job,
        maybe: int | None = Input(description="A", default=None),
        short: str = Input(description="B", default=None, min_length=1, max_length=5, regex="^x"),
        files: list[Path] = Input(description="C", default=None),
        words: list[str] = Input(description="D"),
        plain: str = "x",
    ) -> Iterator[str]:
        yield ""


def test_less_common_types_match_what_cog_emits() -> None:
    # expected values are cog 0.16's output for the same declaration
    found = Unusual().openapi_schema()["components"]["schemas"]
    props = found["Input"]["properties"]
    assert props["maybe"] == {"title": "Maybe", "description": "A", "x-order": 0, "type": "integer", "nullable": True}
    assert props["short"] == {
        "type": "string",
        "maxLength": 5,
        "minLength": 1,
        "pattern": "^x",
        "title": "Short",
        "description": "B",
        "x-order": 1,
    }
    assert props["files"]["items"] == {"type": "string", "format": "uri"} and props["files"]["type"] == "array"
    assert props["plain"] == {"type": "string", "title": "Plain", "default": "x", "x-order": 4}
    assert found["Input"]["required"] == ["words"]
    assert found["Output"] == {
        "items": {"type": "string"},
        "type": "array",
        "title": "Output",
        "x-cog-array-type": "iterator",
    }


def test_declarations_without_types_are_refused() -> None:
    class Untyped(CogStyleModel):
        def run(self, job: Job, prompt=Input(description="no type")) -> str:  # type: ignore[no-untyped-def]
            return ""

    with pytest.raises(TypeError, match="needs a type"):
        declared_fields(Untyped.run)

    class NoOutput(CogStyleModel):
        def run(self, job: Job, prompt: str = Input()):  # type: ignore[no-untyped-def]
            return ""

    with pytest.raises(TypeError, match="return type"):
        NoOutput().openapi_schema()


def test_concatenate_iterator_is_an_iterator_marker() -> None:
    assert issubclass(ConcatenateIterator, Iterator)


def test_the_user_reference_documents_every_model_and_input() -> None:
    from pathlib import Path as FsPath

    doc = (FsPath(__file__).parents[2] / "references" / "sandbox-models.md").read_text()
    for name, model in BUILTIN.items():
        assert f"## {name}:" in doc
        section = doc.split(f"## {name}:", 1)[1].split("\n## ", 1)[0]
        props = model.openapi_schema()["components"]["schemas"]["Input"]["properties"]
        for key, prop in props.items():
            row = next((line for line in section.splitlines() if line.startswith(f"| `{key}` |")), None)
            assert row is not None, f"{name}: input {key} is not documented"
            assert prop["description"].split(";")[0] in row
            if "default" in prop:
                assert f"`{str(prop['default']).lower()}`" in row.lower()
