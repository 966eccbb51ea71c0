"""A `run` line with sweep axes (`seed=1..4 style=noise,blocks`, see
`rshell/grammar/sweeps.py`): the cross product, every combination validated before
the first create, then run concurrently through `batch`'s rows (`Batch.row`: rate
limits waited out, Ctrl-C cancels what is in flight). The result is the list of
runs, shown as a table of the varied inputs against status, time and output.
`--dry-run` lists the combinations and creates nothing.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import msgspec

from rshell.commands.context import Result
from rshell.errors import Interrupted, UsageError
from rshell.grammar.inputs import Input
from rshell.grammar.sweeps import ASK_ABOVE, Axis, combinations, too_many

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context

CONCURRENCY = 8  # as `batch`'s default


async def run_sweep(ctx: Context, args: ParsedArgs, found: list[Axis], whole: dict | None) -> Result:
    from rshell.commands.predictions import inputs_of, resolve_target

    combos = combinations(found)
    if len(combos) > ASK_ABOVE and not args.values.get("yes") and not ctx.dry_run:
        await _agreed(ctx, len(combos))
    if args.values.get("stream") or args.values.get("wait") is False:
        raise UsageError("a sweep waits for every run and streams none", "drop --stream / --no-wait")
    swept = {axis.key for axis in found}
    fixed = [given for given in args.split if given.key not in swept]  # what every run shares
    client = await ctx.client()
    target, schema = await resolve_target(ctx, client, args)
    prepared = []
    for combo in combos:  # every combination checked before the first create
        split = fixed + [Input(key, value) for key, value in combo.items()]
        try:
            prepared.append(await inputs_of(ctx, msgspec.structs.replace(args, split=split), schema, base=whole))
        except UsageError as exc:
            shown = " ".join(f"{k}={v}" for k, v in combo.items())
            raise UsageError(f"{shown}: {exc.message}", exc.hint) from None
    if ctx.dry_run:
        listed = [{"input": combo} for combo in combos]
        return Result(listed, f"{len(combos)} runs (dry run: nothing created)\n" + _table(found, combos, None))
    return await _run_all(ctx, client, target, found, combos, prepared)


async def _agreed(ctx: Context, count: int) -> None:
    """A big sweep goes ahead only when asked for: `--yes`, or `y` at the shell's
    question; a script without `--yes` stops here, before anything is sent."""
    import sys

    if not ctx.interactive:
        raise too_many(count)
    question = too_many(count).message
    from rshell.typeahead import released

    stream = ctx.env.stdin or sys.stdin
    ctx.out.stderr.write(f"{question}; run them all? [y/N] ")
    ctx.out.stderr.flush()
    with released():  # the answer is typed and seen, as at a prompt
        answer = await asyncio.to_thread(stream.readline)
    if answer.strip().lower() not in ("y", "yes"):
        raise UsageError("the sweep was not run", "narrow a range, or add --yes")


async def _run_all(
    ctx: Context, client: Any, target: Any, found: list[Axis], combos: list[dict[str, str]], prepared: list[dict]
) -> Result:
    from rshell.commands.batch import Batch
    from rshell.commands.batch_journal import Journal

    run = Batch(ctx, client, target, Journal(None), None)
    run.total = len(prepared)
    slots = asyncio.Semaphore(CONCURRENCY)
    seconds: dict[int, float] = {}

    async def one(number: int, inputs: dict) -> None:
        async with slots:
            began = time.monotonic()
            await run.row(number, inputs, None)
            seconds[number] = round(time.monotonic() - began, 1)

    tasks = [asyncio.create_task(one(n, inputs)) for n, inputs in enumerate(prepared, 1)]
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await run.cancel_in_flight()
        raise Interrupted("sweep interrupted", "its finished runs are in `prediction list`") from None
    by_row = {int(r["row"]): r for r in run.results}
    listed = [
        {
            "input": combos[n - 1],
            "time": seconds.get(n),
            **{k: by_row.get(n, {}).get(k) for k in ("id", "status", "output", "error")},
        }
        for n in range(1, len(combos) + 1)
    ]
    failed = [r for r in listed if r["status"] != "succeeded"]
    text = _table(found, combos, listed)
    if failed:
        return Result(listed, text, ok=False, error=f"{len(failed)} of {len(listed)} runs did not succeed")
    return Result(listed, text)


def _table(found: list[Axis], combos: list[dict[str, str]], runs: list[dict[str, Any]] | None) -> str:
    """The varied inputs against status, time and output (only the inputs in a dry run)."""
    from rshell.rendering.tables import table

    keys = [a.key for a in found]
    if runs is None:
        return table(keys, [[combo[k] for k in keys] for combo in combos])
    rows = [
        [
            *(combo[k] for k in keys),
            r.get("status") or "-",
            f"{r['time']:.1f}s" if r.get("time") is not None else "-",
            _short(r),
        ]
        for combo, r in zip(combos, runs, strict=True)
    ]
    return table([*keys, "status", "time", "output"], rows, flex=len(keys) + 2)


def _short(run: dict[str, Any]) -> str:
    from rshell.text import one_line

    output = run.get("output") if run.get("status") == "succeeded" else run.get("error")
    if isinstance(output, list):
        output = " ".join(str(o) for o in output)
    return one_line(str(output if output is not None else "-"), 60)
