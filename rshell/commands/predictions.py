"""`prediction create|list|show|cancel` (and `run`, `stream`).

create: resolve the model reference and its schema, validate every input before any
request, create with `Prefer: wait`, then stream or poll to a terminal status; Ctrl-C
cancels on the server; --save downloads every output file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from rshell.commands.context import Result
from rshell.commands.modelref import (
    fetch_deployment_schema,
    is_concatenate,
    latest_version_id,
    output_schema,
    prepare_inputs,
    resolve,
    unknown_route,
)
from rshell.commands.running import (
    Watch,
    cancel_unconfirmed,
    follow_run,
    open_web,
    option,
)
from rshell.commands.unconfirmed import Sent
from rshell.dryrun import NOT_VALIDATED, unless_dry_run
from rshell.errors import ApiError, AuthError, DryRunStop, NetworkError, RshellError, UsageError
from rshell.rendering.output import as_json
from rshell.rendering.predictions import (
    failure_message,
    finished_line,
    prediction_summary,
    render_output,
)

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.client.models import Prediction
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context
    from rshell.commands.modelref import RunTarget


class Target(msgspec.Struct, frozen=True):
    """Which endpoint runs it: exactly one of model, version, deployment is set.

    `fallback` (with `model`): rshell could not tell whether the model is official,
    so a 404 from the model endpoint is retried on `latest` (or the latest version
    looked up then), as the official Go CLI does.
    """

    model: str | None = None
    version: str | None = None
    deployment: str | None = None
    fallback: bool = False
    latest: str | None = None


async def resolve_target(ctx: Context, client: ReplicateClient, args: ParsedArgs) -> tuple[Target, dict | None]:
    """The endpoint and the schema to validate against, from the object fetched.

    `owner/name` runs by name only when the model is official, else its latest
    version (SPEC 5). In --dry-run a failed fetch only skips validation, and the
    model's kind is then unknown (the Go CLI's fallback).
    """
    named = run_target(args)
    if named.deployment:
        owner, name = named.deployment
        found = fetch_deployment_schema(client, owner, name)
        schema, _ = await unless_dry_run(ctx, found, (None, None), NOT_VALIDATED)
        return Target(deployment=f"{owner}/{name}"), schema
    ref = named.model
    assert ref is not None  # read_target names a model when it names no deployment
    route = await unless_dry_run(ctx, resolve(client, ref), unknown_route(ref), NOT_VALIDATED)
    target = Target(model=route.model, fallback=route.fallback, latest=route.latest)
    return (Target(version=route.version) if route.version else target), route.schema


def run_target(args: ParsedArgs) -> RunTarget:
    """The model or deployment the line named, as `parse_args` read it (once)."""
    if args.target is None:
        raise UsageError(f"`{args.command.name}` names no model to run")
    return args.target


async def create_prediction(client: ReplicateClient, target: Target, inputs: dict, **options: Any) -> Prediction:
    """Create on the target's endpoint; an unknown model's 404 retries its latest version."""
    if not target.fallback or not target.model:
        return await client.predictions_create(
            inputs, model=target.model, version=target.version, deployment=target.deployment, **options
        )
    try:
        return await client.predictions_create(inputs, model=target.model, **options)
    except ApiError as exc:
        if exc.status != 404:
            raise
        latest = target.latest or await _latest_or_none(client, target.model)
        if not latest:
            raise
    return await client.predictions_create(inputs, version=latest, **options)


async def _latest_or_none(client: ReplicateClient, model: str) -> str | None:
    """The latest version for the fallback; if even that lookup fails, the 404 stands."""
    owner, name = model.split("/", 1)
    try:
        return await latest_version_id(client, owner, name)
    except (AuthError, NetworkError, ApiError):
        return None


def should_stream(ctx: Context, args: ParsedArgs, schema: dict | None) -> bool:
    """--stream (or --no-stream), else a text-iterator model on a terminal when `set
    stream auto` (default) — unless --wait was given, which waits instead (Go CLI)."""
    if args.values.get("stream") is not None:
        return bool(args.values["stream"])
    if "--wait" in args.given:
        return False
    mode = str(ctx.session.options.get("stream", "auto"))
    if mode == "off" or not is_concatenate(schema):
        return False
    return mode == "on" or (ctx.out.stdout_tty and not ctx.wants_json(args))


async def create(ctx: Context, args: ParsedArgs) -> Result:
    whole = input_json(ctx, args.values.get("input_json"))
    found = sweep_axes(ctx, args)
    if found:
        from rshell.commands.sweep import run_sweep

        return await run_sweep(ctx, args, found, whole)
    client = await ctx.client()
    target, schema = await resolve_target(ctx, client, args)
    inputs = await inputs_of(ctx, args, schema, base=whole)
    return await start(ctx, client, args, target, schema, inputs)


def sweep_axes(ctx: Context, args: ParsedArgs) -> list[Any]:
    """The line's sweep axes (`seed=1..4`), read from its words as typed: a quoted
    value is never one (rshell/grammar/sweeps.py)."""
    from rshell.grammar.sweeps import line_axes

    return line_axes(ctx.words, args.inputs, args.separator)


def input_json(ctx: Context, given: str | None) -> dict | None:
    """`--input-json`: the whole input object, read before anything is sent (stdin
    here), and validated with the key=value words that change it."""
    import sys

    from rshell.grammar.inputs import read_input_json

    return None if given is None else read_input_json(given, ctx.env.stdin or sys.stdin)


async def inputs_of(ctx: Context, args: ParsedArgs, schema: dict | None, base: dict | None = None) -> dict:
    """The request's input from the line's key=value words (changing `base`, for rerun)."""
    return await prepare_inputs(
        ctx,
        args.split,
        schema,
        file_encoding=option(args, "file_encoding", "url"),
        base=base,
        model=args.values.get("model"),
    )


async def start(
    ctx: Context, client: ReplicateClient, args: ParsedArgs, target: Target, schema: dict | None, inputs: dict
) -> Result:
    """Create on the target and, unless --no-wait, follow it to its end as `run` does
    (also `rerun`'s second half)."""
    streaming = should_stream(ctx, args, schema)
    waiting = args.values.get("wait") is not False
    seconds = wait_seconds(args)
    watch = Watch(ctx.out, args.values.get("model") or args.values.get("deployment") or "")
    watch.start()  # `Prefer: wait` may hold the create for up to 60 s: show it from the first byte sent
    from rshell.client.api import Delivery

    sent, delivery = sent_to(target, inputs), Delivery()
    try:
        prediction = await create_prediction(
            client,
            target,
            inputs,
            stream=streaming,
            wait=seconds or (True if waiting and not streaming else None),
            webhook=args.values.get("webhook"),
            webhook_events_filter=args.values.get("webhook_events_filter"),
            cancel_after=args.values.get("cancel_after"),
            delivery=delivery,
        )
    except asyncio.CancelledError:
        watch.stop()
        await cancel_unconfirmed(ctx, client, sent, delivery)
    except DryRunStop as stop:
        watch.stop()
        stop.output_schema, stop.text_output = output_schema(schema), is_concatenate(schema)
        raise
    except BaseException:
        watch.stop()
        raise
    if args.values.get("web"):
        open_web(ctx, prediction.urls.web)
    concatenate = is_concatenate(schema)
    if not waiting:
        watch.stop()
        data = as_json(prediction)
        return Result(data=data, text=prediction_summary(data), text_output=concatenate)
    final, streamed = await follow_run(
        ctx, client, prediction, streaming=streaming, print_tokens=not ctx.wants_json(args), watch=watch
    )
    result = await finish(ctx, client, args, final, streamed=streamed, concatenate=concatenate)
    result.text_output = concatenate
    return result


def sent_to(target: Target, inputs: dict) -> Sent:
    """What the create asks for, to find its prediction if Ctrl-C comes before the answer."""
    return Sent("prediction", inputs, model=target.model, version=target.version, deployment=target.deployment)


def wait_seconds(args: ParsedArgs) -> int | None:
    """N of `--wait=N`: the sync window to ask for (`Prefer: wait=N`); None for a bare --wait."""
    value = args.values.get("wait")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


async def finish(
    ctx: Context,
    client: ReplicateClient,
    args: ParsedArgs,
    prediction: Prediction,
    *,
    streamed: bool,
    concatenate: bool,
) -> Result:
    """The Result of a finished prediction: its output, or why it failed; --save."""
    data = as_json(prediction)
    if prediction.status != "succeeded":
        return Result(
            data=data,
            text=prediction_summary(data, concatenate=concatenate, logs=False),
            ok=False,
            error=failure_message("prediction", data),
        )
    ctx.out.info(finished_line("prediction", data))
    text = "" if streamed else render_output(prediction.output, concatenate=concatenate)
    if not args.values.get("save"):
        result = Result(data=data, text=text)
    else:
        result = await save_files(ctx, client, args, prediction, data, text, concatenate)
    if ctx.interactive:
        from rshell.commands.preview import offer, offers

        in_json = ctx.wants_json(args)
        if not in_json and result.text and offers(ctx, data):  # the URLs first, then the hint or picture of them
            ctx.out.result(Result(text=result.text), in_json=False)
            result.text = ""
        await offer(ctx, data, draw=not in_json)
    return result


async def save_files(
    ctx: Context,
    client: ReplicateClient,
    args: ParsedArgs,
    prediction: Prediction,
    data: Any,
    text: str,
    concatenate: bool,
) -> Result:
    from rshell.downloads import default_directory, save_outputs

    where = args.values.get("output_directory")
    directory = Path(where).expanduser() if where else default_directory(prediction.id)
    held = f"prediction {prediction.id} ({prediction.status}) is on the server: `prediction save {prediction.id}`"
    try:
        report = await save_outputs(client, prediction.output, directory, concatenate=concatenate)
    except RshellError as error:  # the folder itself cannot be written (full, read-only, …)
        return Result(data=data, text=text or None, ok=False, error=f"{error.message}; {held} saves it again")
    for taken, path in report.renamed:  # never overwritten, never silently renamed
        ctx.out.info(f"{taken} was already in {path.parent}: saved as {path.name} (nothing is overwritten)")
    lines = [text] if text else []
    lines += [str(p) for p in report.saved]  # once each, in output order
    result = Result(data=data, text="\n".join(lines))
    if report.failed:
        url, why = report.failed[0]
        result.ok = False
        result.error = f"could not save {len(report.failed)} file(s): {url}: {why}"
    return result
