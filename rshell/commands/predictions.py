"""`prediction create|list|show|cancel` (and `run`, `stream`).

create: resolve the model reference and its schema, validate every input before any
request, create with `Prefer: wait`, then stream or poll to a terminal status; Ctrl-C
cancels on the server; --save downloads every output file.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rshell.client.fields import TERMINAL_STATUSES
from rshell.commands.context import Result
from rshell.commands.modelref import (
    fetch_deployment_schema,
    fetch_schema,
    is_concatenate,
    parse_model_name,
    parse_model_ref,
    prepare_inputs,
)
from rshell.commands.running import (
    Watch,
    cancel_after_interrupt,
    follow_prediction,
    interrupted_creating,
    open_web,
    option,
    wants_json,
)
from rshell.errors import ApiError, AuthError, NetworkError, UsageError
from rshell.rendering.output import as_json
from rshell.rendering.predictions import (
    failure_message,
    finished_line,
    prediction_summary,
    prediction_table,
    render_output,
)
from rshell.rendering.tables import more_hint

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.client.models import Prediction
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context


@dataclass(frozen=True)
class Target:
    """Which endpoint runs it: exactly one of model, version, deployment is set."""

    model: str | None = None
    version: str | None = None
    deployment: str | None = None


def choose_target(args: ParsedArgs) -> Target:
    """owner/name → model endpoint; :version or a bare id → version; --deployment."""
    text, deployment = args.values.get("model"), args.values.get("deployment")
    if deployment:
        if text:
            raise UsageError("give a model or --deployment, not both", f"drop '{text}' to run the deployment")
        owner, name = parse_model_name(deployment, "deployment")
        return Target(deployment=f"{owner}/{name}")
    if not text:
        raise UsageError(
            "`prediction create` needs a model", "e.g. run stability-ai/sdxl prompt='a fox', or --deployment owner/name"
        )
    ref = parse_model_ref(text)
    if ref.version:
        return Target(version=ref.version)
    return Target(model=ref.model)


async def load_schema(ctx: Context, client: ReplicateClient, args: ParsedArgs, target: Target) -> dict | None:
    """The version's OpenAPI schema; in --dry-run a failed fetch only skips validation."""
    try:
        if target.deployment:
            owner, name = target.deployment.split("/", 1)
            schema, _ = await fetch_deployment_schema(client, owner, name)
        else:
            schema, _ = await fetch_schema(client, parse_model_ref(args.values["model"]))
    except (AuthError, NetworkError, ApiError) as exc:
        if not ctx.dry_run:
            raise
        ctx.out.info(f"inputs not validated: {exc.message}")
        return None
    return schema


def should_stream(ctx: Context, args: ParsedArgs, schema: dict | None) -> bool:
    """--stream, or a text-iterator model on a terminal when `set stream auto` (default)."""
    if args.values.get("stream"):
        return True
    mode = str(ctx.session.options.get("stream", "auto"))
    if mode == "off" or not is_concatenate(schema):
        return False
    return mode == "on" or (ctx.out.stdout_tty and not wants_json(ctx, args))


async def create(ctx: Context, args: ParsedArgs) -> Result:
    target = choose_target(args)
    client = await ctx.client()
    schema = await load_schema(ctx, client, args, target)
    inputs = await prepare_inputs(
        ctx,
        list(args.inputs),
        schema,
        separator=option(ctx, args, "separator", "="),
        file_encoding=option(ctx, args, "file_encoding", "url"),
    )
    streaming = should_stream(ctx, args, schema)
    waiting = args.values.get("wait") is not False
    try:
        prediction = await client.predictions_create(
            inputs,
            model=target.model,
            version=target.version,
            deployment=target.deployment,
            stream=streaming,
            wait=True if waiting and not streaming else None,
            webhook=args.values.get("webhook"),
        )
    except asyncio.CancelledError:
        interrupted_creating("prediction")
    if args.values.get("web"):
        open_web(ctx, prediction.urls.web)
    if not waiting:
        return Result(data=as_json(prediction), text=prediction_summary(as_json(prediction)))
    concatenate = is_concatenate(schema)
    final, streamed = await follow(ctx, client, prediction, streaming=streaming, print_tokens=not wants_json(ctx, args))
    return await finish(ctx, client, args, final, streamed=streamed, concatenate=concatenate)


async def follow(
    ctx: Context, client: ReplicateClient, prediction: Prediction, *, streaming: bool, print_tokens: bool = True
) -> tuple[Prediction, bool]:
    """Wait for a terminal status (printing tokens when streaming); True when tokens
    were printed."""
    watch = Watch(ctx.out, prediction.id)
    watch.update(prediction)
    ctx.session.in_flight[prediction.id] = "prediction"
    streamed = ""
    try:
        if prediction.status not in TERMINAL_STATUSES:
            watch.start()
            prediction, streamed = await follow_prediction(
                client, prediction, watch, print_tokens=streaming and print_tokens
            )
        printed = bool(streamed) and streaming and print_tokens
        if printed:
            _print_rest(watch, prediction, streamed)
        watch.finish(prediction)
        return prediction, printed
    except asyncio.CancelledError:
        watch.stop()
        await cancel_after_interrupt(ctx, "prediction", prediction, client.predictions_cancel)
    finally:
        watch.stop()
        ctx.session.in_flight.pop(prediction.id, None)


def _print_rest(watch: Watch, prediction: Prediction, streamed: str) -> None:
    """After a broken stream, print what the stream did not deliver."""
    full = render_output(prediction.output, concatenate=True)
    if full.startswith(streamed) and len(full) > len(streamed):
        watch.token(full[len(streamed) :])


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
        return Result(data=data, text=text)
    return await _save(ctx, client, args, prediction, data, text, concatenate)


async def _save(
    ctx: Context,
    client: ReplicateClient,
    args: ParsedArgs,
    prediction: Prediction,
    data: Any,
    text: str,
    concatenate: bool,
) -> Result:
    from rshell.downloads import save_outputs

    where = args.values.get("output_directory")
    directory = Path(where).expanduser() if where else Path.cwd() / prediction.id
    report = await save_outputs(
        client, prediction.output, directory, concatenate=concatenate, on_saved=lambda p: ctx.out.info(f"saved {p}")
    )
    lines = [text] if text else []
    lines += [str(p) for p in report.saved]
    result = Result(data=data, text="\n".join(lines))
    if report.failed:
        url, why = report.failed[0]
        result.ok = False
        result.error = f"could not save {len(report.failed)} file(s): {url}: {why}"
    return result


async def list_(ctx: Context, args: ParsedArgs) -> Result:
    client = await ctx.client()
    page = as_json(await client.predictions_list())
    return Result(data=page, text=prediction_table(page.get("results") or []) + more_hint(page))


async def show(ctx: Context, args: ParsedArgs) -> Result:
    client = await ctx.client()
    prediction = await client.predictions_get(args.values["id"])
    if args.values.get("web"):
        open_web(ctx, prediction.urls.web)
    data = as_json(prediction)
    return Result(data=data, text=prediction_summary(data))


async def cancel(ctx: Context, args: ParsedArgs) -> Result:
    client = await ctx.client()
    prediction = await client.predictions_cancel(args.values["id"])
    data = as_json(prediction)
    return Result(data=data, text=f"prediction {prediction.id} {prediction.status}")
