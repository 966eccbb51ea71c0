"""Files: multipart uploads streamed from disk with the right fields, and downloads
streamed to disk that never leave a half-written file behind."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import api_fixtures as fx
import httpx
import pytest
import respx

from rshell.client.api import ReplicateClient
from rshell.client.transfer import filename_from_disposition, filename_from_url
from rshell.errors import ApiError, NetworkError, UsageError

BASE = fx.BASE
TOKEN = "r8_fake-filestesttoken"


class StreamingSink(httpx.AsyncBaseTransport):
    """Consumes an upload chunk by chunk, as a socket would, and answers 201."""

    def __init__(self, keep: bool = False) -> None:
        self.keep = keep
        self.total = 0
        self.largest_chunk = 0
        self.body = b""
        self.request: httpx.Request | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.request = request
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for chunk in request.stream:
            self.total += len(chunk)
            self.largest_chunk = max(self.largest_chunk, len(chunk))
            if self.keep:
                self.body += chunk
        return httpx.Response(201, json=fx.file(), request=request)


def upload(sink: StreamingSink, path: Path, **kwargs: Any) -> Any:
    async def main() -> Any:
        async with ReplicateClient(TOKEN, BASE, transport=sink) as client:
            return await client.files_create(path, **kwargs)

    return asyncio.run(main())


def form_fields(request: httpx.Request, body: bytes) -> dict[str, tuple[str | None, str | None, bytes]]:
    """name → (filename, content type, payload) of a multipart/form-data body."""
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = email.message_from_bytes(head + body, policy=email.policy.HTTP)
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[name] = (part.get_filename(), part.get("Content-Type"), part.get_payload(decode=True))
    return fields


def test_upload_fields_content_filename_type_metadata(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG fake image bytes")
    sink = StreamingSink(keep=True)
    result = upload(sink, path, metadata={"customer_reference_id": 123})
    assert sink.request is not None
    assert sink.request.method == "POST" and str(sink.request.url) == f"{BASE}/files"
    assert sink.request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert sink.request.headers["Authorization"] == f"Bearer {TOKEN}"
    fields = form_fields(sink.request, sink.body)
    assert fields["content"] == ("photo.png", "image/png", b"\x89PNG fake image bytes")
    assert fields["filename"][2] == b"photo.png"
    assert fields["type"][2] == b"image/png"
    assert json.loads(fields["metadata"][2]) == {"customer_reference_id": 123}
    assert result.id == fx.FILE_ID and result.urls.get == f"{BASE}/files/{fx.FILE_ID}"


def test_upload_explicit_type_and_unknown_extension(tmp_path: Path) -> None:
    odd = tmp_path / "weights.safetensorsx"
    odd.write_bytes(b"w")
    sink = StreamingSink(keep=True)
    upload(sink, odd)
    assert sink.request is not None
    assert form_fields(sink.request, sink.body)["type"][2] == b"application/octet-stream"
    sink = StreamingSink(keep=True)
    upload(sink, odd, content_type="application/x-custom")
    assert sink.request is not None
    assert form_fields(sink.request, sink.body)["content"][1] == "application/x-custom"


def test_upload_streams_a_large_file_in_bounded_memory(tmp_path: Path) -> None:
    size = 48 * 1024 * 1024
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(size)  # sparse: quick to make, still 48 MiB to read
    sink = StreamingSink()
    tracemalloc.start()
    try:
        upload(sink, big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.total > size  # the whole file went out, plus the multipart framing
    assert sink.request is not None and int(sink.request.headers["Content-Length"]) == sink.total
    assert sink.largest_chunk <= 1024 * 1024
    assert peak < 8 * 1024 * 1024, f"upload held {peak} bytes at once"


def test_upload_missing_file_is_usage_error_before_sending(tmp_path: Path) -> None:
    sink = StreamingSink()
    with pytest.raises(UsageError) as caught:
        upload(sink, tmp_path / "nope.png")
    assert "nope.png" in caught.value.message
    assert sink.request is None


def test_upload_too_large_413_detail() -> None:
    with respx.mock() as mock:
        mock.post(f"{BASE}/files").respond(413, json={"detail": "Files must be less than 100MB in size"})

        async def main(path: Path) -> None:
            async with ReplicateClient(TOKEN, BASE, max_retries=0) as client:
                await client.files_create(path)

        with pytest.raises(ApiError) as caught:
            asyncio.run(main(Path(__file__)))
    assert caught.value.message == "API error 413: Files must be less than 100MB in size"


def test_upload_429_retry_resends_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello file")
    bodies: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        if len(bodies) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(201, json=fx.file())

    async def nap(seconds: float) -> None:
        return None

    async def main() -> None:
        async with ReplicateClient(TOKEN, BASE, sleep=nap) as client:
            await client.files_create(path)

    with respx.mock() as mock:
        mock.post(f"{BASE}/files").mock(side_effect=answer)
        asyncio.run(main())
    assert len(bodies) == 2
    assert all(b'filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello file\r\n' in body for body in bodies)


def test_files_list_get_delete() -> None:
    with respx.mock() as mock:
        mock.get(f"{BASE}/files").respond(200, json=fx.page([fx.file()]))
        mock.get(f"{BASE}/files/{fx.FILE_ID}").respond(200, json=fx.file())
        deleted = mock.delete(f"{BASE}/files/{fx.FILE_ID}").respond(204)
        mock.get(f"{BASE}/files/gone").respond(404, json={"detail": "File not found"})

        async def main() -> list[Any]:
            async with ReplicateClient(TOKEN, BASE) as client:
                page = await client.files_list()
                got = await client.files_get(fx.FILE_ID)
                await client.files_delete(fx.FILE_ID)
                try:
                    await client.files_get("gone")
                except ApiError as exc:
                    return [page.results[0].checksums["sha256"], got.size, exc.message]
                return []

        found = asyncio.run(main())
    assert found[1:] == [69420, "API error 404: File not found"]  # the server's words (issue 19.2)
    assert found[0].startswith("f047f8") and deleted.called


# ------------------------------------------------------------------------- downloads


class Chunks(httpx.AsyncByteStream):
    def __init__(self, parts: list[bytes], fail: bool = False) -> None:
        self.parts = parts
        self.fail = fail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part
        if self.fail:
            raise httpx.ReadError("connection reset")


def download(url: str, dest: Path, **kwargs: Any) -> Path:
    async def main() -> Path:
        async with ReplicateClient(TOKEN, BASE, max_retries=0) as client:
            return await client.download(url, dest, **kwargs)

    return asyncio.run(main())


def test_download_writes_streamed_chunks(tmp_path: Path) -> None:
    url = "https://replicate.delivery/pbxt/abc/out-0.png"
    with respx.mock() as mock:
        mock.get(url).mock(return_value=httpx.Response(200, stream=Chunks([b"a" * 1000, b"b" * 1000])))
        written = download(url, tmp_path / "out.png")
    assert written == tmp_path / "out.png"
    assert written.read_bytes() == b"a" * 1000 + b"b" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_failed_download_leaves_no_file(tmp_path: Path) -> None:
    url = "https://replicate.delivery/pbxt/abc/out-0.png"
    with respx.mock() as mock:
        mock.get(url).mock(return_value=httpx.Response(200, stream=Chunks([b"partial"], fail=True)))
        with pytest.raises(NetworkError):
            download(url, tmp_path / "out.png")
    assert list(tmp_path.iterdir()) == []


def test_failed_download_keeps_an_existing_file_intact(tmp_path: Path) -> None:
    url = "https://replicate.delivery/x.txt"
    target = tmp_path / "x.txt"
    target.write_bytes(b"old")
    with respx.mock() as mock:
        mock.get(url).mock(return_value=httpx.Response(200, stream=Chunks([b"new"], fail=True)))
        with pytest.raises(NetworkError):
            download(url, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_download_404_writes_nothing(tmp_path: Path) -> None:
    url = "https://replicate.delivery/missing.png"
    with respx.mock() as mock:
        mock.get(url).respond(404, text="Not Found")
        with pytest.raises(ApiError):
            download(url, tmp_path / "m.png")
    assert list(tmp_path.iterdir()) == []


def test_download_into_a_directory_uses_a_safe_url_name(tmp_path: Path) -> None:
    url = "https://replicate.delivery/pbxt/abc/..%2F..%2Fevil.sh"
    with respx.mock() as mock:
        mock.get(url).respond(200, content=b"#!")
        written = download(url, tmp_path)
    assert written.parent == tmp_path and written.name == "evil.sh"


def test_download_follows_redirects_without_leaking_the_token(tmp_path: Path) -> None:
    first = f"{BASE}/files/f1/download"
    final = "https://cdn.example.test/blob"
    with respx.mock() as mock:
        start = mock.get(first).respond(302, headers={"Location": final})
        end = mock.get(final).respond(200, content=b"data")
        download(first, tmp_path / "f")
    assert start.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in end.calls.last.request.headers
    assert (tmp_path / "f").read_bytes() == b"data"


def test_files_download_path_params_and_disposition_name(tmp_path: Path) -> None:
    url = f"{BASE}/files/{fx.FILE_ID}/download"
    with respx.mock() as mock:
        route = mock.get(url).respond(
            200, content=b"zip!", headers={"Content-Disposition": 'attachment; filename="model weights.zip"'}
        )

        async def main() -> Path:
            async with ReplicateClient(TOKEN, BASE) as client:
                return await client.files_download(
                    fx.FILE_ID, tmp_path, owner="alice", expiry=1708515345, signature="c2ln"
                )

        written = asyncio.run(main())
    params = route.calls.last.request.url.params
    assert (params["owner"], params["expiry"], params["signature"]) == ("alice", "1708515345", "c2ln")
    assert written == tmp_path / "model_weights.zip" and written.read_bytes() == b"zip!"  # made plain


def test_downloaded_file_mode_follows_umask(tmp_path: Path) -> None:
    url = "https://replicate.delivery/a.txt"
    with respx.mock() as mock:
        mock.get(url).respond(200, content=b"x")
        written = download(url, tmp_path / "a.txt")
    umask = os.umask(0)
    os.umask(umask)
    assert written.stat().st_mode & 0o777 == 0o666 & ~umask


def test_safe_names() -> None:
    assert filename_from_url("https://x.test/../../etc/passwd") == "passwd"
    assert filename_from_url("https://x.test/..") == "download"
    assert filename_from_url("https://x.test/a%1b[31mb.png") == "a_31mb.png"
    assert filename_from_disposition('attachment; filename="../x.png"') == "x.png"
    assert filename_from_disposition(None) is None
