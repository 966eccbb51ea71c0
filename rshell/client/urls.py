"""Base-URL normalisation, shared by the client and the credentials module.

Pure stdlib on purpose: `rshell.session.credentials` imports it on paths (e.g.
`auth status`) that must not pay for httpx.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

DEFAULT_BASE_URL = "https://api.replicate.com/v1"


def normalise_base_url(url: str | None) -> str:
    """The API root ending in `/v1`, whether the user gave it with `/v1` or not.

    The official CLI's REPLICATE_BASE_URL includes `/v1`, the official Python
    client's does not; both forms (with or without a trailing slash) must work.
    """
    text = (url or "").strip()
    if not text:
        return DEFAULT_BASE_URL
    if "://" not in text:
        text = "https://" + text
    text = text.rstrip("/")
    if not text.endswith("/v1"):
        text += "/v1"
    return text


def shown_url(url: str) -> str:
    """The URL fit for a message: no userinfo (`user:password@`), no query string
    (signatures), no fragment."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{netloc_of(url)}{parts.path}" if parts.scheme else url


def web_url(base_url: str, *segments: str) -> str:
    """The website page of an object, for `--web` where the API gives no URL: on
    replicate.com for the real API, else on the API host itself (as the sandbox's
    own `urls.web` are)."""
    parts = urlsplit(normalise_base_url(base_url))
    if (parts.hostname or "").lower() == "api.replicate.com":
        origin = "https://replicate.com"
    else:
        origin = f"{parts.scheme}://{netloc_of(parts.geturl())}"
    return "/".join([origin, *(quote(s, safe="") for s in segments)])


def netloc_of(url: str) -> str:
    """`host[:port]` of a URL, lower-cased, never `user:password@`: what requests must
    match to get the token, and what messages, the banner and the toolbar show."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:  # a port that is not a number: show the host alone
        port = None
    if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)):
        return host
    return f"{host}:{port}"


def scope_of(base_url: str) -> str:
    """The session scope of an API host: "" for the real API, else the host as a plain
    folder name (`--local` uses "local", whatever its port)."""
    host = urlsplit(base_url).netloc.lower() if base_url else ""
    if host in ("", "api.replicate.com"):
        return ""
    return "host-" + "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in host)
