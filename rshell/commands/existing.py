"""Runs that already exist: `prediction wait|logs|save`, `rerun`, and `wait NAME…`.

They reuse `run`'s pieces rather than copy them: following is `running.follow_run`,
printing the end is `predictions.finish`, --save is `predictions.save_files`, and a
rerun creates through `predictions.start`. Ctrl-C while waiting on a run this
command did not start stops the wait and leaves the run alone.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rshell.client.fields import TERMINAL_STATUSES, is_run_list, json_run_kind
from rshell.commands.context import Result
from rshell.commands.running import Watch, follow_run
from rshell.errors import ApiError, Interrupted, RshellError, UsageError
from rshell.rendering.output import as_json

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.client.models import Prediction
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context


async def schema_of(client: ReplicateClient, prediction: Prediction) -> dict | None:
    """The schema of the version a prediction ran, which says whether its output is a
    language model's tokens; unknown (no model, lookup failed) is None."""
    from rshell.commands.modelref import ModelRef, resolve

    model = prediction.model or ""
    if "/" not in model:
        return None
    owner, name = model.split("/", 1)
    try:
        route = await resolve(client, ModelRef(owner, name, _version_id(prediction.version)), typos=False)
    except RshellError:  # no such model or version any more, no versions, offline: print it plainly
        return None
    return route.schema


async def concatenates(client: ReplicateClient, prediction: Prediction) -> bool:
    """Whether the prediction's model joins its output (a language model's tokens)."""
    from rshell.commands.modelref import is_concatenate

    return is_concatenate(await schema_of(client, prediction))


def _version_id(version: Any) -> str | None:
    """The version a prediction ran, when it names one (an official model's says "hidden")."""
    from rshell.commands.modelref import VERSION_ID_RE

    text = str(version or "")
    return text if VERSION_ID_RE.match(text) else None


def combined(results: list[Result]) -> Result:
    """One result for several runs: the list of objects, each one's text, every failure."""
    if len(results) == 1:
        return results[0]
    failures = [r.error or "failed" for r in results if not r.ok]
    return Result(
        data=[r.data for r in results],
        text="\n".join(r.text for r in results if r.text),
        ok=not failures,
        error="; ".join(failures) if failures else None,
    )


async def _wait_prediction(ctx: Context, client: ReplicateClient, args: ParsedArgs, prediction: Prediction) -> Result:
    """Follow one existing prediction to its end and print it as `run` would: a text
    stream's tokens as they come (on a terminal, `set stream`), else the output at the end."""
    from rshell.commands.modelref import is_concatenate
    from rshell.commands.predictions import finish, should_stream

    schema = await schema_of(client, prediction)
    final, printed = await follow_run(
        ctx,
        client,
        prediction,
        streaming=should_stream(ctx, args, schema),
        print_tokens=not ctx.wants_json(args),
        cancel=False,
    )
    result = await finish(ctx, client, args, final, streamed=printed, concatenate=is_concatenate(schema))
    result.text_output = is_concatenate(schema)
    return result


async def wait(ctx: Context, args: ParsedArgs) -> Result:
    """`prediction wait ID…`: follow each to its end (they run on the server at once,
    so one after the other costs no more than the slowest)."""
    from rshell.client.api import path_segment
    from rshell.commands.runs import named_run

    for pid in args.values["ids"]:
        path_segment(pid)  # every id checked before the first request
    ids = [await named_run(ctx, args, pid) for pid in args.values["ids"]]
    client = await ctx.client()
    results = []
    for pid in ids:
        results.append(await _wait_prediction(ctx, client, args, await client.predictions_get(pid)))
    return combined(results)


class _StdoutLogs(Watch):
    """`prediction logs --follow`: the logs are the result, so they go to stdout as
    they arrive (pipeable), while the spinner stays on stderr."""

    def log(self, text: str) -> None:
        if text:
            with self.progress.aside():
                self.out.token(text if text.endswith(("\n", "\r")) else text + "\n")


async def logs(ctx: Context, args: ParsedArgs) -> Result:
    """`prediction logs ID`: its logs so far; with --follow, new lines until it ends."""
    from rshell.commands.runs import named_run

    run_id = await named_run(ctx, args)
    client = await ctx.client()
    return await _logs(ctx, args, client, "prediction", await client.predictions_get(run_id))


async def training_logs(ctx: Context, args: ParsedArgs) -> Result:
    """`training logs ID`: the same for a training (followed by polling: no stream)."""
    from rshell.commands.runs import named_run

    run_id = await named_run(ctx, args)
    client = await ctx.client()
    return await _logs(ctx, args, client, "training", await client.trainings_get(run_id))


async def _logs(ctx: Context, args: ParsedArgs, client: ReplicateClient, kind: str, run: Prediction) -> Result:
    """A run's logs so far, or with --follow each new line on stdout until it ends."""
    if not args.values.get("follow"):
        text = run.logs or ""
        return Result(data=text, text=text, plain=text)
    final, _ = await follow_run(ctx, client, run, kind, watch=_StdoutLogs(ctx.out, run.id), cancel=False)
    ctx.out.end_line()
    ok = final.status == "succeeded"
    return Result(text="", bind=False, ok=ok, error=None if ok else f"{kind} {final.id} {final.status}")


async def save(ctx: Context, args: ParsedArgs) -> Result:
    """`prediction save ID`: --save for a prediction that has already finished."""
    from rshell.commands.predictions import save_files
    from rshell.commands.runs import named_run

    run_id = await named_run(ctx, args)
    client = await ctx.client()
    prediction = await client.predictions_get(run_id)
    if prediction.status != "succeeded":
        running = prediction.status not in TERMINAL_STATUSES
        raise RshellError(
            f"prediction {prediction.id} is {prediction.status}: it has no output to save"
            + (" yet" if running else ""),
            f"`prediction wait {prediction.id}` follows it to its end" if running else None,
        )
    concatenate = await concatenates(client, prediction)
    return await save_files(ctx, client, args, prediction, as_json(prediction), "", concatenate)


# rerun ------------------------------------------------------------------------------
async def _earlier(ctx: Context, client: ReplicateClient, source: str) -> dict[str, Any]:
    """The prediction to run again: a bound variable (or `_`), else a prediction id."""
    if source == "_" or ctx.session.defines(source):
        value = ctx.session.lookup(source)
        if json_run_kind(value) != "prediction":
            raise UsageError(f"'{source}' holds no prediction", "rerun takes a name bound to `run …`, or an id")
        return dict(value)
    try:
        return as_json(await client.predictions_get(source))
    except ApiError as exc:
        if exc.status != 404:
            raise
        raise RshellError(
            f"'{source}' is neither a variable nor a prediction id",
            "`vars` lists the variables, `prediction list` the predictions",
        ) from None


async def _target_of(client: ReplicateClient, earlier: dict[str, Any]) -> tuple[Any, dict | None]:
    """The same model: an official one by name (as it ran), any other at the very
    version the earlier prediction ran."""
    from rshell.commands.modelref import ModelRef, resolve
    from rshell.commands.predictions import Target

    model, version = str(earlier.get("model") or ""), _version_id(earlier.get("version"))
    if "/" not in model:
        if not version:
            raise RshellError(f"prediction {earlier.get('id')} names no model or version to run again")
        return Target(version=version), None
    owner, name = model.split("/", 1)
    route = await resolve(client, ModelRef(owner, name, None), typos=False)
    if route.model and not route.fallback or not version:
        return Target(model=route.model, fallback=route.fallback, latest=route.latest), route.schema
    pinned = await resolve(client, ModelRef(owner, name, version))
    return Target(version=pinned.version), pinned.schema


async def rerun(ctx: Context, args: ParsedArgs) -> Result:
    """`rerun NAME|ID [key=value …]`: the same model and inputs, some changed."""
    from rshell.commands.predictions import inputs_of, start
    from rshell.grammar.inputs import raw_values

    raw_values(args.split)  # every @path can be read before anything is sent
    client = await ctx.client()
    earlier = await _earlier(ctx, client, str(args.values["source"]))
    target, schema = await _target_of(client, earlier)
    inputs = await inputs_of(ctx, args, schema, base=dict(earlier.get("input") or {}))
    return await start(ctx, client, args, target, schema, inputs)


# wait NAME… -------------------------------------------------------------------------
async def wait_names(ctx: Context, args: ParsedArgs) -> Result:
    """`wait NAME…`: follow bound runs (`bg = run … --no-wait`, a batch's rows) to
    their end and bind each name to the finished object (or list). Every name is
    checked before any request."""
    runs = []
    for name in args.values["names"]:
        value = ctx.session.lookup(name)
        kind = "batch" if is_run_list(value) else json_run_kind(value)
        if kind is None:
            raise UsageError(
                f"'{name}' holds no prediction or training",
                "wait takes names bound to `run … --no-wait`, `train` or `batch`",
            )
        runs.append((name, kind, value))
    client = await ctx.client()
    results = []
    for name, kind, value in runs:
        result = await _wait_one(ctx, client, args, name, kind, value)
        if name != "_":  # `_` is the statement's result, which the executor binds
            ctx.session.variables[name] = result.data
        results.append(result)
    return combined(results)


async def _wait_one(
    ctx: Context, client: ReplicateClient, args: ParsedArgs, name: str, kind: str, value: Any
) -> Result:
    """One bound name followed to its end, as the kind of thing it holds."""
    from rshell.commands.trainings import finish as finish_training

    if kind == "batch":
        return await _wait_rows(ctx, client, name, value)
    if kind == "prediction":
        return await _wait_prediction(ctx, client, args, await client.predictions_get(str(value["id"])))
    training, _ = await follow_run(ctx, client, await client.trainings_get(str(value["id"])), kind, cancel=False)
    return finish_training(ctx, training, None)  # its summary reads the object's own destination


async def _wait_rows(ctx: Context, client: ReplicateClient, name: str, rows: list[dict[str, Any]]) -> Result:
    """A bound list of runs: every unfinished row followed at once (at most the batch
    default at a time, quietly, as a batch follows its rows), the list rebound."""
    from rshell.commands.batch import DEFAULT_CONCURRENCY
    from rshell.commands.builtins import batch_summary

    slots = asyncio.Semaphore(DEFAULT_CONCURRENCY)

    async def one(row: dict[str, Any]) -> dict[str, Any]:
        if str(row.get("status")) in TERMINAL_STATUSES or not isinstance(row.get("id"), str):
            return row
        async with slots:
            return _updated(row, await _follow_quietly(client, row["id"]))

    try:
        fresh = await asyncio.gather(*(one(row) for row in rows))
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        raise Interrupted(
            f"stopped waiting for {name}; its unfinished rows go on running", f"`wait {name}` follows them again"
        ) from None
    failed = sum(1 for row in fresh if row.get("status") != "succeeded")
    return Result(
        data=list(fresh),
        text=f"{name}: {batch_summary(list(fresh))}",
        ok=not failed,
        error=f"{failed} of {len(fresh)} rows of {name} did not succeed" if failed else None,
    )


async def _follow_quietly(client: ReplicateClient, prediction_id: str) -> Prediction:
    from rshell.commands.running import SilentWatch, follow_prediction

    final, _ = await follow_prediction(client, await client.predictions_get(prediction_id), SilentWatch())
    return final


def _updated(row: dict[str, Any], final: Prediction) -> dict[str, Any]:
    """The row with the run's end: a whole prediction replaced, a batch row's fields set."""
    data = as_json(final)
    if json_run_kind(row) == "prediction":
        return data
    error = data.get("error")
    return {**row, "status": data.get("status"), "output": data.get("output"), "error": error}
