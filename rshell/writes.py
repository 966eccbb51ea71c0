"""What the API's write operations accept, declared once from the official spec.

For each operation with a request body, the fields of that body: JSON type, the
spec's constraints, help text, and how a user gives the field on a command line (a
flag, or an argument the handler fills in). The catalog generates its flags from
this table, the handlers build bodies from it, the sandbox checks bodies against it,
and a test compares every entry with `rshell/openapi.json`, so a field the API does
not take (`model update --cover-image-url`) cannot be offered again.

Also here: the `Cancel-After` duration and the webhook event names, which the client
checks before sending and the sandbox checks on arrival.

Plain data and the standard library only: the one-shot start-up imports it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

WEBHOOK_EVENTS = ("start", "output", "logs", "completed")
MIN_CANCEL_AFTER = 5  # seconds; the spec's minimum for Cancel-After


class BodyField(msgspec.Struct, frozen=True):
    """One field of a request body.

    `type` is the JSON-schema type; `required`, `enum`/`items_enum`,
    `minimum`/`maximum` and `max_length` are the spec's. `flag` is the option that
    fills it (None when an argument or the handler does; the flag's dest is `name`);
    `flag_required` says the command line must give it (else the handler has a default).
    """

    name: str
    type: str
    help: str
    required: bool = False
    flag: str | None = None
    flag_required: bool = False
    metavar: str = ""
    complete: str | None = None
    enum: tuple[str, ...] = ()
    items_enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    default: Any = None


_URL = {"type": "string", "metavar": "URL"}


def _f(name: str, help: str, **kw: Any) -> BodyField:
    """A field given by `--name-with-dashes` unless `flag=` says otherwise."""
    kw.setdefault("flag", "--" + name.replace("_", "-"))
    kw.setdefault("type", "string")
    return BodyField(name, help=help, **kw)


def _arg(name: str, type: str, help: str, **kw: Any) -> BodyField:
    """A field the handler fills from an argument (no flag of its own)."""
    return BodyField(name, type, help, flag=None, **kw)


_HARDWARE = _f("hardware", "Hardware SKU (see `hardware list`).", metavar="SKU", complete="hardware")
_WEBHOOK = _f("webhook", "URL to notify when it changes.", metavar="URL")
_WEBHOOK_EVENTS = _f(
    "webhook_events_filter",
    "Events that trigger the webhook, comma-separated.",
    flag="--webhook-events",
    type="array",
    items_enum=WEBHOOK_EVENTS,
    metavar=",".join(WEBHOOK_EVENTS),
)
_INPUT = _arg("input", "object", "The model's inputs (key=value words).", required=True)
_STREAM = _arg("stream", "boolean", "Ask for a stream URL (set by --stream).")
_PREDICTION = (_INPUT, _STREAM, _WEBHOOK, _WEBHOOK_EVENTS)
_MIN_INSTANCES = _f("min_instances", "Minimum number of instances.", type="integer", minimum=0, maximum=5, metavar="N")
_MAX_INSTANCES = _f("max_instances", "Maximum number of instances.", type="integer", minimum=0, maximum=20, metavar="N")
_DESCRIPTION = _f("description", "Description of the model.", metavar="TEXT")
_GITHUB = _f("github_url", "URL of the model's source code.", **_URL)
_PAPER = _f("paper_url", "URL of the model's paper.", **_URL)
_LICENSE = _f("license_url", "URL of the model's license.", **_URL)

BODIES: dict[str, tuple[BodyField, ...]] = {
    "models.create": (
        _arg("owner", "string", "Owner of the model (from <model>).", required=True),
        _arg("name", "string", "Name of the model (from <model>).", required=True),
        _arg(
            "visibility", "string", "public or private (--public/--private).", required=True, enum=("public", "private")
        ),
        msgspec.structs.replace(_HARDWARE, required=True),
        _DESCRIPTION,
        _GITHUB,
        _PAPER,
        _LICENSE,
        _f("cover_image_url", "URL of the model's cover image.", **_URL),
    ),
    "models.update": (
        _DESCRIPTION,
        _GITHUB,
        _PAPER,
        _LICENSE,
        _f("readme", "The model's README in Markdown (@FILE reads a file).", metavar="TEXT|@FILE"),
        _f("weights_url", "URL of the model's weights.", **_URL),
    ),
    "deployments.create": (
        _arg("name", "string", "Name of the deployment.", required=True),
        _f(
            "model",
            "Model to deploy: owner/name, or owner/name:version.",
            required=True,
            flag_required=True,
            metavar="OWNER/NAME[:VERSION]",
            complete="model",
        ),
        _f(
            "version",
            "Version to deploy: an id (12+ characters will do), or owner/name:id (default: the model's latest).",
            required=True,
            metavar="ID",
        ),
        msgspec.structs.replace(_HARDWARE, required=True),
        msgspec.structs.replace(_MIN_INSTANCES, required=True),
        msgspec.structs.replace(_MAX_INSTANCES, required=True),
    ),
    "deployments.update": (
        _f("version", "Model version to deploy: an id (12+ characters will do), or owner/name:id.", metavar="ID"),
        _HARDWARE,
        _MIN_INSTANCES,
        _MAX_INSTANCES,
    ),
    "files.create": (
        _arg("content", "string", "The file's bytes (from <path>).", required=True),
        _f("filename", "Name to store it under (default: the local name).", max_length=255, metavar="NAME"),
        _f("metadata", "Metadata to keep with the file, a JSON object.", type="object", metavar="JSON", default={}),
        _f(
            "type",
            "MIME type (default: guessed from the name).",
            flag="--content-type",
            metavar="MIME",
            default="application/octet-stream",
        ),
    ),
    "predictions.create": (_arg("version", "string", "Version id (from <model>).", required=True), *_PREDICTION),
    "models.predictions.create": _PREDICTION,
    "deployments.predictions.create": _PREDICTION,
    "trainings.create": (
        _f(
            "destination",
            "Model that receives the new version (owner/name).",
            required=True,
            flag_required=True,
            metavar="OWNER/NAME",
            complete="model",
        ),
        _INPUT,
        _WEBHOOK,
        _WEBHOOK_EVENTS,
    ),
}


# The bodies whose published schema says `additionalProperties: false`: an unknown field
# there is refused (422). Every other body allows fields it does not declare, and the
# sandbox ignores them, as the real API does (the official Go CLI sends `version` with
# each training). tests/test_writes.py holds this set to openapi.json.
CLOSED = frozenset({"predictions.create", "models.predictions.create", "deployments.predictions.create"})


def fields(operation: str) -> tuple[BodyField, ...]:
    return BODIES[operation]


def names(operation: str) -> frozenset[str]:
    """The body's field names (what the sandbox reads; others it refuses or ignores)."""
    return frozenset(f.name for f in BODIES[operation])


def flagged(operation: str) -> tuple[BodyField, ...]:
    """The fields a user gives with a flag of their own."""
    return tuple(f for f in BODIES[operation] if f.flag)


def given(operation: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The flagged fields a command line set (parsed values keyed by field name),
    checked against the spec's constraints: a bad one is a usage error, nothing sent."""
    from rshell.errors import UsageError

    found = {f.name: values[f.name] for f in flagged(operation) if values.get(f.name) is not None}
    for field in flagged(operation):
        reason = _value_problem(field, found[field.name]) if field.name in found else None
        if reason:
            raise UsageError(f"{field.flag} {reason}, got {found[field.name]!r}", f"{field.flag}: {field.help}")
    return found


# checking a body (the sandbox) ------------------------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def problem(operation: str, body: Mapping[str, Any], *, partial: bool = False) -> str | None:
    """Why `body` does not fit the operation's fields (`field: reason`), or None.

    `partial` skips the required check (an update sends only what changes). A field
    the operation does not declare is a problem only in a `CLOSED` body.
    """
    declared = {f.name: f for f in BODIES[operation]}
    unknown = sorted(set(body) - set(declared))
    if unknown and operation in CLOSED:
        return f"{unknown[0]}: unknown field (accepted: {', '.join(sorted(declared))})"
    for field in declared.values():
        if field.name not in body or body[field.name] is None:
            if field.required and not partial:
                return f"{field.name}: field is required"
            continue
        reason = _value_problem(field, body[field.name])
        if reason:
            return f"{field.name}: {reason}"
    return None


def known(operation: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The declared fields of a body (an open body's other fields are ignored)."""
    return {k: v for k, v in body.items() if k in names(operation)}


def _is_type(kind: str, value: Any) -> bool:
    """JSON-schema type check (a bool is not an integer)."""
    return isinstance(value, _JSON_TYPES[kind]) and not (kind == "integer" and isinstance(value, bool))


def _value_problem(field: BodyField, value: Any) -> str | None:
    if not _is_type(field.type, value):
        return f"must be {'an' if field.type[0] in 'aeiou' else 'a'} {field.type}"
    if field.enum and value not in field.enum:
        return f"must be one of {', '.join(field.enum)}"
    if field.items_enum and not all(isinstance(v, str) and v in field.items_enum for v in value):
        return f"a list of {', '.join(field.items_enum)}"
    if field.minimum is not None and value < field.minimum:
        return f"must be at least {field.minimum}"
    if field.maximum is not None and value > field.maximum:
        return f"must be at most {field.maximum}"
    if field.max_length is not None and len(value) > field.max_length:
        return f"at most {field.max_length} characters"
    return None


# Cancel-After ------------------------------------------------------------------------

_DURATION = re.compile(r"(?:(\d{1,6})h)?(?:(\d{1,8})m)?(?:(\d{1,10})s?)?")


def parse_duration(text: str) -> int:
    """Seconds in a `Cancel-After` duration: `30`, `90s`, `5m`, `1h30m45s`.

    ValueError (with a message for the user) for anything else or under the minimum.
    """
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"cannot read duration {text!r} (e.g. 30s, 5m, 1h30m)")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total < MIN_CANCEL_AFTER:
        raise ValueError(f"the minimum duration is {MIN_CANCEL_AFTER} seconds, not {text!r}")
    return total
