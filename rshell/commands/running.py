"""Following a prediction or training to its end, shared by both handler modules.

A prediction with `urls.stream` is followed over its event stream (the `done`
event says it finished, one GET fetches the final object; while it is quiet a GET
every few seconds catches a run that finished without a word); otherwise, or when
the stream breaks or dies, it is polled with backoff: at most 3 requests in the
first second and never more than 0.5 s apart (SPEC 5 and 10). Also: printing only
log text not yet printed, the stderr spinner, Ctrl-C that cancels on the server, and
--web. Every wait is bounded (SPEC 8): a status rshell does not know is an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from rshell.client.fields import RUNNING_STATUSES, TERMINAL_STATUSES
from rshell.commands.context import Result
from rshell.errors import Interrupted, RshellError
from rshell.rendering.output import as_json
from rshell.rendering.progress import Progress

if TYPE_CHECKING:
    from rshell.client.api import Delivery, ReplicateClient
    from rshell.client.models import Prediction
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context
    from rshell.commands.runs import RunKind
    from rshell.commands.unconfirmed import Sent
    from rshell.rendering.output import Output
    from rshell.session.state import Session

POLL_FIRST = 0.2  # seconds: 0.2, 0.3, 0.45 — three requests in the first second
POLL_FACTOR = 1.5
POLL_MAX = 0.45  # SPEC 5 says never more than 0.5 s apart: aim under it, so a late wake-up stays inside
STATUS_SHOWN = 40  # characters of an unknown status worth quoting back
QUIET_CHECK = 3.0  # seconds of a quiet stream before the run's status is checked (a plain GET)

T = TypeVar("T")


def kind_named(name: str) -> RunKind:
    """The `runs.KINDS` entry (API calls, names) for a kind `follow_run` and the session
    name a run by (an unknown name: the prediction's)."""
    from rshell.commands.runs import KINDS

    return KINDS.get(name, KINDS["prediction"])


async def sleep(seconds: float) -> None:
    """The poll loop's pause; a module attribute so tests replace it (no real waiting)."""
    await asyncio.sleep(seconds)


def now() -> float:
    """The poll loop's clock; replaced with `sleep` in tests, so a gap's arithmetic
    does not depend on how long a mocked request took on a busy machine."""
    return time.monotonic()


def intervals(first: float = POLL_FIRST, factor: float = POLL_FACTOR, most: float = POLL_MAX) -> Iterator[float]:
    """200 ms, 300 ms, then every 450 ms: prompt, yet never a busy poll."""
    delay = first
    while True:
        yield min(delay, most)
        delay = min(delay * factor, most)


class LogFollower:
    """Prints only log text it has not printed yet, whole lines at a time (a tqdm bar
    ending in `\\r` counts as a line), and the unfinished rest at the end."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self.emit = emit
        self.done = 0  # characters of the logs already printed
        self.seen = ""

    def skip(self, count: int) -> None:
        """Treat the first `count` characters as printed (they came over the stream)."""
        self.done = max(self.done, count)

    def feed(self, logs: str | None, *, final: bool = False) -> None:
        logs = logs or ""
        if not logs.startswith(self.seen[: self.done]):
            self.done = 0  # the server rewrote the logs: start over rather than lose lines
        self.seen = logs
        fresh = logs[self.done :]
        cut = len(fresh) if final else max(fresh.rfind("\n"), fresh.rfind("\r")) + 1
        if cut > 0:
            self.emit(fresh[:cut])
            self.done += cut


class Watch:
    """What a person sees while waiting: spinner, logs, progress lines, tokens."""

    def __init__(self, out: Output, label: str) -> None:
        self.out = out
        self.progress = Progress(out.stderr, enabled=out.stderr_tty, label=label)
        self.logs = LogFollower(self.log)
        if self.progress.enabled:
            out.live = self.progress  # every stderr line now steps around the spinner

    def start(self) -> None:
        self.progress.start()

    def stop(self) -> None:
        self.progress.stop()
        if self.out.live is self.progress:
            self.out.live = None

    def update(self, obj: Prediction) -> None:
        """A fresh copy of the object from the API: new logs out, spinner redrawn."""
        self.logs.feed(obj.logs)
        if obj.status not in TERMINAL_STATUSES:  # a finished one needs no spinner flash
            self.progress.update(obj.status, obj.logs)

    def show_status(self, status: str) -> None:
        """A status learnt without the logs (a check of a quiet stream's run)."""
        self.progress.update(status)

    def finish(self, obj: Prediction) -> None:
        self.logs.feed(obj.logs, final=True)
        self.stop()

    def log(self, text: str) -> None:
        self.out.log(text)  # Output steps around the spinner (out.live)

    def info(self, message: str) -> None:
        self.out.info(message)

    def token(self, text: str) -> None:
        """Streamed output shares the terminal with the spinner: the spinner yields."""
        self.stop()
        self.progress.enabled = False
        self.out.token(text)


class SilentWatch(Watch):
    """Waiting with nobody watching (each row of a batch): the same following logic,
    no spinner, logs or tokens on the terminal."""

    def __init__(self) -> None:
        self.logs = LogFollower(lambda text: None)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def update(self, obj: Prediction) -> None:
        pass

    def show_status(self, status: str) -> None:
        pass

    def finish(self, obj: Prediction) -> None:
        pass

    def log(self, text: str) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def token(self, text: str) -> None:
        pass


async def follow_prediction(
    client: ReplicateClient, prediction: Prediction, watch: Watch, *, print_tokens: bool = False
) -> tuple[Prediction, str]:
    """Wait for a terminal status: over the event stream when the prediction has one
    (also for non-text models: `done` says it finished), else, or after the stream
    broke or went idle, by polling. Returns the final object and the streamed text."""
    streamed = ""
    if not check_status("prediction", prediction) and prediction.urls.stream:
        prediction, streamed = await follow_stream(client, prediction, watch, print_tokens)
    prediction = await poll(client.predictions_get, prediction, watch)
    return prediction, streamed


async def follow_stream(
    client: ReplicateClient, prediction: Prediction, watch: Watch, print_tokens: bool
) -> tuple[Prediction, str]:
    """Print `output` events as they arrive (when asked) and `logs` on stderr; at
    `done` fetch the final object. While the stream is quiet the status is checked
    every QUIET_CHECK seconds: a finished run ends the wait at once, a run still
    starting keeps its stream. A broken stream is resumed once with Last-Event-ID; a
    dead one (no byte for the client's idle limit), or one broken twice, is left to
    polling."""
    from rshell.client.sse import StreamInterrupted

    url = prediction.urls.stream or ""
    state = _StreamState(shown=watch.logs.done)  # the stream replays logs already printed
    last_id: str | None = None
    for attempt in range(2):
        try:
            events = quiet_ticks(client.stream(url, last_event_id=last_id), QUIET_CHECK)
            async with contextlib.aclosing(events):  # a return below closes the stream at once
                async for event in events:
                    if event is None:  # quiet: has it finished without a word?
                        current = await client.predictions_get(prediction.id)
                        if check_status("prediction", current):
                            watch.logs.skip(state.log_chars)  # the rest of its logs is printed at the end
                            return current, state.text
                        watch.show_status(current.status)  # starting → processing shows on the spinner
                        continue
                    if state.replayed(event):
                        continue  # a resumed stream that repeats itself: print nothing twice
                    last_id = event.id or last_id
                    if state.handle(event, watch, print_tokens):
                        final = await client.predictions_get(prediction.id)
                        watch.logs.skip(len(final.logs or ""))  # the stream showed them all
                        return final, state.text
            return prediction, state.text
        except StreamInterrupted as exc:
            last_id = exc.last_event_id or last_id
            if exc.idle or attempt == 1:
                watch.info(f"stream interrupted ({exc.message}); polling instead")
                break
    watch.logs.skip(state.log_chars)
    return prediction, state.text


async def quiet_ticks(events: AsyncIterator[T], every: float) -> AsyncGenerator[T | None, None]:
    """The events as they come, and None each time `every` seconds pass without one.
    The pending read is never cancelled by a tick (a half-read event would be lost);
    it is cancelled, and the stream closed, when the caller stops."""
    iterator = events.__aiter__()
    pending: asyncio.Future[T] = asyncio.ensure_future(iterator.__anext__())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=every)
            if not done:
                yield None
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            yield event
            pending = asyncio.ensure_future(iterator.__anext__())
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


class _StreamState:
    """What a stream has shown so far: the output text and how much log text."""

    def __init__(self, shown: int = 0) -> None:
        self.text = ""
        self.log_chars = 0
        self.shown = shown  # log characters printed before the stream began
        self.ids: set[str] = set()

    def replayed(self, event: Any) -> bool:
        """True for an event (by id) this stream already delivered."""
        if event.id is None:
            return False
        if event.id in self.ids:
            return True
        self.ids.add(event.id)
        return False

    def handle(self, event: Any, watch: Watch, print_tokens: bool) -> bool:
        """Act on one event; True at the end of the stream."""
        if event.event == "output":
            self.text += event.data
            if print_tokens:
                watch.token(event.data)
        elif event.event == "logs":
            self.log_chars += len(event.data) + 1
            if self.log_chars > self.shown:
                watch.log(event.data)
        elif event.event in ("done", "error"):
            return True
        return False


def check_status(kind: str, obj: Prediction) -> bool:
    """True when `obj` is finished, False while it runs; an unknown status is an error
    rather than a wait that might never end."""
    status = obj.status or ""
    if status in TERMINAL_STATUSES:
        return True
    if status in RUNNING_STATUSES:
        return False
    shown = status if len(status) <= STATUS_SHOWN else status[: STATUS_SHOWN - 1] + "…"
    raise RshellError(
        f"{kind} {obj.id} has a status rshell does not know: {shown!r}; stopped waiting",
        f"`{kind} show {obj.id}` shows it now; `{kind} cancel {obj.id}` stops it",
    )


async def poll(get: Callable[[str], Awaitable[Any]], obj: Any, watch: Watch, kind: str = "prediction") -> Any:
    """Fetch `obj` again with backoff until its status is terminal. Each interval runs
    from the previous request's start, so a slow round trip does not widen the gap."""
    sent = now()
    for delay in intervals():
        if check_status(kind, obj):
            return obj
        await sleep(max(0.0, sent + delay - now()))
        sent = now()
        obj = await get(obj.id)
        watch.update(obj)
    raise AssertionError("unreachable: intervals() never ends")


async def follow_run(
    ctx: Context,
    client: ReplicateClient,
    obj: Any,
    kind: str = "prediction",
    *,
    streaming: bool = False,
    print_tokens: bool = True,
    watch: Watch | None = None,
    cancel: bool = True,
) -> tuple[Any, bool]:
    """Wait for a prediction or training a person is watching (`run`, `train --wait`,
    `prediction wait`, `wait NAME`): spinner and logs, tokens when streaming. Ctrl-C
    cancels it on the server when this command started it (`cancel`); waiting on one
    that already existed, it only stops the wait. Returns the final object and
    whether tokens were printed."""
    watch = watch or Watch(ctx.out, obj.id)
    watch.progress.label = obj.id  # a spinner started at the create now names what it waits on
    watch.update(obj)
    ctx.session.in_flight[obj.id] = kind
    streamed = ""
    try:
        if obj.status not in TERMINAL_STATUSES:
            watch.start()
            if kind == "prediction":
                obj, streamed = await follow_prediction(client, obj, watch, print_tokens=streaming and print_tokens)
            else:
                obj = await poll(kind_named(kind).call(client, "get"), obj, watch, kind)
        printed = bool(streamed) and streaming and print_tokens
        if printed:
            _print_rest(watch, obj, streamed)
        watch.finish(obj)
        return obj, printed
    except asyncio.CancelledError:
        watch.stop()
        if not cancel:
            stop_waiting(kind, obj)
        await cancel_after_interrupt(ctx, kind, obj, kind_named(kind).call(client, "cancel"))
    finally:
        watch.stop()
        ctx.session.in_flight.pop(obj.id, None)


def _print_rest(watch: Watch, prediction: Prediction, streamed: str) -> None:
    """After a broken stream, print what the stream did not deliver."""
    from rshell.rendering.predictions import render_output

    full = render_output(prediction.output, concatenate=True)
    if full.startswith(streamed) and len(full) > len(streamed):
        watch.token(full[len(streamed) :])


async def cancel_after_interrupt(
    ctx: Context,
    kind: str,
    obj: Any,
    cancel: Callable[[str], Awaitable[Any]],
) -> NoReturn:
    """Ctrl-C while waiting: cancel on the server (shielded, so a second Ctrl-C does
    not leave it running unasked), say so, and stop with the canceled object."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()  # we handle this cancellation by turning it into Interrupted
    data = as_json(obj)
    try:
        data = as_json(await asyncio.shield(cancel(obj.id)))
        ctx.out.info(f"canceled {kind} {obj.id}")
    except RshellError as exc:
        ctx.out.info(f"could not cancel {kind} {obj.id}: {exc.message}")
    raise Interrupted(
        f"interrupted while waiting for {kind} {obj.id}",
        result=Result(data=data, ok=False, error=f"{kind} {obj.id} {data.get('status') or 'interrupted'}"),
    )


def stop_waiting(kind: str, obj: Any) -> NoReturn:
    """Ctrl-C while waiting on a run this command did not start: it goes on running."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
    data = as_json(obj)
    raise Interrupted(
        f"stopped waiting for {kind} {obj.id}; it is still {data.get('status') or 'running'}",
        f"`{kind} cancel {obj.id}` stops it",
        result=Result(data=data, ok=False, error=f"stopped waiting for {kind} {obj.id}"),
    )


FIND_FOR = 10.0  # seconds spent looking for the run a cut-short create made
FIND_PAUSES = (0.1, 0.2, 0.4, 0.8)  # between looks: the server may not have stored it yet


async def cancel_unconfirmed(ctx: Context, client: ReplicateClient, sent: Sent, delivery: Delivery) -> NoReturn:
    """Ctrl-C before the create answered (inside `Prefer: wait`): no id came back, so
    find the run the request made (`unconfirmed.find`) and cancel it as after the
    answer. A request never completely sent made nothing; one that made nothing
    findable is said to be unknown, never pretended stopped."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
    kind = sent.kind
    if not delivery.may_have_landed:
        raise Interrupted(f"interrupted before the {kind} was sent; nothing was created")
    try:
        found = await asyncio.shield(_find_soon(client, sent, set(ctx.session.in_flight)))
    except RshellError as exc:
        ctx.out.info(f"could not look for the {kind}: {exc.message}")
        found = None
    if found is None:
        raise Interrupted(
            f"interrupted before the {kind} was confirmed; it may still be running",
            f"`{kind} list` shows it and `{kind} cancel ID` stops it",
        )
    if found.status in TERMINAL_STATUSES:
        data = as_json(found)
        raise Interrupted(
            f"interrupted; {kind} {found.id} had already {found.status}",
            result=Result(data=data, ok=False, error=f"{kind} {found.id} {found.status}"),
        )
    await cancel_after_interrupt(ctx, kind, found, kind_named(kind).call(client, "cancel"))


async def _find_soon(client: ReplicateClient, sent: Sent, known: set[str]) -> Any:
    """`unconfirmed.find`, looked again for a few seconds: a create cut short a moment
    after it was written may not be stored (or listed) yet."""
    from rshell.commands.unconfirmed import find

    deadline = time.monotonic() + FIND_FOR
    pauses = iter(FIND_PAUSES)
    while True:
        found = await find(client, sent, known)
        if found is not None or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(next(pauses, FIND_PAUSES[-1]))


def option(args: ParsedArgs, name: str, fallback: str) -> str:
    """A flag's value, else the fallback: `parse_args` has already put the session's
    `set` option in the place of a flag left out, so it is not looked up again here."""
    value = args.values.get(name)
    return str(value) if value is not None else fallback


def _has_browser() -> bool:
    """A graphical browser we can hand a URL to without taking over the terminal."""
    import webbrowser

    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("BROWSER")
    ):
        return False
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def site_url(ctx: Context, *segments: str) -> str:
    """The web page of an object the API gives no URL for (an account, a deployment)."""
    from rshell.client.urls import web_url

    return web_url(ctx.env.base_url, *segments)


def open_web(ctx: Context, url: str | None) -> None:
    """--web: open the page, or print its URL on stderr when there is no browser.

    The URL may come from the server, so only an http(s) address is handed to a
    browser; anything else is named and left alone."""
    if not url:
        ctx.out.info("no web page for this object")
        return
    if not url.lower().startswith(("https://", "http://")):
        ctx.out.info(f"not opening {url!r}: not a web address")
        return
    import webbrowser

    if _has_browser() and webbrowser.open(url):
        ctx.out.info(f"opened {url}")
        return
    ctx.out.info(url)


async def settle_in_flight(session: Session, client: ReplicateClient) -> None:
    """Ask the API about every prediction and training the session thinks is still
    running, and forget those that have finished (before asking to leave)."""
    for run_id, kind in list(session.in_flight.items()):
        obj = await kind_named(kind).call(client, "get")(run_id)
        if obj.status in TERMINAL_STATUSES:
            session.in_flight.pop(run_id, None)
