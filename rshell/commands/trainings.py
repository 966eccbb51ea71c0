"""`training create|list|show|cancel` (and `train`).

create resolves the trainer's version (the model's latest when none is given),
validates inputs against the trainer's `TrainingInput` schema before anything is
sent, uploads @files, and returns at once unless --wait; waiting polls like a
prediction, and Ctrl-C cancels the training on the server.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rshell.commands.context import Result
from rshell.commands.modelref import (
    ModelRef,
    fetch_schema,
    prepare_inputs,
    training_schema,
)
from rshell.commands.running import cancel_unconfirmed, follow_run, open_web, option
from rshell.commands.runs import KINDS
from rshell.dryrun import DRY_RUN_VERSION, NOT_VALIDATED, unless_dry_run
from rshell.errors import RshellError
from rshell.rendering.output import as_json
from rshell.rendering.predictions import failure_message, finished_line, training_summary

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.client.models import Training
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context


async def resolve_trainer(ctx: Context, client: ReplicateClient, ref: ModelRef) -> tuple[dict | None, str]:
    """(schema, version id) of the trainer; in --dry-run a failed fetch is not fatal."""
    stand_in = (None, ref.version or DRY_RUN_VERSION)
    schema, version_id = await unless_dry_run(ctx, fetch_schema(client, ref, "train"), stand_in, NOT_VALIDATED)
    if not version_id:
        raise RshellError(
            f"{ref.model} has no versions to train", "push a version first, or name one: owner/name:version"
        )
    return schema, version_id


async def create(ctx: Context, args: ParsedArgs) -> Result:
    from rshell.commands.predictions import run_target

    named = run_target(args)
    ref, destination = named.model, "/".join(named.destination or ())
    assert ref is not None and destination  # read_target reads both for a training
    client = await ctx.client()
    schema, version_id = await resolve_trainer(ctx, client, ref)
    inputs = await prepare_inputs(
        ctx,
        args.split,
        training_schema(schema),
        file_encoding=option(args, "file_encoding", "url"),
        model=ref.model,
    )
    from rshell.client.api import Delivery
    from rshell.commands.unconfirmed import Sent

    sent = Sent("training", inputs, model=f"{ref.owner}/{ref.name}", version=version_id)
    delivery = Delivery()
    try:
        training = await client.trainings_create(
            ref.owner or "",
            ref.name or "",
            version_id,
            destination=destination,
            input=inputs,
            webhook=args.values.get("webhook"),
            webhook_events_filter=args.values.get("webhook_events_filter"),
            delivery=delivery,
        )
    except asyncio.CancelledError:
        await cancel_unconfirmed(ctx, client, sent, delivery)
    if args.values.get("web"):
        open_web(ctx, KINDS["training"].page(ctx, training))
    if not args.values.get("wait"):
        data = as_json(training)
        return Result(data=data, text=training_summary(data, destination))
    final, _ = await follow_run(ctx, client, training, "training")
    return finish(ctx, final, destination)


def finish(ctx: Context, training: Training, destination: str | None) -> Result:
    data: Any = as_json(training)
    text = training_summary(data, destination, logs=False)  # printed while waiting
    if training.status != "succeeded":
        return Result(data=data, text=text, ok=False, error=failure_message("training", data))
    ctx.out.info(finished_line("training", data))
    return Result(data=data, text=text)
