"""Inputs: `key=value` splitting, `@file` checks, Cog schema coercion and validation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from rshell.errors import UsageError
from rshell.grammar.inputs import FileRef, coerce, input_schema, ordered_keys, raw_values, validate


def cog_schema() -> dict[str, Any]:
    """A version's openapi_schema as Cog writes it (SDXL-like), enums via allOf/$ref."""
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {
            "/predictions": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictionRequest"}}}
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "Input": {
                    "type": "object",
                    "title": "Input",
                    "required": ["prompt", "image"],
                    "properties": {
                        "seed": {
                            "type": "integer",
                            "title": "Seed",
                            "x-order": 9,
                            "description": "Random seed. Leave blank to randomize",
                        },
                        "image": {
                            "type": "string",
                            "title": "Image",
                            "format": "uri",
                            "x-order": 2,
                            "description": "Input image for img2img",
                        },
                        "width": {
                            "type": "integer",
                            "title": "Width",
                            "default": 1024,
                            "maximum": 1024,
                            "minimum": 128,
                            "x-order": 3,
                        },
                        "prompt": {
                            "type": "string",
                            "title": "Prompt",
                            "default": "An astronaut riding a rainbow unicorn",
                            "x-order": 0,
                        },
                        "negative_prompt": {"type": "string", "title": "Negative Prompt", "default": "", "x-order": 1},
                        "scheduler": {
                            "allOf": [{"$ref": "#/components/schemas/scheduler"}],
                            "default": "K_EULER",
                            "x-order": 5,
                            "description": "scheduler",
                        },
                        "upscale": {"allOf": [{"$ref": "#/components/schemas/upscale"}], "default": 2, "x-order": 6},
                        "guidance_scale": {
                            "type": "number",
                            "title": "Guidance Scale",
                            "default": 7.5,
                            "maximum": 50,
                            "minimum": 1,
                            "x-order": 7,
                        },
                        "prompt_strength": {
                            "type": "number",
                            "exclusiveMinimum": 0,
                            "maximum": 1,
                            "default": 0.8,
                            "x-order": 8,
                        },
                        "apply_watermark": {
                            "type": "boolean",
                            "title": "Apply Watermark",
                            "default": True,
                            "x-order": 10,
                        },
                        "extra": {"type": "object", "title": "Extra", "x-order": 11},
                        "input_images": {"type": "array", "items": {"type": "string", "format": "uri"}, "x-order": 12},
                        "sizes": {"type": "array", "items": {"type": "integer", "maximum": 64}, "x-order": 13},
                        "styles": {
                            "type": "array",
                            "items": {"allOf": [{"$ref": "#/components/schemas/style"}]},
                            "x-order": 14,
                        },
                        "lora_scale": {"anyOf": [{"type": "number"}, {"type": "null"}], "x-order": 15},
                        "anything": {"title": "Anything", "x-order": 16},
                    },
                },
                "scheduler": {
                    "enum": ["DDIM", "DPMSolverMultistep", "K_EULER"],
                    "type": "string",
                    "title": "scheduler",
                    "description": "An enumeration.",
                },
                "upscale": {"enum": [2, 4], "type": "integer", "title": "upscale", "description": "An enumeration."},
                "style": {"enum": ["photo", "anime"], "type": "string", "title": "style"},
                "Output": {"type": "array", "items": {"type": "string", "format": "uri"}, "title": "Output"},
            }
        },
    }


@pytest.fixture
def schema() -> dict[str, Any]:
    resolved = input_schema(cog_schema())
    assert resolved is not None
    return resolved


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG fake")
    return path


# -- key=value words, split once when the line is read ---------------------------------


def split_inputs(words: list[str], separator: str = "=") -> dict[str, Any]:
    """The words as a `run` line's reading splits them (`parse_args`), by key."""
    from rshell.commands.arguments import parse_args
    from rshell.commands.catalog import resolve

    command, _ = resolve(["prediction", "create"])
    return raw_values(parse_args(command, ["a/b", *words, "--separator", separator]).split)


def test_split_inputs_values_and_repeats(image: Path) -> None:
    raw = split_inputs(["prompt=a=b", "empty=", f"image=@{image}", "sizes=1", "sizes=2", "sizes=3"])
    assert raw == {"prompt": "a=b", "empty": "", "image": FileRef(image), "sizes": ["1", "2", "3"]}


def test_split_inputs_custom_separator() -> None:
    assert split_inputs(["url:https://x/y", "n:2"], separator=":") == {"url": "https://x/y", "n": "2"}


@pytest.mark.parametrize("bad", ["prompt", "=value", ""])
def test_split_inputs_malformed(bad: str) -> None:
    with pytest.raises(UsageError) as caught:
        split_inputs(["ok=1", bad])
    assert caught.value.message == f"expected key=value, got '{bad}'"
    assert caught.value.hint is not None and "prompt=" in caught.value.hint


def test_split_inputs_malformed_names_the_separator() -> None:
    with pytest.raises(UsageError, match="expected key:value, got 'a=b'"):
        split_inputs(["a=b"], separator=":")


def test_double_at_is_a_literal_at() -> None:
    assert split_inputs(["handle=@@replicate"]) == {"handle": "@replicate"}


def test_file_tilde_expands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "in.txt").write_text("hi")
    assert split_inputs(["f=@~/in.txt"]) == {"f": FileRef(tmp_path / "in.txt")}


def test_file_missing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(UsageError) as caught:
        split_inputs([f"image=@{missing}"])
    assert caught.value.message == f"input 'image': no such file: {missing}"


def test_file_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        split_inputs([f"image=@{tmp_path}"])
    assert caught.value.message == f"input 'image': {tmp_path} is a directory, not a file"


def test_file_empty_path() -> None:
    with pytest.raises(UsageError, match="input 'image': '@' needs a path"):
        split_inputs(["image=@"])


def test_file_unreadable_by_permissions(image: Path) -> None:
    """chmod 000: refused for a normal user; root reads anyway, and so do we (we try to
    open the file rather than trust os.access, so the check matches what upload will do)."""
    image.chmod(0)
    try:
        if os.geteuid() == 0:
            assert split_inputs([f"image=@{image}"]) == {"image": FileRef(image)}
        else:
            with pytest.raises(UsageError, match=f"input 'image': cannot read {image}: Permission denied"):
                split_inputs([f"image=@{image}"])
    finally:
        image.chmod(0o644)


def test_file_unreadable_when_open_fails(image: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root can read a chmod 000 file, so the refusal itself is injected at `open`."""
    real_open = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == image:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(UsageError) as caught:
        split_inputs([f"image=@{image}"])
    assert caught.value.message == f"input 'image': cannot read {image}: Permission denied"


def test_file_broken_symlink_is_missing(tmp_path: Path) -> None:
    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "gone.png")
    with pytest.raises(UsageError, match="no such file"):
        split_inputs([f"image=@{link}"])


# -- the schema --------------------------------------------------------------------------


def test_input_schema_inlines_allof_refs(schema: dict[str, Any]) -> None:
    scheduler = schema["properties"]["scheduler"]
    assert scheduler["enum"] == ["DDIM", "DPMSolverMultistep", "K_EULER"]
    assert scheduler["type"] == "string"
    assert scheduler["default"] == "K_EULER"  # the property's own keys win over the ref's
    assert scheduler["description"] == "scheduler"
    assert "allOf" not in scheduler and "$ref" not in str(schema)
    assert schema["properties"]["styles"]["items"]["enum"] == ["photo", "anime"]


def test_input_schema_does_not_touch_the_original() -> None:
    original = cog_schema()
    resolved = input_schema(original)
    assert resolved is not None
    resolved["properties"]["scheduler"]["enum"].append("X")
    assert original["components"]["schemas"]["scheduler"]["enum"] == ["DDIM", "DPMSolverMultistep", "K_EULER"]


@pytest.mark.parametrize(
    "given", [None, {}, {"components": {}}, {"components": {"schemas": {"Output": {}}}}, "not a dict"]
)
def test_input_schema_absent(given: Any) -> None:
    assert input_schema(given) is None


def test_input_schema_survives_a_ref_loop() -> None:
    looped = {
        "components": {
            "schemas": {
                "Input": {"properties": {"a": {"$ref": "#/components/schemas/A"}}},
                "A": {"$ref": "#/components/schemas/A"},
            }
        }
    }
    assert input_schema(looped) == {"properties": {"a": {}}}


def test_ordered_keys(schema: dict[str, Any]) -> None:
    assert ordered_keys(schema)[:6] == ["prompt", "negative_prompt", "image", "width", "scheduler", "upscale"]
    assert ordered_keys({"properties": {"b": {}, "a": {"x-order": 0}, "c": {}}}) == ["a", "b", "c"]
    assert ordered_keys(None) == []


# -- coercion ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, raw, value",
    [
        ("width", "512", 512),
        ("width", " 512 ", 512),
        ("width", "-3", -3),
        ("width", "1e3", 1000),
        ("seed", "4.0", 4),
        ("guidance_scale", "7.5", 7.5),
        ("guidance_scale", "7", 7),
        ("guidance_scale", "1e-2", 0.01),
        ("apply_watermark", "true", True),
        ("apply_watermark", "False", False),
        ("apply_watermark", "1", True),
        ("apply_watermark", "0", False),
        ("apply_watermark", "yes", True),
        ("apply_watermark", "NO", False),
        ("prompt", "42", "42"),
        ("prompt", "true", "true"),
        ("prompt", '{"a": 1}', '{"a": 1}'),
        ("scheduler", "DDIM", "DDIM"),
        ("upscale", "4", 4),
        ("extra", '{"a": [1, 2]}', {"a": [1, 2]}),
        ("sizes", "[1, 2]", [1, 2]),
        ("sizes", '["1", "2"]', [1, 2]),
        ("sizes", ["8", "16"], [8, 16]),
        ("sizes", "32", [32]),
        ("input_images", "https://x/a.png", ["https://x/a.png"]),
        ("input_images", '["https://x/a.png", "https://x/b.png"]', ["https://x/a.png", "https://x/b.png"]),
        ("styles", ["photo", "anime"], ["photo", "anime"]),
        ("lora_scale", "0.5", 0.5),
        ("anything", "[1, 2]", [1, 2]),
        ("anything", "hello", "hello"),
    ],
)
def test_coerce_per_type(schema: dict[str, Any], key: str, raw: Any, value: Any) -> None:
    result = coerce({key: raw}, schema)[key]
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(
    "key, raw, message",
    [
        ("width", "many", "input 'width' must be an integer, got 'many'"),
        ("width", "1.5", "input 'width' must be an integer, got '1.5'"),
        ("width", "", "input 'width' must be an integer, got ''"),
        ("width", "1_000", "input 'width' must be an integer, got '1_000'"),
        ("guidance_scale", "nan", "input 'guidance_scale' must be a number, got 'nan'"),
        ("guidance_scale", "inf", "input 'guidance_scale' must be a number, got 'inf'"),
        ("apply_watermark", "maybe", "input 'apply_watermark' must be a boolean (true or false), got 'maybe'"),
        ("extra", "[1]", "input 'extra' must be a JSON object, got '[1]'"),
        ("extra", "{oops", "input 'extra' must be a JSON object, got '{oops'"),
        ("sizes", "[1, x]", "input 'sizes' must be an integer, got '[1, x]'"),
        ("sizes", ["1", "two"], "input 'sizes' must be an integer, got 'two'"),
        ("width", ["1", "2"], "input 'width' takes one value, got 2"),
        ("prompt", ["a", "b"], "input 'prompt' takes one value, got 2"),
    ],
)
def test_coerce_errors(schema: dict[str, Any], key: str, raw: Any, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        coerce({key: raw}, schema)
    assert caught.value.message == message


def test_coerce_without_schema_is_json_else_string() -> None:
    raw = {
        "n": "3",
        "f": "2.5",
        "b": "true",
        "l": "[1, 2]",
        "o": '{"a": 1}',
        "s": "hello",
        "q": '"x"',
        "nan": "NaN",
        "many": ["1", "a"],
    }
    assert coerce(raw, None) == {
        "n": 3,
        "f": 2.5,
        "b": True,
        "l": [1, 2],
        "o": {"a": 1},
        "s": "hello",
        "q": "x",
        "nan": "NaN",
        "many": [1, "a"],
    }


def test_coerce_leaves_file_refs(schema: dict[str, Any], image: Path) -> None:
    ref = FileRef(image)
    assert coerce({"image": ref, "input_images": [ref, "https://x"]}, schema) == {
        "image": ref,
        "input_images": [ref, "https://x"],
    }
    assert coerce({"input_images": ref}, schema) == {"input_images": [ref]}


# -- validation ----------------------------------------------------------------------------


def valid_values(**extra: Any) -> dict[str, Any]:
    return {"prompt": "a fox", "image": "https://x/in.png", **extra}


def check(schema: dict[str, Any], values: dict[str, Any]) -> UsageError:
    with pytest.raises(UsageError) as caught:
        validate(values, schema)
    return caught.value


def test_validate_accepts_good_values(schema: dict[str, Any], image: Path) -> None:
    values = coerce(
        split_inputs(
            [
                "prompt=a fox",
                f"image=@{image}",
                "width=1024",
                "scheduler=DDIM",
                "upscale=4",
                "prompt_strength=1",
                "sizes=8",
                "sizes=64",
                "styles=anime",
                "lora_scale=0.3",
            ]
        ),
        schema,
    )
    validate(values, schema)  # raises on any problem
    assert values["image"] == FileRef(image)
    validate({"anything": {"x": 1}, **valid_values()}, schema)
    validate({"whatever": 1}, None)


def test_unknown_input_suggests(schema: dict[str, Any]) -> None:
    error = check(schema, {"promt": "x", "image": "u"})
    assert error.message == "unknown input 'promt' for this model"
    assert error.hint is not None and error.hint.startswith(
        "did you mean 'prompt'? valid: prompt, negative_prompt, image, width, scheduler"
    )


def test_unknown_input_without_a_close_match(schema: dict[str, Any]) -> None:
    error = check(schema, {**valid_values(), "zzzz": "1"})
    assert error.hint is not None and error.hint.startswith("valid: prompt, negative_prompt")


def test_missing_required(schema: dict[str, Any]) -> None:
    error = check(schema, {"prompt": "a fox"})
    assert error.message == "missing required input 'image'"
    assert error.hint == "required: prompt, image"


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"width": 2048}, "input 'width' must be <= 1024, got 2048"),
        ({"width": 64}, "input 'width' must be >= 128, got 64"),
        ({"guidance_scale": 50.5}, "input 'guidance_scale' must be <= 50, got 50.5"),
        ({"prompt_strength": 0}, "input 'prompt_strength' must be > 0, got 0"),
        ({"prompt_strength": 1.5}, "input 'prompt_strength' must be <= 1, got 1.5"),
        ({"scheduler": "x"}, "input 'scheduler' must be one of: DDIM, DPMSolverMultistep, K_EULER; got 'x'"),
        ({"upscale": 3}, "input 'upscale' must be one of: 2, 4; got 3"),
        ({"styles": ["photo", "oil"]}, "input 'styles[1]' must be one of: photo, anime; got 'oil'"),
        ({"sizes": [8, 128]}, "input 'sizes[1]' must be <= 64, got 128"),
        ({"width": "many"}, "input 'width' must be an integer, got 'many'"),
        ({"width": True}, "input 'width' must be an integer, got true"),
        ({"apply_watermark": "yes"}, "input 'apply_watermark' must be a boolean (true or false), got 'yes'"),
        ({"sizes": 3}, "input 'sizes' must be a list, got 3"),
    ],
)
def test_validate_values(schema: dict[str, Any], extra: dict[str, Any], message: str) -> None:
    assert check(schema, valid_values(**extra)).message == message


def test_exclusive_bounds_openapi_30_style() -> None:
    prop = {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 10, "exclusiveMaximum": True}
    schema = {"properties": {"t": prop}}
    validate({"t": 5}, schema)
    assert check(schema, {"t": 0}).message == "input 't' must be > 0, got 0"
    assert check(schema, {"t": 10}).message == "input 't' must be < 10, got 10"


def test_file_refs_only_where_files_go(schema: dict[str, Any], image: Path) -> None:
    ref = FileRef(image)
    validate(valid_values(image=ref, input_images=[ref, "https://x"]), schema)
    error = check(schema, valid_values(prompt=ref))
    assert error.message == f"input 'prompt' must be a string, got a file (@{image})"
    assert check(schema, valid_values(width=ref)).message == f"input 'width' must be an integer, got a file (@{image})"


def test_unknown_key_is_reported_before_missing_required(schema: dict[str, Any]) -> None:
    assert check(schema, {"promt": "x"}).message == "unknown input 'promt' for this model"
