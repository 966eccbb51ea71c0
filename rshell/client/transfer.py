"""Moving file bytes between disk and the network without holding them in memory.

Uploads hand httpx an open file object (it reads 64 KiB chunks as it sends).
Downloads write chunks to a hidden temporary file beside the destination and rename
it into place only when complete, so an error or Ctrl-C never leaves a half-written
file under the real name.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from rshell.atomic import replacing
from rshell.safepaths import inside, plain_name

DEFAULT_CONTENT_TYPE = "application/octet-stream"


def guess_content_type(path: Path) -> str:
    """The MIME type from the file name, as the Files API's `type` field wants."""
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or DEFAULT_CONTENT_TYPE


def filename_from_url(url: str, fallback: str = "download") -> str:
    """The URL path's last component, made plain (the query string never names it)."""
    return plain_name(unquote(urlsplit(url).path), fallback)


def filename_from_disposition(value: str | None) -> str | None:
    """The `filename=` of a Content-Disposition header, made safe; None when absent."""
    if not value:
        return None
    match = re.search(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", value, re.IGNORECASE)
    return plain_name(unquote(match.group(1)), "download") if match else None


def upload_parts(
    handle: IO[bytes],
    path: Path,
    content_type: str | None,
    metadata: dict[str, Any] | None,
    filename: str | None = None,
) -> tuple[dict[str, str], dict[str, tuple[str, IO[bytes], str]]]:
    """The multipart `data` and `files` of POST /files: content, filename, type, metadata."""
    kind = content_type or guess_content_type(path)
    name = (filename or path.name)[:255]
    data = {"filename": name, "type": kind, "metadata": json.dumps(metadata or {})}
    files = {"content": (name, handle, kind)}
    return data, files


def resolve_destination(dest: Path, suggested: str) -> Path:
    """`dest` itself, or `dest/suggested` (made plain, kept inside) when dest is a directory."""
    return inside(dest, plain_name(suggested, "download"), follow=False) if dest.is_dir() else dest


async def write_atomically(chunks: AsyncIterator[bytes], dest: Path) -> Path:
    """Stream chunks into a temp file in dest's directory, then rename it to dest."""
    with replacing(dest, suffix=".part") as out:
        async for chunk in chunks:
            out.write(chunk)
    return dest
