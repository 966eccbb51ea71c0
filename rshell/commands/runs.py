"""`list`, `show` and `cancel` of predictions and trainings, written once for both.

The two kinds differ only in their client calls (named after the operationIds,
`predictions_get`/`trainings_get`, …), their summary, the filters `prediction list`
takes and where `--web` goes when the API gives no page; `KINDS` declares those
differences and the handlers read the kind from the command's first word.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from rshell.commands.context import Result
from rshell.commands.running import open_web, site_url
from rshell.rendering.output import as_json
from rshell.rendering.predictions import prediction_summary, run_table, training_summary

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context


def _no_filters(args: ParsedArgs) -> dict[str, Any]:
    return {}


def _prediction_filters(args: ParsedArgs) -> dict[str, Any]:
    """--since/--until/--source of `prediction list`: filters the server applies."""
    from rshell.commands.paging import iso_time

    return {
        "created_after": iso_time(args.get("since"), "--since"),
        "created_before": iso_time(args.get("until"), "--until"),
        "source": args.get("source"),
    }


class RunKind(msgspec.Struct, frozen=True):
    """What tells predictions and trainings apart in the commands they share."""

    name: str  # "prediction" | "training": the command group and the word in messages
    summary: Callable[[dict[str, Any]], str]
    filters: Callable[[ParsedArgs], dict[str, Any]] = msgspec.field(default=_no_filters)
    site_page: bool = False  # --web without `urls.web`: the site's /p/ID page (as the Go CLI opens)

    @property
    def plural(self) -> str:
        return f"{self.name}s"

    def call(self, client: ReplicateClient, operation: str) -> Callable[..., Awaitable[Any]]:
        """The client method of this kind's `operation` (`get`, `list`, `cancel`)."""
        method: Callable[..., Awaitable[Any]] = getattr(client, f"{self.plural}_{operation}")
        return method

    def page(self, ctx: Context, obj: Any) -> str | None:
        """The web page `--web` opens for `obj`."""
        web = getattr(getattr(obj, "urls", None), "web", None)
        return web or (site_url(ctx, "p", obj.id) if self.site_page else None)


KINDS = {
    "prediction": RunKind("prediction", prediction_summary, _prediction_filters),
    "training": RunKind("training", training_summary, site_page=True),
}


def kind_of(args: ParsedArgs) -> RunKind:
    """The kind a `prediction …`/`training …` command works on, as it declares."""
    return KINDS[args.command.kind or "prediction"]


async def named_run(ctx: Context, args: ParsedArgs, word: str | None = None) -> str:
    """The id the command's `id` argument (or `word`) names: an id, or a bound name."""
    from rshell.commands.runref import run_id

    kind, verb = args.command.path[0], args.command.path[-1]
    return await run_id(ctx, str(args.values["id"] if word is None else word), kind, verb)


async def list_(ctx: Context, args: ParsedArgs) -> Result:
    """Your predictions or trainings, newest first (predictions: filtered on the server)."""
    from rshell.commands.paging import list_result

    kind = kind_of(args)
    filters = kind.filters(args)
    return await list_result(
        ctx,
        args,
        lambda client, cursor: kind.call(client, "list")(cursor, **filters),
        lambda rows: run_table(rows, kind.plural),
        kind.plural,
    )


async def show(ctx: Context, args: ParsedArgs) -> Result:
    kind = kind_of(args)
    run_id = await named_run(ctx, args)
    client = await ctx.client()
    obj = await kind.call(client, "get")(run_id)
    if args.values.get("web"):
        open_web(ctx, kind.page(ctx, obj))
    data = as_json(obj)
    if kind.name == "prediction" and await _streams_text(ctx, client, data):
        return Result(data=data, text=prediction_summary(data, concatenate=True), text_output=True)
    return Result(data=data, text=kind.summary(data))


async def _streams_text(ctx: Context, client: ReplicateClient, data: dict[str, Any]) -> bool:
    """A language model's tokens read as the text `run` showed (its schema says so):
    asked only when a person reads it and the output is a list of strings."""
    output = data.get("output")
    if ctx.out.json_mode or not isinstance(output, list) or not all(isinstance(v, str) for v in output):
        return False
    from rshell.commands.modelref import streams_text

    return await streams_text(client, data)


async def cancel(ctx: Context, args: ParsedArgs) -> Result:
    kind = kind_of(args)
    run_id = await named_run(ctx, args)
    client = await ctx.client()
    obj = await kind.call(client, "cancel")(run_id)
    if obj.status in ("succeeded", "failed"):  # it ended before the cancel arrived
        return Result(data=as_json(obj), text=f"{kind.name} {obj.id} had already {obj.status}: nothing to cancel")
    return Result(data=as_json(obj), text=f"{kind.name} {obj.id} {obj.status}")
