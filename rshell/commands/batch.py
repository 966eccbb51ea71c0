"""`batch MODEL [key=value …] --inputs FILE`: one model over many inputs.

Every row is validated before the first create (exit 2, naming the row). Then up to
`--concurrency` rows run at once: a `sending` line in `--output`, the create with
`Prefer: wait` (a row that ends within the window ends in the create's answer, with no
poll to notice it), its id recorded, then, for a longer row, follow to the end over the
stream or by polling, and the final record. A 429 pauses every create for as long
as the API asks and retries the row; it never fails the batch. Rerunning with the same
`--output` skips finished rows, follows created ones and creates only the rest; a row
killed while its create was out (the id not yet known) is first looked for among the
predictions made since (same version or model, every input the row sent: the API adds
the defaults), so a `kill -9` never runs a row twice. With `--save`, a row whose files
could not be written is `unsaved`, not succeeded, and a rerun saves them.
Ctrl-C cancels every prediction in flight (those still being created found the same
way) and exits 130.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rshell import atomic
from rshell.atomic import WriteFailed
from rshell.commands.batch_journal import CREATED, SENDING
from rshell.commands.context import Result
from rshell.commands.predictions import create_prediction
from rshell.commands.unconfirmed import Sent
from rshell.errors import ApiError, Interrupted, NetworkError, RshellError, UsageError
from rshell.rendering.output import as_json

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.batch_journal import Journal
    from rshell.commands.batch_rows import RowSource
    from rshell.commands.context import Context
    from rshell.commands.predictions import Target

DEFAULT_CONCURRENCY = 8
MAX_RATE_WAIT = 15 * 60.0  # a batch waits out rate limits up to this long at a time
RECONCILE_PAGES = 20  # how many pages of recent predictions a rerun looks through
SKEW = 300.0  # seconds of clock difference allowed between this machine and the API
KEPT = 1_000  # rows a batch with --output keeps in memory (and binds); all are in the file
RATE_STUCK = (
    "rate limited (429) for {minutes} minutes with no progress: stopped here; "
    "rerun the same command later, the journal skips the rows already done"
)
UNKNOWN_HINT = "the create was sent but its answer was lost; `prediction list` shows whether it exists"


clock = time.monotonic  # the batch's clock and pause: tests replace both, so no test waits
sleep = asyncio.sleep


class RateStuck(RshellError):
    """Every request of the batch was rate limited for MAX_RATE_WAIT: stop, rerun later."""


class Batch:
    """One run of a batch: counters, the in-flight predictions, the rate-limit gate."""

    def __init__(self, ctx: Context, client: ReplicateClient, target: Target, journal: Journal, save: Path | None):
        self.ctx, self.client, self.target, self.journal, self.save = ctx, client, target, journal, save
        self.counts = {"succeeded": 0, "unsaved": 0, "failed": 0, "canceled": 0, "unknown": 0, "skipped": 0}
        self.saved = 0  # rows whose files --save wrote in this run
        self.unsaved_why: str | None = None  # the first reason a row's files were not saved
        self.running: dict[str, int] = {}  # prediction id → row
        self.results: list[dict[str, Any]] = []
        self.resume_at = 0.0  # monotonic time before which no create goes out (429)
        self.started = time.monotonic()
        self.total = 0
        self.retries = 0  # waits before a retry (429s, mostly) across the batch
        self.sending_since: list[str] = []  # when an earlier run's unanswered creates went out
        self.sent: list[Any] | None = None  # the predictions made since then, fetched once
        self.claimed: set[str] = set()  # ids already owned by a row of this output file
        self.sending: dict[int, tuple[dict[str, Any], str]] = {}  # row → (inputs, at): creates unanswered
        self.looking = asyncio.Lock()
        self.limited_since: float | None = None  # first 429 since the batch last made progress

    # one row -------------------------------------------------------------------------
    async def row(self, number: int, inputs: dict[str, Any], earlier: dict[str, Any] | None) -> None:
        began = time.monotonic()
        prediction: Any = None
        if earlier and earlier.get("id") and earlier.get("status") == CREATED:
            prediction = await self.client.predictions_get(str(earlier["id"]))
        elif earlier and earlier.get("status") == SENDING:
            prediction = await self._sent_before(inputs, str(earlier.get("at") or ""))
        if prediction is None:
            at = _now()
            self.journal.append({"row": number, "input": inputs, "status": SENDING, "at": at})
            self.sending[number] = (inputs, at)  # left in place by Ctrl-C: cancel_in_flight finds it
            prediction = await self._create(number, inputs)
            del self.sending[number]
            if prediction is None:
                return
            self.claimed.add(prediction.id)  # never adopted by another row (Ctrl-C's look)
        if not (earlier and earlier.get("id") == prediction.id):
            self.journal.append({"row": number, "input": inputs, "id": prediction.id, "status": CREATED})
        self.running[prediction.id] = number
        try:
            final = await self._follow(prediction)
        except RshellError as exc:
            self.running.pop(prediction.id, None)
            self._finish(number, inputs, prediction.id, "failed", None, exc.message, began)
            return
        self.running.pop(prediction.id, None)
        error = final.error if isinstance(final.error, str) or final.error is None else json.dumps(final.error)
        if final.status == "succeeded" and self.save is not None:
            await self._saving(number, inputs, final, began)
            return
        self._finish(number, inputs, final.id, final.status, final.output, error, began)

    async def resave(self, number: int, inputs: dict[str, Any], earlier: dict[str, Any]) -> None:
        """A row an earlier run finished but could not save the files of: save them
        from the prediction as it is now (fresh output URLs), creating nothing."""
        began = time.monotonic()
        try:
            final = await self.client.predictions_get(str(earlier["id"]))
        except RshellError as exc:
            self._finish(number, inputs, str(earlier["id"]), "succeeded", None, exc.message, began, saved=False)
            return
        await self._saving(number, inputs, final, began)

    async def _saving(self, number: int, inputs: dict[str, Any], final: Any, began: float) -> None:
        """Save a succeeded row's files and record it: `saved`, or why not."""
        why = await self._save(number, final.output)
        self._finish(number, inputs, final.id, "succeeded", final.output, why, began, saved=why is None)

    async def _follow(self, prediction: Any) -> Any:
        """Follow to the end; a read that stays rate-limited waits and reads again."""
        from rshell.client.retry import RetryLater
        from rshell.commands.running import SilentWatch, follow_prediction

        while True:
            try:
                final, _ = await follow_prediction(self.client, prediction, SilentWatch())
                self.limited_since = None
                return final
            except RetryLater as exc:
                if exc.retry_after > MAX_RATE_WAIT:
                    raise
                self._rate_limited(exc.retry_after)
            except ApiError as exc:
                if exc.status != 429:
                    raise
                self._rate_limited(5.0)
            await self._gate()

    async def _sent_before(self, inputs: dict[str, Any], at: str) -> Any:
        """The prediction an earlier, killed run created for these inputs, if any: one
        made since `at` (less a margin for clock skew) for this target, whose input holds
        every value the row sent (the API adds the model's defaults to the rest), not yet
        claimed by another row. An exact match wins, then one created after `at` (the
        nearest), then one within the skew margin before it."""
        async with self.looking:  # rows resuming together share one look
            if self.sent is None:
                await self.look_back(at)
        return self._claim(self.sent or [], inputs, at)

    async def look_back(self, at: str = "") -> None:
        """Fetch the predictions made since the earliest `sending` line, once, before
        this run creates anything: a new row's prediction (its id unknown until its
        `Prefer: wait` ends) must not be taken for the create a killed run sent."""
        self.sent = await self._recent(min(self.sending_since, default=at) or at)

    def _claim(self, candidates: list[Any], inputs: dict[str, Any], at: str) -> Any:
        """The likeliest of `candidates` to be the create of a row sending `inputs` at
        `at` (see _sent_before), now claimed; None when none can be."""
        found = [p for p in candidates if p.id not in self.claimed and self._sent_for(p, inputs, at)]
        if not found:
            return None
        chosen = min(found, key=lambda p: (p.input != inputs, *_nearness(p.created_at, at)))
        self.claimed.add(chosen.id)
        return chosen

    def _sent_for(self, prediction: Any, inputs: dict[str, Any], at: str) -> bool:
        """Whether `prediction` may be what a row sending `inputs` at `at` created: the
        rule a Ctrl-C'd create is found by (`unconfirmed.Sent.matches`), after `at`."""
        target = self.target
        sent = Sent("prediction", inputs, model=target.model, version=target.version, deployment=target.deployment)
        return sent.matches(prediction) and _not_before(prediction.created_at, at)

    async def _recent(self, since: str) -> list[Any]:
        """Predictions created since `since` (a bounded walk of the list's pages)."""
        try:
            after = (datetime.fromisoformat(since) - timedelta(seconds=SKEW)).isoformat()
        except ValueError:
            after = None
        found: list[Any] = []
        page = await self.client.predictions_list(created_after=after)
        for _ in range(RECONCILE_PAGES):
            found.extend(page.results)
            if not page.next:
                break
            page = await self.client.get_page(page.next, page.parsed_as())
        return found

    def throttled(self, message: str) -> None:
        """The client's notice of a wait before a retry: counted, not printed per request."""
        self.retries += 1
        self.progress()

    async def _create(self, number: int, inputs: dict[str, Any]) -> Any:
        """Create the row's prediction, waiting out rate limits; None when it failed."""
        from rshell.client.retry import RetryLater

        while True:
            try:
                await self._gate()
                # Prefer: wait: a row that ends within the window ends in this answer (no
                # poll to notice it). Its id is not known until then: a kill meanwhile
                # leaves the `sending` line, and the rerun finds the prediction by it.
                created = await create_prediction(self.client, self.target, inputs, wait=True)
                self.limited_since = None
                return created
            except RetryLater as exc:
                if exc.retry_after > MAX_RATE_WAIT:
                    raise
                self._rate_limited(exc.retry_after)
            except ApiError as exc:
                if exc.status != 429:
                    self._finish(number, inputs, None, "failed", None, exc.message, time.monotonic())
                    return None
                self._rate_limited(5.0)
            except RateStuck as exc:
                self._finish(number, inputs, None, "failed", None, exc.message, time.monotonic())
                return None
            except NetworkError as exc:
                self._finish(number, inputs, None, "unknown", None, f"{exc.message}; {UNKNOWN_HINT}", time.monotonic())
                return None

    def _rate_limited(self, seconds: float) -> None:
        """Wait `seconds` before the next request; the gate counts how long the
        batch has had nothing but 429s."""
        now = clock()
        if self.limited_since is None:
            self.limited_since = now
        self.resume_at = max(self.resume_at, now + seconds)

    async def _gate(self) -> None:
        """Wait out a 429; after MAX_RATE_WAIT of nothing but 429s (no create or read
        got through), RateStuck fails the rows still to go, rather than wait for ever."""
        if self.limited_since is not None and clock() - self.limited_since >= MAX_RATE_WAIT:
            raise RateStuck(RATE_STUCK.format(minutes=round(MAX_RATE_WAIT / 60)))
        while (left := self.resume_at - clock()) > 0:
            await sleep(left)

    async def _save(self, number: int, output: Any) -> str | None:
        """Write the row's files; None when all were saved, else why not (one line)."""
        from rshell.downloads import save_outputs

        assert self.save is not None
        folder = self.save / str(number)
        try:
            report = await save_outputs(self.client, output, folder)
        except OSError as exc:
            why = f"{atomic.cause(exc)} ({exc.filename or folder})"
        except RshellError as exc:
            why = exc.message
        else:
            if not report.failed:
                return None
            url, cause = report.failed[0]
            why = f"{len(report.failed)} file(s) failed, first {url}: {text_cause(cause)}"
        if self.unsaved_why is None:
            self.unsaved_why = why
        return why

    def _finish(
        self,
        number: int,
        inputs: Any,
        pid: str | None,
        status: str,
        output: Any,
        error: Any,
        began: float,
        saved: bool | None = None,
    ) -> None:
        """Record a row's end; `saved` (with --save, for a succeeded row) whether its
        files were written: a row that succeeded unsaved counts as `unsaved`, not done."""
        record = {
            "row": number,
            "input": inputs,
            "id": pid,
            "status": status,
            "output": output,
            "error": error,
            "time": round(time.monotonic() - began, 3),
        }
        if saved is not None:
            record["saved"] = saved
            self.saved += saved
        self.journal.append(record)
        key = "unsaved" if saved is False else status if status in self.counts else "failed"
        self.counts[key] += 1
        self.keep(record)
        self.progress()

    def keep(self, record: dict[str, Any]) -> None:
        """Hold a finished row for the result (bound by `b = batch …`); with --output,
        only the first KEPT, so memory stays flat."""
        if self.journal.path is None or len(self.results) < KEPT:
            self.results.append({k: record.get(k) for k in ("row", "id", "status", "output", "error")})

    # the whole batch -----------------------------------------------------------------
    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        saved = {"saved": self.saved} if self.save is not None else {}
        return {"rows": self.total, **self.counts, **saved, "retries": self.retries, "seconds": round(elapsed, 3)}

    def progress(self) -> None:
        """The live line on a terminal: done, failed, running, rate, ETA."""
        out = self.ctx.out
        if not out.stderr_tty:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        left = max(self.total - self.done, 0)
        eta = f"{left / rate:.0f}s" if rate > 0 else "?"
        failed = self.counts["failed"] + self.counts["unknown"] + self.counts["canceled"] + self.counts["unsaved"]
        line = f"batch {self.done}/{self.total} done, {failed} failed, {len(self.running)} running"
        line += f", {rate:.1f}/s, ETA {eta}"
        if self.retries:
            line += f", {self.retries} retries (rate limited)"
        out.stderr.write("\r" + line[:200] + "\x1b[K")
        out.stderr.flush()

    async def cancel_in_flight(self) -> None:
        """Ctrl-C: cancel every prediction still running, and record each as canceled;
        those whose create was still waiting for its answer are found by their inputs."""
        running = dict(self.running)
        sending = dict(self.sending)

        async def one(pid: str, number: int) -> None:
            try:
                await self.client.predictions_cancel(pid)
            except RshellError as exc:
                self.ctx.out.info(f"could not cancel prediction {pid}: {exc.message}")
            self._finish(number, None, pid, "canceled", None, "interrupted", time.monotonic())

        async def every() -> None:
            if sending:
                running.update(await self._unanswered(sending))
            await asyncio.gather(*(one(pid, n) for pid, n in running.items()))

        await asyncio.shield(every())

    async def _unanswered(self, sending: dict[int, tuple[dict[str, Any], str]]) -> dict[str, int]:
        """Prediction id → row, for the rows whose create went out unanswered (found as
        a rerun would find them); a row not found is said, and left `sending`."""
        try:
            recent = await self._recent(min(at for _, at in sending.values()))
        except RshellError as exc:
            recent = []
            self.ctx.out.info(f"could not look for the predictions being created: {exc.message}")
        found: dict[str, int] = {}
        for number, (inputs, at) in sorted(sending.items()):
            prediction = self._claim(recent, inputs, at)
            if prediction is not None:
                found[prediction.id] = number
        if missing := len(sending) - len(found):
            self.ctx.out.info(
                f"{missing} create(s) had no answer yet: `prediction list` shows whether they exist;"
                " a rerun with the same --output finds them"
            )
        return found


def text_cause(text: str) -> str:
    """The same few words for a failure already turned into text (a download's),
    found by the system's own wording of each cause; other text is kept."""
    for number, words in atomic.CAUSES.items():
        if os.strerror(number) in text or f": {words}" in text:
            return words
    return text


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _seconds_after(created_at: Any, mark: str) -> float | None:
    """How long after `mark` a prediction was created (negative: before); None when
    either date is unreadable."""
    try:
        created = datetime.fromisoformat(str(created_at).replace("Z", "+00:00"))
        sent = datetime.fromisoformat(mark)
    except ValueError:
        return None
    if created.tzinfo is None or sent.tzinfo is None:
        return None
    return (created - sent).total_seconds()


def _not_before(created_at: Any, mark: str) -> bool:
    """Whether a prediction created at `created_at` may come from a create sent at
    `mark`, allowing SKEW seconds of clock difference; an unreadable date does not rule it out."""
    after = _seconds_after(created_at, mark)
    return after is None or after >= -SKEW


def _nearness(created_at: Any, mark: str) -> tuple[bool, float]:
    """A sort key: created after `mark` first, then by distance from it (the nearest
    is the likeliest to be the create sent then)."""
    after = _seconds_after(created_at, mark)
    if after is None:
        return True, float("inf")
    return after < 0, abs(after)


def _concurrency(args: ParsedArgs) -> int:
    value = args.values.get("concurrency")
    number = DEFAULT_CONCURRENCY if value is None else int(value)
    if not 1 <= number <= 256:
        raise UsageError(f"--concurrency must be between 1 and 256, not {number}")
    return number


def _defaults(args: ParsedArgs, schema: dict | None) -> dict[str, Any]:
    """The shared `key=value` words, coerced by the schema (not validated alone: a row
    may supply what they leave out); none is a file (`Arg.files`: refused as read)."""
    from rshell.grammar.inputs import coerce, input_schema, raw_values

    return coerce(raw_values(args.split), input_schema(schema) if schema else None)


def _row_inputs(defaults: dict[str, Any], row: dict[str, Any], from_csv: bool, schema: dict | None) -> dict[str, Any]:
    from rshell.grammar.inputs import coerce, input_schema

    values = coerce(row, input_schema(schema) if schema else None) if from_csv else row
    return {**defaults, **values}


def validate_rows(source: RowSource, defaults: dict[str, Any], schema: dict | None) -> int:
    """Check every row before anything is created; the number of rows."""
    from rshell.grammar.inputs import input_schema, validate

    inputs_schema = input_schema(schema) if schema else None
    count = 0
    for number, row, from_csv in source.rows():
        try:
            values = _row_inputs(defaults, row, from_csv, schema)
            if inputs_schema is not None:
                validate(values, inputs_schema)
        except UsageError as exc:
            raise UsageError(f"{source.shown} row {number}: {exc.message}", exc.hint) from None
        count += 1
    if count == 0:
        raise UsageError(f"{source.shown} has no rows")
    return count


async def batch(ctx: Context, args: ParsedArgs) -> Result:
    from rshell.commands import batch_journal
    from rshell.commands.batch_rows import open_rows
    from rshell.commands.predictions import resolve_target

    concurrency = _concurrency(args)
    source = open_rows(str(args.values["inputs"]))
    try:
        client = await ctx.client()
        target, schema = await resolve_target(ctx, client, args)
        defaults = _defaults(args, schema)
        total = validate_rows(source, defaults, schema)
        output = args.values.get("output")
        out_path = Path(output).expanduser() if output else None
        earlier = batch_journal.load(out_path) if out_path else {}
        save = None
        if args.values.get("save"):
            save = Path(args.values.get("output_directory") or "batch-output").expanduser()
        journal = batch_journal.Journal(out_path)
        run = Batch(ctx, client, target, journal, save)
        run.total = total
        run.claimed = {str(r["id"]) for r in earlier.values() if r.get("id")}
        run.sending_since = [str(r["at"]) for r in earlier.values() if r.get("status") == SENDING and r.get("at")]
        told, client.on_retry = client.on_retry, run.throttled
        try:
            if run.sending_since:
                await run.look_back()
            await _run(run, source, defaults, schema, earlier, concurrency)
        finally:
            client.on_retry = told
            journal.close()
    finally:
        source.close()
    return _result(ctx, run)


async def _run(
    run: Batch,
    source: RowSource,
    defaults: dict[str, Any],
    schema: dict | None,
    earlier: dict[int, dict[str, Any]],
    concurrency: int,
) -> None:
    from rshell.commands.batch_journal import DONE, UNKNOWN

    slots = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task[None]] = set()
    known_before = set(run.claimed)
    unwritable: list[WriteFailed] = []  # the --output file failed (disk full, …): start no more rows

    async def one(number: int, inputs: dict[str, Any]) -> None:
        before = earlier.get(number)
        try:
            if before and before.get("saved") is False:
                await run.resave(number, inputs, before)
            else:
                await run.row(number, inputs, before)
        except WriteFailed as error:
            unwritable.append(error)
        finally:
            slots.release()

    done_before: set[int] = set()  # rows an earlier run finished: bound from the file
    try:
        for number, row, from_csv in source.rows():
            before = earlier.get(number)
            unsaved = before and before.get("saved") is False and run.save is not None
            if before and before.get("status") in DONE and not unsaved:
                # a lost create stays unknown (never re-sent) and still says so
                run.counts["unknown" if before.get("status") == UNKNOWN else "skipped"] += 1
                if len(done_before) < KEPT:
                    done_before.add(number)
                continue
            await slots.acquire()
            if unwritable:
                slots.release()
                break
            task = asyncio.create_task(one(number, _row_inputs(defaults, row, from_csv, schema)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*tasks)
        if unwritable:
            raise _unrecorded(unwritable[0], sorted(run.claimed - known_before))
        _bind_done_before(run, done_before)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await run.cancel_in_flight()
        run.ctx.out.info(f"canceled {run.counts['canceled']} prediction(s) in flight")
        raise Interrupted("batch interrupted", "run the same batch with the same --output to resume") from None


def _unrecorded(error: WriteFailed, created: list[str]) -> WriteFailed:
    """The --output file could not be written: no row was started after that, and the
    predictions this run created are named (the server holds them all the same)."""
    if created:
        shown = ", ".join(created[:5]) + (f" and {len(created) - 5} more" if len(created) > 5 else "")
        error.hint = f"stopped starting rows; {len(created)} prediction(s) this run created are on the server: {shown}"
    else:
        error.hint = "stopped starting rows; nothing more was created"
    return error


def _bind_done_before(run: Batch, rows: set[int]) -> None:
    """Put the rows an earlier run finished into the result (`b = batch …` run again
    binds every row, not only the new ones), all in row order, at most KEPT."""
    from rshell.commands.batch_journal import final_records

    if rows and run.journal.path is not None:
        for record in final_records(run.journal.path, rows).values():
            run.keep(record)
    run.results.sort(key=lambda r: r["row"])


def _result(ctx: Context, run: Batch) -> Result:
    if ctx.out.stderr_tty:
        ctx.out.stderr.write("\r\x1b[K")
    summary = run.summary()
    if not ctx.out.stderr_tty:
        ctx.out.info(json.dumps(summary))
    c = run.counts
    text = (
        f"batch: {summary['rows']} rows, {c['succeeded']} succeeded, {c['failed']} failed, {c['canceled']} canceled,"
        f" {c['unknown']} unknown, {c['skipped']} already done, in {summary['seconds']:.1f}s"
        + (f" ({run.retries} retries after rate limits)" if run.retries else "")
    )
    saving = _saving_line(run)
    if saving:
        text += f"; {saving}"
    if len(run.results) < run.done:
        text += f"\n(the result holds the first {len(run.results):,} rows; every row is in {run.journal.path})"
    failed = c["failed"] + c["unknown"] + c["canceled"]
    problems = [f"{failed} of {summary['rows']} rows did not succeed"] if failed else []
    if c["unknown"]:
        problems.append(UNKNOWN_HINT)
    if c["unsaved"]:
        problems.append(saving)
        rerun = "rerun with the same --output to save the missing files (nothing is created)"
        problems.append(rerun if run.journal.path else "their predictions succeeded: the result lists their ids")
    error = "; ".join(problems) or None
    return Result(data=as_json(run.results), text=text, ok=error is None, error=error)


def _saving_line(run: Batch) -> str:
    """`2 saved, 1 not saved: disk full (…)` with --save; empty without."""
    if run.save is None:
        return ""
    line = f"{run.saved} saved, {run.counts['unsaved']} not saved"
    return f"{line}: {run.unsaved_why}" if run.counts["unsaved"] and run.unsaved_why else line
