"""A prediction or training named where an id is expected: the id itself, a bound
name (`img`, `_`), or a bound run pasted in as JSON (`$img`).

`prediction show|cancel|logs|save|wait` and `training show|cancel|logs` read their
argument here, as `wait NAME` and `rerun` read theirs. When a word is both a bound
name and a run's id, the id wins: the word is asked of the server first.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from rshell.client.fields import json_run_kind
from rshell.errors import ApiError, UsageError

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.commands.context import Context

# What a run id could be (the API's are 26 lowercase base-32 characters); a bound name
# of another shape cannot also be an id, so it is read without asking the server.
_ID_SHAPE = re.compile(r"[a-z0-9]{16,}\Z")


async def run_id(ctx: Context, text: str, kind: str, verb: str = "show") -> str:
    """The id of the `kind` ("prediction" | "training") that `text` names; `verb`
    (the command's, `kind verb TEXT`) for a hint."""
    pasted = _pasted(text)
    if pasted is not None:
        return _id_of(pasted, "the value given", kind, verb)
    if not _is_bound(ctx, text):
        return text
    if _ID_SHAPE.match(text) and await _exists(await ctx.client(), kind, text):
        return text  # the id wins over a name that spells it
    return _id_of(ctx.session.lookup(text), f"'{text}'", kind, verb, text)


def _is_bound(ctx: Context, name: str) -> bool:
    return name in ctx.session.variables or (name == "_" and ctx.session.last is not None)


def _pasted(text: str) -> Any:
    """A run written into the word as JSON (`$img`, `{{img}}`), else None."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _id_of(value: Any, shown: str, kind: str, verb: str, name: str = "NAME") -> str:
    """The id of a bound run of `kind`; a usage error naming what it holds instead."""
    held = json_run_kind(value)
    if held == kind:
        return str(value["id"])
    if held:
        raise UsageError(f"{shown} holds a {held}, not a {kind}", f"try `{held} {verb} {name}`")
    what = "a list" if isinstance(value, list) else f"no {kind}"
    raise UsageError(
        f"{shown} holds {what}: {kind} commands take an id or a name bound to a {kind}",
        f"write the name itself ({kind} show NAME, not $NAME); `vars` lists the names",
    )


async def _exists(client: ReplicateClient, kind: str, run_id: str) -> bool:
    """Whether the server knows a run of `kind` with this id."""
    get = client.predictions_get if kind == "prediction" else client.trainings_get
    try:
        await get(run_id)
    except ApiError as exc:
        if exc.status == 404:
            return False
        raise
    return True
