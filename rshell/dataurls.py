"""`data:` URLs, made and read one way everywhere: the client inlining `@file` inputs
and saving outputs, the sandbox reading inputs and passing files to and from Cog.

Strict on purpose: base64 with characters outside the alphabet (`;base64,!!!`) is an
error, never the empty bytes a lenient decoder makes of it, so a damaged file is
reported instead of saved (or run) as an empty one.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote, unquote_to_bytes


class DataURLError(ValueError):
    """A `data:` URL that cannot be decoded; the message says why, in a few words."""


def decode(url: str) -> bytes:
    """The payload of a `data:` URL, base64 (whitespace, percent-escapes and missing
    padding tolerated, as browsers do) or percent-encoded."""
    header, sep, payload = url.partition(",")
    if not header.startswith("data:") or not sep:
        raise DataURLError("not a data: URL")
    if not header.endswith(";base64"):
        return unquote_to_bytes(payload)
    text = "".join(unquote(payload).split())
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise DataURLError("invalid base64") from None
    if text and not data:  # only padding: nothing a file could be
        raise DataURLError("invalid base64")
    return data


def encode(data: bytes, media: str) -> str:
    """`data:<media>;base64,…`: what `decode` reads back byte for byte."""
    return f"data:{media};base64,{base64.b64encode(data).decode('ascii')}"


def media_type(url: str) -> str:
    """The URL's media type without parameters; `text/plain` when it names none (RFC 2397)."""
    header = url[5:].split(",", 1)[0]
    return header.split(";", 1)[0] or "text/plain"
