"""`--save`: every file a prediction produced, downloaded into one directory.

Names come from URLs a model controls, so they are reduced to a safe basename by
`safepaths.plain_name` (no path traversal, no hidden files, nothing from query
strings), and a name already on disk is never overwritten: `name-1.ext`,
`name-2.ext`, … instead. Each file is written to a hidden temp file and appears
under its name only when complete (`atomic.publish`): a killed run leaves no empty
or short file that looks saved, and the next save into the folder sweeps its temps.
Downloads run a few at a time and stream to disk through the
client; data: URLs are decoded locally, strictly (`rshell.dataurls`): one that does
not decode is that output's failure, never an empty file counted as saved.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import msgspec

from rshell import atomic, dataurls
from rshell.errors import RshellError
from rshell.safepaths import inside, plain_name

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient

CONCURRENCY = 4


class SaveReport(msgspec.Struct):
    """What --save did: files written (in output order) and downloads that failed."""

    saved: list[Path] = msgspec.field(default_factory=list)
    failed: list[tuple[str, str]] = msgspec.field(default_factory=list)  # (url shown, why)
    renamed: list[tuple[str, Path]] = msgspec.field(
        default_factory=list
    )  # (the name already taken, where it went instead)


def is_file_url(value: Any) -> bool:
    """An output value that names a file: an http(s) or data: URL (what --save
    downloads, what a summary prints one per line, what `preview` opens)."""
    return isinstance(value, str) and value.startswith(("http://", "https://", "data:"))


def find_file_urls(output: Any) -> list[str]:
    """Every file URL anywhere in `output` (nested lists and dicts), first seen first."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if is_file_url(value):
            if value not in found:
                found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(output)
    return found


def safe_name(url: str, index: int) -> str:
    """The file name to save `url` under; `output-<index>` when the URL names none."""
    if url.startswith("data:"):
        name = ""
        ext = mimetypes.guess_extension(dataurls.media_type(url)) or ""
    else:
        path = urlsplit(url).path  # the query string never names the file
        name = plain_name(unquote(path))
        ext = mimetypes.guess_extension(mimetypes.guess_type(path)[0] or "") or ""
    return name or f"output-{index}{ext}"


def default_directory(prediction_id: object, cwd: Path | None = None) -> Path:
    """Where --save writes without --output-directory: `./<id>`, the id made plain
    (a server chose it: `../../x` or `/abs/path` must not leave the working directory)."""
    return inside(cwd or Path.cwd(), plain_name(prediction_id, "prediction"))


def write_new(directory: Path, name: str, data: bytes) -> Path:
    """`data` as a new file `directory/name` (or `stem-1.ext`, … if taken), complete
    before it has a name."""
    tmp = atomic.temp_beside(directory, name)
    try:
        tmp.write_bytes(data)
        return atomic.publish(tmp, names_in(directory, name))
    except OSError as error:
        raise atomic.failure(directory / name, error) from None
    finally:
        tmp.unlink(missing_ok=True)


def shown(url: str) -> str:
    """A URL fit for a message: data: URLs shortened, query strings (signatures) dropped."""
    if url.startswith("data:"):
        return f"data:{dataurls.media_type(url)} URL"
    from rshell.client.urls import shown_url

    return shown_url(url)


def text_output(output: Any, concatenate: bool) -> str | None:
    """The text to write to output.txt: a plain string, or a joined text iterator."""
    if isinstance(output, str) and not is_file_url(output):
        return output
    texts = concatenate and isinstance(output, list) and output and all(isinstance(v, str) for v in output)
    if texts and not all(is_file_url(v) for v in output):
        return "".join(output)
    return None


def needs_json(output: Any) -> bool:
    """Structured output (anything but text or a list of file URLs) goes to output.json."""
    if output is None or isinstance(output, str):
        return False
    return not (isinstance(output, list) and output and all(is_file_url(v) for v in output))


def names_in(directory: Path, name: str) -> Iterator[Path]:
    """`directory/name`, then `stem-1.ext`, `stem-2.ext`, …: where a new file may go."""
    stem, suffix = os.path.splitext(name)
    attempt = 0
    while True:
        yield inside(directory, name if attempt == 0 else f"{stem}-{attempt}{suffix}", follow=False)
        attempt += 1


def _planned(directory: Path, names: list[str]) -> list[str]:
    """Each output's name, free on disk and distinct from the others', in output order
    (a name taken meanwhile by someone else moves on at publish time)."""
    taken: set[str] = set()
    planned = []
    for name in names:
        free = next(p.name for p in names_in(directory, name) if p.name not in taken and not p.exists())
        taken.add(free)
        planned.append(free)
    return planned


async def _fetch(client: ReplicateClient, url: str, directory: Path, name: str) -> Path:
    """Download `url` beside its final name, then publish it there once complete."""
    tmp = atomic.temp_beside(directory, name)
    try:
        if url.startswith("data:"):
            tmp.write_bytes(dataurls.decode(url))
        else:
            await client.download(url, tmp)
        return atomic.publish(tmp, names_in(directory, name))
    except OSError as error:
        raise atomic.failure(directory / name, error) from None
    finally:
        tmp.unlink(missing_ok=True)


def _failure(index: int, url: str, exc: Exception) -> tuple[str, str]:
    """(what failed, why) for the report: a data: URL has no name, so its output number."""
    if isinstance(exc, dataurls.DataURLError):
        return f"output {index}", f"bad data URL ({exc})"
    return shown(url), exc.message if isinstance(exc, RshellError) else str(exc)


async def save_outputs(
    client: ReplicateClient,
    output: Any,
    directory: Path,
    *,
    concatenate: bool = False,
    limit: int = CONCURRENCY,
    on_saved: Callable[[Path], None] | None = None,
) -> SaveReport:
    """Download every file URL in `output` into `directory`, and write its text or
    JSON beside them; failures are reported, not raised, so the others still land."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise atomic.failure(directory, error) from None
    directory = directory.resolve()
    atomic.sweep(directory)
    report = SaveReport()
    urls = find_file_urls(output)
    wanted = [safe_name(url, i) for i, url in enumerate(urls)]
    names = _planned(directory, wanted)
    gate = asyncio.Semaphore(max(1, limit))
    results: list[Path | None] = [None] * len(urls)

    async def one(i: int) -> None:
        async with gate:
            try:
                saved = await _fetch(client, urls[i], directory, names[i])
            except (RshellError, OSError, ValueError) as exc:
                report.failed.append(_failure(i, urls[i], exc))
                return
            results[i] = saved
            if on_saved is not None:
                on_saved(saved)

    await asyncio.gather(*(one(i) for i in range(len(urls))))
    report.saved = [p for p in results if p is not None]
    report.renamed = [(name, p) for name, p in zip(wanted, results, strict=True) if p is not None and p.name != name]
    _write_structured(output, directory, concatenate, report, on_saved)
    return report


def _write_structured(
    output: Any, directory: Path, concatenate: bool, report: SaveReport, on_saved: Callable[[Path], None] | None
) -> None:
    text = text_output(output, concatenate)
    if text is not None:
        name, data = "output.txt", text
    elif needs_json(output):
        name, data = "output.json", json.dumps(output, indent=2, ensure_ascii=False) + "\n"
    else:
        return
    path = write_new(directory, name, data.encode("utf-8"))
    if path.name != name:
        report.renamed.append((name, path))
    report.saved.append(path)
    if on_saved is not None:
        on_saved(path)
