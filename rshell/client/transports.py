"""httpx's own transports, one per URL scheme, each made when a request first needs it.

httpx's default transport loads the CA bundle for TLS when the client is built (about
10 ms), before anyone knows whether a request will use TLS. A one-shot against an
`http://` server (the local sandbox) never does, so its transport holds a TLS
context with no certificates loaded: it verifies, and would refuse any TLS peer,
but it is never used, since http:// requests do not do TLS and proxies get
transports of their own from httpx. `https://` requests get httpx's default.
"""

from __future__ import annotations

import ssl

import httpx


class SchemeTransports(httpx.AsyncBaseTransport):
    """httpx's transport per scheme, made on the first request of that scheme."""

    def __init__(self) -> None:
        self._made: dict[str, httpx.AsyncBaseTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme
        transport = self._made.get(scheme)
        if transport is None:
            transport = self._made[scheme] = _transport_for(scheme)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        made, self._made = list(self._made.values()), {}
        for transport in made:
            await transport.aclose()


def _transport_for(scheme: str) -> httpx.AsyncBaseTransport:
    if scheme == "http":
        return httpx.AsyncHTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    return httpx.AsyncHTTPTransport()
