"""The client's TLS stays verified though its CA bundle is loaded only for https://.

A real TLS server on 127.0.0.1 with a self-signed certificate (made by `openssl`):
the client refuses it, and trusts it once `SSL_CERT_FILE` names it, as httpx's
default transport does. A plain http:// API answers through a transport that never
loads the bundle.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from needs import unavailable

from rshell.client.api import ReplicateClient
from rshell.errors import NetworkError


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello over tls"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An https:// URL on 127.0.0.1 and the self-signed certificate it presents."""
    if shutil.which("openssl") is None:
        unavailable("needs the openssl command", "apt-get install openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/hello", cert
    finally:
        server.shutdown()
        server.server_close()


async def _fetch(url: str) -> bytes:
    async with ReplicateClient("r8_token", "http://127.0.0.1:9/v1", max_retries=0) as client:
        return await client.fetch_bytes(url, 1024)


def test_an_untrusted_certificate_is_refused(tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, _cert = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with pytest.raises(NetworkError):
        asyncio.run(_fetch(url))


def test_https_uses_the_default_trust_settings(tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert asyncio.run(_fetch(url)) == b"hello over tls"


def test_plain_http_api_answers(sandbox) -> None:
    async def hardware() -> list[str]:
        async with ReplicateClient(sandbox.token, sandbox.url) as client:
            return [item.sku for item in await client.hardware_list()]

    assert "cpu" in asyncio.run(hardware())
