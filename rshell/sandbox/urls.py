"""URLs that survive a restart on another port.

The sandbox stores its own URLs (output files, uploaded files given as inputs) with
the origin replaced by the marker `sandbox://`, and puts back the origin the client
used when it renders a response. So a prediction saved on port 8001 still has working
file links after `rshell serve` restarts on port 8002.
"""

from __future__ import annotations

from typing import Any

MARKER = "sandbox://"


def internalise(value: Any, origins: tuple[str, ...]) -> Any:
    """Replace any of our `origins` at the start of strings inside `value` by the marker."""
    if isinstance(value, str):
        for origin in origins:
            if origin and value.startswith(origin + "/"):
                return MARKER + value[len(origin) + 1 :]
        return value
    if isinstance(value, list):
        return [internalise(v, origins) for v in value]
    if isinstance(value, dict):
        return {k: internalise(v, origins) for k, v in value.items()}
    return value


def publicise(value: Any, origin: str) -> Any:
    """Turn markers back into absolute URLs on `origin` (e.g. `http://127.0.0.1:8000`)."""
    if isinstance(value, str):
        return origin + "/" + value[len(MARKER) :] if value.startswith(MARKER) else value
    if isinstance(value, list):
        return [publicise(v, origin) for v in value]
    if isinstance(value, dict):
        return {k: publicise(v, origin) for k, v in value.items()}
    return value


def local_path(url: str, origins: tuple[str, ...]) -> str | None:
    """The path part of one of our URLs (`/v1/files/x`), or None for a foreign URL."""
    if url.startswith(MARKER):
        return "/" + url[len(MARKER) :]
    for origin in origins:
        if origin and url.startswith(origin + "/"):
            return url[len(origin) :]
    return None
