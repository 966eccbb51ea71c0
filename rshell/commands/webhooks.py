"""`webhooks verify` and `webhooks listen`: seeing the webhooks a run sends.

verify: one saved delivery (rshell/webhooks.py's JSON, from a file or stdin) checked
against the account's secret (`webhooks secret`) or `--secret`.
listen: a local receiver (stdlib `ThreadingHTTPServer` on a thread; deliveries handed
to the statement's event loop) that checks, prints one line per delivery, saves and
forwards each, until Ctrl-C or `--count` deliveries.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rshell.commands.context import Result
from rshell.errors import UsageError
from rshell.webhooks import DEFAULT_TOLERANCE, Delivery, InvalidDelivery, check, event_of, read_saved

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context

MAX_BODY = 16 * 1024 * 1024  # a delivery is one run's JSON; a bigger body is refused unread
_FORWARDED = ("content-type", "webhook-id", "webhook-timestamp", "webhook-signature")


async def _secret(ctx: Context, args: ParsedArgs) -> str:
    """`--secret`, else the account's (one read of the API)."""
    given = args.values.get("secret")
    if given:
        return str(given)
    client = await ctx.client()
    return str((await client.webhooks_default_secret_get()).get("key") or "")


def _tolerance(args: ParsedArgs) -> int:
    value = args.values.get("tolerance")
    if value is None:
        return DEFAULT_TOLERANCE
    if value < 0:
        raise UsageError(f"--tolerance must be 0 or more seconds, not {value}")
    return int(value)


def _read_request(ctx: Context, given: str | None) -> Delivery:
    from rshell.grammar.inputs import readable_file

    if not given or given == "-":
        text, where = (ctx.env.stdin or sys.stdin).read(), "stdin"
    else:
        path = readable_file(given)
        where = str(path)
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path} as UTF-8 text: {exc}") from None
    try:
        return read_saved(text)
    except ValueError as exc:
        raise UsageError(
            f"{where} is not a saved delivery: {exc}",
            'write {"headers": {...}, "body": "..."} (webhooks listen --save)',
        ) from None


async def verify(ctx: Context, args: ParsedArgs) -> Result:
    """Check one saved delivery; a delivery that does not verify fails the statement (exit 1)."""
    tolerance = _tolerance(args)
    delivery = _read_request(ctx, args.get("request"))
    secret = await _secret(ctx, args)
    summary = _summary(delivery)
    try:
        check(delivery, secret, tolerance)
    except InvalidDelivery as exc:
        data = {**summary, "verified": False, "reason": str(exc)}
        return Result(data, _line(data), ok=False, error=f"not verified: {exc}")
    data = {**summary, "verified": True}
    return Result(data, _line(data))


def _summary(delivery: Delivery) -> dict[str, Any]:
    run = delivery.run()
    return {
        "webhook_id": delivery.headers.get("webhook-id"),
        "event": event_of(run),
        "id": run.get("id"),
        "status": run.get("status"),
    }


def _line(data: dict[str, Any]) -> str:
    """One delivery, one line: verified?, event, run id, status."""
    mark = "verified" if data.get("verified") else "NOT VERIFIED"
    fields = (mark, data.get("event"), data.get("id") or "-", data.get("status") or "-")
    reason = f"  ({data['reason']})" if data.get("reason") else ""
    return "  ".join(str(f) for f in fields) + reason


# listen -------------------------------------------------------------------------------


class _Receiver:
    """The HTTP side: each POST is answered at once and handed to the loop's queue."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Delivery], port: int) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = self.headers.get("Content-Length", "")
                if not length.isdigit() or int(length) > MAX_BODY:
                    self.send_error(413 if length.isdigit() else 411)
                    return
                body = self.rfile.read(int(length))
                headers = dict(self.headers.items())
                loop.call_soon_threadsafe(queue.put_nowait, Delivery.of(headers, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: the loop prints
                return

        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise UsageError(
                f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", "try another --port"
            ) from None
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhooks-listen", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def listen(ctx: Context, args: ParsedArgs) -> Result:
    """Receive deliveries on 127.0.0.1:PORT; print, save and forward each."""
    import httpx

    port = args.values.get("port") or 0
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be 0-65535, not {port}")
    count = args.values.get("count")
    if count is not None and count < 1:
        raise UsageError(f"--count must be 1 or more, not {count}")
    forward = args.values.get("forward")
    if forward and not str(forward).startswith(("http://", "https://")):
        raise UsageError(f"--forward needs an http(s) URL, not {forward!r}")
    save = Path(args.values["save"]).expanduser() if args.values.get("save") else None
    tolerance = _tolerance(args)
    secret = await _secret(ctx, args)
    queue: asyncio.Queue[Delivery] = asyncio.Queue()
    receiver = _Receiver(asyncio.get_running_loop(), queue, port)
    receiver.start()
    ctx.out.info(f"listening on http://127.0.0.1:{receiver.port} (Ctrl-C stops)")
    seen: list[dict[str, Any]] = []
    try:
        async with httpx.AsyncClient(timeout=10.0) as relay:  # no token: a relay to the user's own app
            while count is None or len(seen) < count:
                delivery = await queue.get()
                seen.append(await _handle(ctx, delivery, secret, tolerance, save, len(seen) + 1, relay, forward))
    finally:
        receiver.stop()
    return Result(seen, f"{len(seen)} deliveries", bind=True)


async def _handle(
    ctx: Context,
    delivery: Delivery,
    secret: str,
    tolerance: int,
    save: Path | None,
    number: int,
    relay: Any,
    forward: str | None,
) -> dict[str, Any]:
    """One delivery: checked, printed, saved, forwarded."""
    data = _summary(delivery)
    try:
        check(delivery, secret, tolerance)
        data["verified"] = True
    except InvalidDelivery as exc:
        data.update(verified=False, reason=str(exc))
    ctx.out.token(_line(data) + "\n")
    if save is not None:
        data["saved"] = str(_save(save, number, delivery))
    if forward:
        data["forwarded"] = await _forward(ctx, relay, forward, delivery)
    return data


def _save(directory: Path, number: int, delivery: Delivery) -> Path:
    import json

    from rshell import atomic
    from rshell.safepaths import inside, plain_name

    directory.mkdir(parents=True, exist_ok=True)
    name = f"{number:04d}-{plain_name(delivery.headers.get('webhook-id'), 'delivery')}.json"
    path = inside(directory, name)
    atomic.write_text(path, json.dumps(delivery.saved(), indent=2) + "\n")
    return path


async def _forward(ctx: Context, relay: Any, url: str, delivery: Delivery) -> int | str:
    """POST the delivery on, headers and body unchanged; its status, or why it failed."""
    import httpx

    headers = {k: v for k, v in delivery.headers.items() if k in _FORWARDED}
    try:
        response = await relay.post(url, content=delivery.body, headers=headers)
    except httpx.HTTPError as exc:
        ctx.out.info(f"could not forward to {url}: {type(exc).__name__}")
        return type(exc).__name__
    return response.status_code
