"""What the sandbox accepts at its edge: request bodies, checked once, before any handler.

Every JSON body goes through `json_body`: it must be sent as `application/json`, be at
most `MAX_JSON_BYTES`, be strict JSON (UTF-8, no `NaN`/`Infinity`, no lone
surrogates, nesting at most `MAX_DEPTH`), and match the operation's request schema in
`rshell/openapi.json`. So nothing a client sends can be stored that the server could
not later send back: a bad body is a 4xx problem+json and never reaches a record.

`clean` does the same for values the sandbox did not get from a request (predictor
outputs and logs, which may come from a Cog server): they are made JSON-safe instead
of refused, because the run has already happened.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

from starlette.requests import Request

from rshell.sandbox.problems import Problem

MAX_JSON_BYTES = 16 * 2**20  # the largest JSON (or search text) body; uploads have their own cap
MAX_DEPTH = 64  # arrays and objects nested deeper than this are refused
JSON_TYPES = ("application/json",)
SURROGATE = re.compile("[\ud800-\udfff]")  # in a str, any surrogate code point is a lone one


# reading ---------------------------------------------------------------------------


def too_large(limit: int, what: str = "request body") -> Problem:
    """A 413 that also closes the connection: the rest of the body is never read."""
    return Problem(413, f"{what} is larger than the sandbox's limit of {limit} bytes", {"Connection": "close"})


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` (memory stays bounded)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, checked as the module docstring says; raises Problem."""
    if not is_json_type(request.headers.get("content-type", "")):
        raise Problem(415, "send the request body as JSON with `Content-Type: application/json`")
    raw = await read_capped(request, MAX_JSON_BYTES)
    if not raw.strip():
        raise Problem(400, "the request body must be a JSON object")
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise Problem(422, "the request body must be a JSON object")
    check_request_schema(request, body)
    return body


async def text_body(request: Request) -> str:
    """A `text/plain` body (the models search query), capped like JSON bodies."""
    media = request.headers.get("content-type", "text/plain").split(";")[0].strip().lower()
    if media != "text/plain":
        raise Problem(415, "send the search query as `Content-Type: text/plain`")
    raw = await read_capped(request, MAX_JSON_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "the request body is not valid UTF-8") from None
    return text


# strict JSON -----------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} does not fit a double")
    return value


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, finite numbers only, no lone surrogates, bounded nesting."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "the request body is not valid UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise Problem(400, f"the request body is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as error:
        raise Problem(400, f"the request body is not valid JSON: {_short(str(error))}") from None
    problem = _unsafe(value)
    if problem is not None:
        raise Problem(400, f"the request body {problem}")
    return value


def _unsafe(value: Any) -> str | None:
    """Why `value` could not be stored and sent back as JSON, or None if it can."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                return "contains a lone surrogate (\\ud800-\\udfff) in a string"
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                return f"is nested more than {MAX_DEPTH} levels deep"
            if isinstance(item, dict):
                for key, child in item.items():
                    if not _encodable(key):
                        return "contains a lone surrogate (\\ud800-\\udfff) in a key"
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
    return None


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean(value: Any, depth: int = 0) -> Any:
    """`value` made safe to store and send as JSON (for values no request carried):
    non-finite floats become null, lone surrogates U+FFFD, nesting is cut at MAX_DEPTH."""
    if isinstance(value, str):
        return value if _encodable(value) else SURROGATE.sub("\ufffd", value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dict, list, tuple)) and depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {clean(str(k)): clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v, depth + 1) for v in value]
    return value


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# the spec's request schemas --------------------------------------------------------


def template_of(request: Request) -> str | None:
    """The spec's path template of the route serving `request` (without /v1)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str) or not path.startswith("/v1/"):
        return None
    return path[3:]


def check_request_schema(request: Request, body: dict[str, Any]) -> None:
    """422 naming the first field that breaks the operation's documented request schema."""
    template = template_of(request)
    validator = _validator(request.method.lower(), template) if template else None
    if validator is None:
        return
    errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise Problem(422, describe(errors[0]))


def describe(error: Any) -> str:
    """One line naming the field and what it must be."""
    field = ".".join(str(p) for p in error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{_join(field, missing)}: field is required"
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"{_join(field, extra[0] if extra else '?')}: unknown field"
    where = field or "the request body"
    if kind == "type":
        return f"{where}: must be {_TYPES.get(str(error.validator_value), str(error.validator_value))}"
    if kind == "enum":
        return f"{where}: must be one of {', '.join(str(v) for v in error.validator_value)}"
    if kind == "minimum":
        return f"{where}: must be at least {error.validator_value}"
    if kind == "maximum":
        return f"{where}: must be at most {error.validator_value}"
    return f"{where}: {_short(error.message)}"


_TYPES = {
    "string": "a string",
    "object": "a JSON object",
    "array": "a list",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


def _join(field: str, name: str) -> str:
    return f"{field}.{name}" if field else name


@lru_cache(maxsize=64)
def _validator(method: str, template: str) -> Any:
    """A cached validator of the JSON request body of one operation, or None."""
    from rshell import openapi

    operation = openapi.spec()["paths"].get(template, {}).get(method)
    if not isinstance(operation, dict):
        return None
    content = (operation.get("requestBody") or {}).get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    if schema is None:
        return None
    import jsonschema

    root = {**openapi.json_schema(schema), "components": openapi.json_schema(openapi.spec()["components"])}
    return jsonschema.Draft4Validator(root)


def documented_media_type(request: Request, status: int) -> str | None:
    """The media type the spec documents for this operation's error `status`, if one."""
    template = template_of(request)
    if template is None:
        return None
    from rshell import openapi

    operation = openapi.spec()["paths"].get(template, {}).get(request.method.lower())
    if not isinstance(operation, dict):
        return None
    content = (operation.get("responses", {}).get(str(status)) or {}).get("content") or {}
    return next(iter(content), None)
