"""`preview EXPR` draws an image in the terminal; `open EXPR` hands a file to the
system viewer. EXPR is an output URL, a saved file's path, or a result (`_`, `img`,
`img.output[1]`) whose first image is meant. After a `run` of an image model in the
shell, `offer` says so in one line, or draws it (`set preview auto`).

Everything fetched goes through the client (the token only to the API host) with a
size cap, and is decoded as an image before a byte of it reaches the terminal.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from rshell.commands.context import Result
from rshell.errors import RshellError, UsageError

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context

HINT = "preview _ draws it here; open _ shows it in your image viewer"


class Source(msgspec.Struct, frozen=True):
    """Where the file is: a URL (http(s) or data:) or a local path; `name` for messages."""

    name: str
    url: str | None = None
    path: Path | None = None


async def preview(ctx: Context, args: ParsedArgs) -> Result:
    """Draw the image on this terminal (checked before anything is fetched)."""
    if not ctx.out.stdout_tty:
        raise UsageError("preview draws on a terminal, and stdout is not one", "`open EXPR` uses the system viewer")
    if os.environ.get("TERM", "") == "dumb":
        raise UsageError("this terminal (TERM=dumb) cannot draw images", "`open EXPR` uses the system viewer")
    expr = args.values.get("expr") or "_"
    from rshell.rendering.contact import is_sweep

    swept = _bound(ctx, expr.strip()) if not expr.startswith(("http://", "https://", "data:")) else None
    if is_sweep(swept):
        await show_sheet(ctx, swept)
        return Result(text="", bind=False)
    source = locate(ctx, expr)
    await show_image(ctx, source)
    return Result(text="", bind=False)


async def show_sheet(ctx: Context, runs: list[dict[str, Any]]) -> None:
    """A sweep's first images as one contact sheet, its varied inputs under each."""
    from rshell.downloads import is_file_url
    from rshell.rendering.contact import contact_sheet
    from rshell.rendering.images import MAX_BYTES, decode, draw

    cells = []
    for run in runs:
        label = [f"{k}={v}" for k, v in run["input"].items()]
        found = first_file(run.get("output")) if run.get("status") == "succeeded" else None
        picture = None
        if found is not None and is_file_url(found):
            source = Source(name=found, url=found)
            picture = decode(await read(ctx, source, MAX_BYTES), source.name)
        cells.append((picture, label))
    ctx.out.stdout.flush()
    draw(contact_sheet(cells), ctx.out.stdout)


async def show_image(ctx: Context, source: Source, rows: int | None = None) -> None:
    """Draw the file, fitted to the screen (or to `rows` lines, never enlarged past them)."""
    from rshell.rendering.images import MAX_BYTES, decode, draw

    image = decode(await read(ctx, source, MAX_BYTES), source.name)
    ctx.out.stdout.flush()
    draw(image, ctx.out.stdout, rows=rows, columns=None if rows is None else rows * 2)


async def open_(ctx: Context, args: ParsedArgs) -> Result:
    """The system viewer for the file (a URL is downloaded to the cache first); the
    path is printed when there is no viewer to hand it to."""
    source = locate(ctx, args.values.get("expr") or "_")
    path = source.path or await _download(ctx, source)
    viewer = _viewer()
    if viewer is None:
        ctx.out.info("no system viewer here (xdg-open needs a display); the file is at:")
        return Result(data=str(path), text=str(path), bind=False)
    subprocess.Popen(  # detached: the viewer must not take the terminal or outlive a Ctrl-C of ours
        [viewer, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    ctx.out.info(f"opened {path}")
    return Result(bind=False)


# where the file is ---------------------------------------------------------------------


def locate(ctx: Context, expr: str) -> Source:
    """An output URL as it is; a defined result's first image (or file) URL; else a path."""
    from rshell.downloads import is_file_url, shown

    expr = expr.strip()
    if not is_file_url(expr):
        value = _bound(ctx, expr)
        if value is not None:
            found = first_file(value)
            if found is None or not is_file_url(found):  # a result's text is the server's: never a local path to open
                raise UsageError(
                    f"'{expr}' holds no image or file URL", "preview a URL, a saved file or an image result"
                )
            expr = found
    if is_file_url(expr):
        if not expr.startswith("data:") and not _host(expr):
            raise UsageError(f"{shown(expr)} names no host", "give the whole URL, e.g. https://host/out.png")
        return Source(name=shown(expr), url=expr)
    path = Path(expr).expanduser()
    if not path.is_file():
        raise UsageError(
            f"no such file or result: {expr}",
            "give an output URL, a saved file's path or a named result (`vars` lists them)",
        )
    return Source(name=str(path), path=path)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # a port that is not a number, say
        return ""


def _bound(ctx: Context, expr: str) -> Any:
    """The value `expr` names when it is a defined result (`_`, `img.output[0]`, `.x`
    when something was piped in); None when it names none (then it may be a path)."""
    from rshell.errors import ParseError
    from rshell.grammar.templates import parse_ref, resolve

    try:
        ref = parse_ref(expr)
    except ParseError:
        return None
    if ref.name is None:
        return None if ctx.piped is None else resolve(ref, lambda _name: ctx.piped)
    defined = ctx.session.defines(ref.name)
    return resolve(ref, lambda name: ctx.session.lookup(name or "_")) if defined else None


def first_file(value: Any) -> str | None:
    """A string as it is; else the first image URL in it (a prediction's output first),
    else its first file URL."""
    from rshell.downloads import find_file_urls
    from rshell.rendering.images import looks_like_image

    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "output" in value:
        value = value["output"]
    urls = find_file_urls(value)
    return next((u for u in urls if looks_like_image(u)), urls[0] if urls else None)


def image_urls(prediction: Any) -> list[str]:
    """The image URLs among a prediction's outputs."""
    from rshell.downloads import find_file_urls
    from rshell.rendering.images import looks_like_image

    output = prediction.get("output") if isinstance(prediction, dict) else None
    return [u for u in find_file_urls(output) if looks_like_image(u)]


async def read(ctx: Context, source: Source, limit: int) -> bytes:
    """The file's bytes, at most `limit` of them."""
    if source.path is not None:
        _check_size(source, source.path.stat().st_size, limit)
        return source.path.read_bytes()
    url = source.url or ""
    if url.startswith("data:"):
        data = _inline(source)
        _check_size(source, len(data), limit)
        return data
    client = await ctx.client()
    return await client.fetch_bytes(url, limit)


def _check_size(source: Source, size: int, limit: int) -> None:
    if size > limit:
        raise RshellError(f"{source.name} is too large to preview ({size} bytes; the limit is {limit})")


def _inline(source: Source) -> bytes:
    """The bytes of a data: URL; a damaged one is the user's input to fix."""
    from rshell import dataurls

    try:
        return dataurls.decode(source.url or "")
    except dataurls.DataURLError as exc:
        raise UsageError(f"{source.name}: {exc}") from None


async def _download(ctx: Context, source: Source) -> Path:
    """A URL's file in rshell's cache folder (`open` needs a path), named safely."""
    import tempfile

    from platformdirs import user_cache_dir

    from rshell.downloads import safe_name, write_new

    url = source.url or ""
    folder = Path(user_cache_dir("rshell")) / "open"
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder)
    if url.startswith("data:"):
        data = _inline(source)
        return write_new(folder, safe_name(url, 0), data)
    client = await ctx.client()
    return await client.download(url, Path(tempfile.mkdtemp(dir=folder)))


OPEN_KEPT = 20  # files `open` keeps in its cache: a viewer may still be reading the last few


def _prune(folder: Path, keep: int = OPEN_KEPT) -> None:
    """Leave room for one more file among the `keep` newest: each `open` of a URL
    adds one, and without this the cache grows for ever. Best effort: another rshell
    may be pruning too."""
    entries = []
    for entry in folder.iterdir():
        with contextlib.suppress(OSError):
            entries.append((entry.lstat().st_mtime, entry))
    entries.sort(reverse=True)
    for _, old in entries[keep - 1 :]:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                old.unlink()


def _viewer() -> str | None:
    """`open` on macOS, `xdg-open` on a Linux desktop; None without one."""
    if sys.platform == "darwin":
        return shutil.which("open")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    return shutil.which("xdg-open")


# after a run --------------------------------------------------------------------------


AUTO_ROWS = 12  # `set preview auto`: a glance that leaves the run's own lines in view; `preview _` fills the screen


def offers(ctx: Context, prediction: Any) -> bool:
    """Whether `offer` will say or draw anything: an image result shown on a terminal
    that can draw it (no hint under TERM=dumb, where `preview _` cannot)."""
    if str(ctx.session.options.get("preview", "hint")) == "off" or not image_urls(prediction):
        return False
    drawable = ctx.out.stdout_tty and os.environ.get("TERM", "") != "dumb"
    return bool(ctx.interactive and ctx.shown and drawable)


async def offer(ctx: Context, prediction: Any, *, draw: bool = True) -> None:
    """After a run of an image model in the shell: a one-line hint, or the image itself
    with `set preview auto` (a preview that fails only says why; the run succeeded).
    `draw=False` (the result prints as JSON) keeps stdout for the JSON: a hint only.
    A stage before a pipeline's last says nothing: its result is the next one's input."""
    if not offers(ctx, prediction):
        return
    if str(ctx.session.options.get("preview", "hint")) != "auto" or not draw:
        ctx.out.info(HINT)
        return
    try:
        await show_image(ctx, locate(ctx, image_urls(prediction)[0]), rows=AUTO_ROWS)
    except RshellError as error:
        ctx.out.info(f"no preview: {error.message}")
