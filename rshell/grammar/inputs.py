"""Model inputs: `key=value` words, `@file` references, and the version's schema.

Everything here runs before a request is sent, so a typo, a wrong type, a value out
of range or a missing file costs the user nothing but an error message (exit 2).
"""

from __future__ import annotations

import copy
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any, TypeGuard

import msgspec

from rshell.commands.registry import suggest
from rshell.errors import UsageError
from rshell.grammar.lexer import KEY

# The folder of the script being run: a script's own paths (`@data/x.zip`) are relative
# to it, so it runs from any working directory; None at the prompt and for `-c`.
_SCRIPT_DIR: ContextVar[Path | None] = ContextVar("rshell_script_dir", default=None)

# --file-encoding data inlines files into the request body; keep that body small.
MAX_DATA_URL_BYTES = 1024 * 1024

_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "string": "a string",
    "array": "a list",
    "object": "a JSON object",
}


class FileRef(msgspec.Struct, frozen=True):
    """A `key=@path` input: a local file the caller uploads once inputs validate."""

    path: Path


# -- words → raw values --------------------------------------------------------------


class Input(msgspec.Struct, frozen=True):
    """One `key=value` word, split once when its line is read (`parse_args`): the key,
    the value, and whether it names a local file (`key=@path`; `@@` is a literal `@`).

    What the value means is read from the word as typed: a template's value is
    expanded into `value` at run time (`expanded`) and is text, whatever it starts with.
    """

    key: str
    value: str  # the text, or the file's path (without its `@`)
    file: bool = False
    prefix: int = 0  # characters typed before `value` (the `@` of `@path`, one `@` of `@@`)

    def expanded(self, word: str, separator: str) -> Input:
        """This input with the value its word has once its templates are expanded (the
        key and a leading `@` are literal: templates come after them)."""
        return msgspec.structs.replace(self, value=word[len(self.key) + len(separator) + self.prefix :])


def read_input(word: str, separator: str = "=") -> Input | None:
    """`key=value` where key is a name (`KEY`), else None: so `owner/name:v` stays a
    model even with `--separator :`."""
    key, found, value = word.partition(separator)
    if not found or KEY.fullmatch(key) is None:
        return None
    if value.startswith("@"):
        return Input(key, value[1:], file=not value.startswith("@@"), prefix=1)
    return Input(key, value)


def raw_values(inputs: Iterable[Input], *, inline: bool = False) -> dict[str, str | FileRef | list[str | FileRef]]:
    """The inputs by key (a repeated key collects a list); every `@path` is checked now
    (`inline`, `--file-encoding data`: small enough for a data URL too)."""
    values: dict[str, Any] = {}
    for given in inputs:
        raw = FileRef(_sendable(given.key, given.value, inline)) if given.file else given.value
        if given.key not in values:
            values[given.key] = raw
        elif isinstance(values[given.key], list):
            values[given.key].append(raw)
        else:
            values[given.key] = [values[given.key], raw]
    return values


def read_input_json(given: str, stdin: IO[str] | None) -> dict[str, Any]:
    """`--input-json`'s whole input object (Cog's `predict --json`), from `@FILE`, `-`
    (`stdin`) or the text itself; UsageError unless it is a JSON object."""
    where = "--input-json"
    if given == "-" and stdin is not None:
        text, where = stdin.read(), "--input-json - (stdin)"
    elif given.startswith("@"):
        path = readable_file(given[1:])
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path} as UTF-8 text: {exc}") from None
        where = f"--input-json {path}"
    else:
        text = given
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{where} is not JSON: {exc}", 'give an object, e.g. \'{"prompt": "a fox"}\'') from None
    if not isinstance(value, dict):
        raise UsageError(f"{where} must be a JSON object of inputs, not {type(value).__name__}")
    return value


def _sendable(key: str, raw_path: str, inline: bool) -> Path:
    path = check_file(key, raw_path)
    size = path.stat().st_size
    if inline and size > MAX_DATA_URL_BYTES:
        raise UsageError(
            f"{path} is too large to inline as a data URL ({size} bytes > 1 MiB)",
            "drop --file-encoding data to upload it through the Files API",
        )
    return path


def check_file(key: str, raw_path: str) -> Path:
    """The path of `key=@raw_path`, `~` expanded; UsageError if it cannot be read."""
    if not raw_path:
        raise UsageError(f"input '{key}': '@' needs a path", f"e.g. {key}=@photo.jpg (write @@ for a literal @)")
    return readable_file(raw_path, f"input '{key}': ")


@contextmanager
def script_folder(folder: Path | None) -> Iterator[None]:
    """While a script runs, the relative paths it names start at its folder."""
    token = _SCRIPT_DIR.set(folder)
    try:
        yield
    finally:
        _SCRIPT_DIR.reset(token)


def local_path(raw_path: str) -> Path:
    """A path the user wrote: `~` expanded; relative ones from the running script's
    folder inside a script, else from the working directory."""
    path = Path(raw_path).expanduser()
    folder = _SCRIPT_DIR.get()
    return folder / path if folder is not None and not path.is_absolute() else path


def readable_file(raw_path: str, prefix: str = "") -> Path:
    """A local file that will be sent, checked before any request: it exists, is a
    file, and can be opened (as root, permission bits alone would say yes)."""
    path = local_path(raw_path)
    if not path.exists():
        raise UsageError(f"{prefix}no such file: {path}", "check the path; ~ and relative paths work")
    if path.is_dir():
        raise UsageError(f"{prefix}{path} is a directory, not a file", "pass one file, or zip the directory first")
    try:
        with path.open("rb") as handle:
            handle.read(0)
    except OSError as exc:
        raise UsageError(f"{prefix}cannot read {path}: {exc.strerror or exc}") from None
    return path


# -- the schema --------------------------------------------------------------------------


def schemas_of(openapi_schema: Any) -> dict[str, Any]:
    """A version's `components.schemas`; {} where a level is missing or not an object
    (a server's schema is untrusted text)."""
    components = openapi_schema.get("components") if isinstance(openapi_schema, dict) else None
    schemas = components.get("schemas") if isinstance(components, dict) else None
    return schemas if isinstance(schemas, dict) else {}


def input_schema(openapi_schema: dict | None) -> dict | None:
    """The version's `Input` schema with every $ref and allOf resolved inline; None if
    absent or malformed (see `malformed`: inputs then go unchecked)."""
    found = schemas_of(openapi_schema).get("Input")
    if not isinstance(found, dict):
        return None
    inlined = _inline(found, openapi_schema or {}, ())
    return inlined if _well_formed(inlined) else None


def malformed(openapi_schema: Any) -> bool:
    """Whether a version's schema is there but is no object schema rshell can check
    inputs against (`"properties": "notadict"`); an absent one is not malformed."""
    if not openapi_schema:
        return False
    if not isinstance(openapi_schema, dict):
        return True
    components = openapi_schema.get("components")
    if components is None:
        return False
    schemas = components.get("schemas") if isinstance(components, dict) else None
    if not isinstance(schemas, dict):
        return True
    found = schemas.get("Input")
    if found is None:
        return False
    return not isinstance(found, dict) or not _well_formed(_inline(found, openapi_schema, ()))


def _well_formed(node: dict, depth: int = 0) -> bool:
    """`properties` an object of objects, `required` a list of names, `items` an
    object, all the way down: what coercion and validation read."""
    props, required, items = node.get("properties", {}), node.get("required", []), node.get("items", {})
    if not isinstance(props, dict) or not isinstance(required, list) or not isinstance(items, dict):
        return False
    if not all(isinstance(name, str) for name in required):
        return False
    children = [*props.values(), items] if items else list(props.values())
    return depth > 32 or all(isinstance(child, dict) and _well_formed(child, depth + 1) for child in children)


def _inline(node: Any, root: dict, seen: tuple[str, ...]) -> Any:
    """`node` with `$ref`s replaced by their targets and `allOf` parts merged in.

    Cog writes an enum input as `{"allOf": [{"$ref": "#/components/schemas/x"}],
    "default": …}`; merging lets every later step read `enum` and `type` directly.
    A reference loop is cut (left as `{}`) instead of recursing forever.
    """
    if isinstance(node, list):
        return [_inline(item, root, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or ref in seen:
            return {}
        target = _inline(_pointer(root, ref), root, seen + (ref,))
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**(target if isinstance(target, dict) else {}), **_inline(rest, root, seen)}
    merged: dict[str, Any] = {}
    parts = node.get("allOf")
    for part in parts if isinstance(parts, list) else []:
        inlined = _inline(part, root, seen)
        if isinstance(inlined, dict):
            merged.update(inlined)
    for key, value in node.items():
        if key != "allOf":
            merged[key] = _inline(value, root, seen)
    return merged


def _pointer(root: dict, ref: str) -> Any:
    """The target of a local JSON pointer `#/a/b`; `{}` when it does not resolve."""
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return {}
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return copy.deepcopy(node)


def _properties(schema: dict | None) -> dict[str, dict]:
    props = (schema or {}).get("properties") or {}
    return {k: v for k, v in props.items() if isinstance(v, dict)}


def ordered_keys(schema: dict | None) -> list[str]:
    """Property names in `x-order` (then as written), as Cog and the web UI show them."""
    props = _properties(schema)
    position = {key: index for index, key in enumerate(props)}

    def order(key: str) -> tuple[float, int]:
        x_order = props[key].get("x-order")
        number = x_order if isinstance(x_order, (int, float)) and not isinstance(x_order, bool) else math.inf
        return number, position[key]

    return sorted(props, key=order)


def type_of(prop: dict) -> str | None:
    """The JSON type of a property: `type`, or the first non-null one of anyOf/oneOf/a list."""
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None:
        for option in prop.get("anyOf") or prop.get("oneOf") or []:
            if isinstance(option, dict) and option.get("type") not in (None, "null"):
                return option["type"]
    return kind if isinstance(kind, str) else None


def is_uri(prop: dict) -> bool:
    """A file input: Cog's `Path`/`File`, a string of format uri (an optional one is
    written `anyOf: [{type: string, format: uri}, {type: null}]`)."""
    options = [prop] + [o for o in (prop.get("anyOf") or prop.get("oneOf") or []) if isinstance(o, dict)]
    return type_of(prop) == "string" and any(option.get("format") == "uri" for option in options)


def _allows_null(prop: dict) -> bool:
    """`nullable` (OpenAPI 3.0), `"null"` in a type list or an anyOf/oneOf option (3.1)."""
    kinds = prop.get("type")
    options = prop.get("anyOf") or prop.get("oneOf") or []
    return (
        prop.get("nullable") is True
        or (isinstance(kinds, list) and "null" in kinds)
        or any(isinstance(o, dict) and o.get("type") == "null" for o in options)
    )


def takes_file(prop: dict) -> bool:
    """Whether `@path` fits: a uri string, an array of them, or an untyped property."""
    kind = type_of(prop)
    if kind == "array":
        return takes_file(prop.get("items") or {})
    return kind is None or is_uri(prop)


# -- coercion ---------------------------------------------------------------------------


def coerce(raw: dict[str, Any], schema: dict | None) -> dict[str, Any]:
    """Raw strings → typed values per the schema; without one, JSON if it parses."""
    props = _properties(schema)
    return {key: _coerce_value(key, value, props.get(key)) for key, value in raw.items()}


def _coerce_value(key: str, value: Any, prop: dict | None) -> Any:
    kind = type_of(prop) if prop is not None else None
    if kind == "array":
        return _coerce_array(key, value, prop or {})
    if isinstance(value, list):
        if kind is None:
            return [_coerce_one(key, item, None) for item in value]
        raise UsageError(f"input '{key}' takes one value, got {len(value)}", f"give {key} once")
    return _coerce_one(key, value, kind)


def _coerce_array(key: str, value: Any, prop: dict) -> list[Any]:
    """A JSON array, repeated keys, or a single value as a one-item list."""
    items = prop.get("items") or {}
    item_kind = type_of(items)
    if isinstance(value, list):
        return [_coerce_one(key, item, item_kind) for item in value]
    if isinstance(value, str) and value.lstrip().startswith("["):
        parsed = _json(value)
        if isinstance(parsed, list):
            return [_coerce_one(key, item, item_kind) for item in parsed]
    return [_coerce_one(key, value, item_kind)]


def _coerce_one(key: str, value: Any, kind: str | None) -> Any:
    """One value to `kind`; FileRefs and already-typed values (from JSON) pass through."""
    if isinstance(value, FileRef) or not isinstance(value, str):
        return value
    if kind is None:
        parsed = _json(value)
        return value if parsed is _NOT_JSON else parsed
    convert = _CONVERTERS.get(kind)
    if convert is None:
        return value
    result = convert(value.strip() if kind != "string" else value)
    if result is _NOT_JSON:
        raise UsageError(f"input '{key}' must be {_TYPE_NAMES[kind]}, got '{value}'", _HINTS.get(kind))
    return result


class _Missing:
    """Sentinel: the text did not convert."""


_NOT_JSON: Any = _Missing()


def _json(text: str) -> Any:
    """JSON value of `text`, or _NOT_JSON (NaN and Infinity are not JSON)."""
    try:
        return json.loads(text, parse_constant=_reject)
    except ValueError:
        return _NOT_JSON


def _reject(name: str) -> Any:
    raise ValueError(name)


def _to_integer(text: str) -> Any:
    if _INTEGER.match(text):
        return int(text)
    if _NUMBER.match(text) and float(text).is_integer():
        return int(float(text))
    return _NOT_JSON


def _to_number(text: str) -> Any:
    if _INTEGER.match(text):
        return int(text)
    if _NUMBER.match(text):
        return float(text)
    return _NOT_JSON


def _to_boolean(text: str) -> Any:
    lowered = text.lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else _NOT_JSON


def _to_object(text: str) -> Any:
    parsed = _json(text)
    return parsed if isinstance(parsed, dict) else _NOT_JSON


_CONVERTERS = {
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "object": _to_object,
    "string": lambda text: text,
}
_HINTS = {
    "boolean": "use true/false, yes/no or 1/0",
    "object": "write a JSON object in single quotes, e.g. '{\"a\": 1}'",
}


# -- validation ---------------------------------------------------------------------------


def validate(values: dict[str, Any], schema: dict | None, *, stand_ins: bool = False) -> None:
    """UsageError for the first problem: unknown key, missing required, bad type/range/enum.

    `stand_ins` (--dry-run): an earlier statement's placeholder (`<img.output[0]>`)
    stands in for the URL it would have made."""
    if schema is None:
        return
    props = _properties(schema)
    valid = ordered_keys(schema)
    for key in values:
        if key not in props:
            guess = suggest(key, valid)
            listing = f"valid: {', '.join(valid)}" if valid else "this model takes no inputs"
            hint = f"did you mean '{guess}'? {listing}" if guess else listing
            raise UsageError(f"unknown input '{key}' for this model", hint)
    required = [key for key in valid if key in (schema.get("required") or [])]
    for key in required:
        if key not in values:
            raise UsageError(f"missing required input '{key}'", f"required: {', '.join(required)}")
    for key in valid:
        if key in values:
            _check(key, values[key], props[key], stand_ins)


def _check(name: str, value: Any, prop: dict, stand_ins: bool = False) -> None:
    """One value against its property: type, then bounds and enum (items too)."""
    kind = type_of(prop)
    if isinstance(value, FileRef):
        if not takes_file(prop):
            raise UsageError(
                f"input '{name}' must be {_TYPE_NAMES.get(kind or '', 'a value')}, got a file (@{value.path})",
                "only file inputs take @path",
            )
        return
    if value is None and _allows_null(prop):
        return
    if is_uri(prop):
        if not (stand_ins and isinstance(value, str) and _STAND_IN.match(value)):
            _check_uri(name, value)
        return
    if kind is not None and not _is_type(value, kind):
        raise UsageError(f"input '{name}' must be {_TYPE_NAMES.get(kind, kind)}, got {_show(value)}")
    _check_enum(name, value, prop)
    _check_bounds(name, value, prop)
    if kind == "array":
        items = prop.get("items") or {}
        for index, item in enumerate(value):
            _check(f"{name}[{index}]", item, items, stand_ins)


_URL_SCHEMES = ("http://", "https://", "data:")
_STAND_IN = re.compile(r"<[^<>\s]+>\Z")  # dryrun.placeholder_run's leaves


def _check_uri(name: str, value: Any) -> None:
    """A file input takes an http(s) URL, a data: URL or @path (checked as a FileRef);
    anything else would reach the model as a URL it cannot fetch, after the create."""
    if isinstance(value, str) and value[:8].lower().startswith(_URL_SCHEMES):
        return
    key = name.partition("[")[0]
    listed = _json(value) if isinstance(value, str) and value.lstrip().startswith("[") else value
    if isinstance(listed, list):  # a run's whole output, written into the word as JSON
        raise UsageError(
            f"input '{name}' wants a URL or @file, got a list of {len(listed)}",
            f"pick one, e.g. {key}={{{{.output[0]}}}}",
        )
    raise UsageError(f"input '{name}' wants a URL or @file, got {_shown_briefly(value)}", _file_hint(key, value))


def _file_hint(key: str, value: Any) -> str:
    """`did you mean key=@path?` when the text names a file here; else how to write one."""
    if isinstance(value, str) and value.strip() and "\n" not in value and len(value) < 4096:
        try:
            if local_path(value).is_file():
                return f"did you mean {key}=@{value}?"
        except (OSError, ValueError):
            pass
    return f"write {key}=@path for a local file, or an http(s):// or data: URL"


def _shown_briefly(value: Any, limit: int = 60) -> str:
    """A value in a one-line message, cut short: text from a model can be long."""
    shown = _show(value).replace("\n", " ")
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    checks = {"boolean": bool, "string": str, "array": list, "object": dict}
    return kind not in checks or isinstance(value, checks[kind])


def _check_enum(name: str, value: Any, prop: dict) -> None:
    choices = prop.get("enum")
    if isinstance(choices, list) and choices and value not in choices:
        listed = ", ".join(str(choice) for choice in choices)
        guess = suggest(str(value), [str(choice) for choice in choices])
        hint = f"did you mean '{guess}'?" if guess else None
        raise UsageError(f"input '{name}' must be one of: {listed}; got {_show(value)}", hint)


def _check_bounds(name: str, value: Any, prop: dict) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        for limit, op, bad in _number_limits(prop):
            if bad(value, limit):
                raise UsageError(f"input '{name}' must be {op} {_number(limit)}, got {_number(value)}")
    if isinstance(value, (str, list)):
        _check_length(name, value, prop)


def _check_length(name: str, value: str | list, prop: dict) -> None:
    """minLength/maxLength for text, minItems/maxItems for lists."""
    unit, low_key, high_key = (
        ("characters", "minLength", "maxLength") if isinstance(value, str) else ("items", "minItems", "maxItems")
    )
    low, high = prop.get(low_key), prop.get(high_key)
    if isinstance(low, int) and len(value) < low:
        raise UsageError(f"input '{name}' must have at least {low} {unit}, got {len(value)}")
    if isinstance(high, int) and len(value) > high:
        raise UsageError(f"input '{name}' must have at most {high} {unit}, got {len(value)}")


def _number_limits(prop: dict) -> list[tuple[float, str, Callable[[float, float], bool]]]:
    """(limit, operator shown, violated(value, limit)) for minimum/maximum, OpenAPI 3.0 and 3.1 styles."""
    limits: list[tuple[float, str, Callable[[float, float], bool]]] = []
    low, high = prop.get("minimum"), prop.get("maximum")
    ex_low, ex_high = prop.get("exclusiveMinimum"), prop.get("exclusiveMaximum")
    if _is_number(low):
        limits.append((low, ">", operator.le) if ex_low is True else (low, ">=", operator.lt))
    if _is_number(high):
        limits.append((high, "<", operator.ge) if ex_high is True else (high, "<=", operator.gt))
    if _is_number(ex_low):
        limits.append((ex_low, ">", operator.le))
    if _is_number(ex_high):
        limits.append((ex_high, "<", operator.ge))
    return limits


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _show(value: Any) -> str:
    """A value in a message: strings quoted, the rest as compact JSON."""
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value, separators=(",", ":"), default=str)
