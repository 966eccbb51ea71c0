"""The Files API (multipart upload, list, get, delete, download) and output delivery.

Uploads stream to disk in chunks and are refused with 413 as soon as they pass the
configured size, so memory never grows with a file. Output files of predictions are
served without auth at /delivery/{id}/{filename}, as Replicate's delivery URLs are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import time
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from rshell import atomic
from rshell.sandbox import ids, render
from rshell.sandbox.catalog import OWNER
from rshell.sandbox.pagination import Newest, page
from rshell.sandbox.problems import Problem, invalid, not_found
from rshell.sandbox.web import empty, origin, param, reply, sandbox

CHUNK = 1 << 20
FORM_OVERHEAD = 1 << 20  # room for the multipart framing and small fields
EXPIRY_SECONDS = 24 * 3600
MAX_METADATA = 64 * 1024


def _too_large(limit: int) -> Problem:
    return Problem(413, f"file is larger than the sandbox's limit of {limit} bytes")


async def files_create(request: Request) -> JSONResponse:
    box = sandbox(request)
    limit = box.max_file_size
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + FORM_OVERHEAD:
        raise _too_large(limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Problem(415, "upload files as multipart/form-data with a `content` part")
    # two file parts: the official JS client sends `metadata` as a JSON blob part
    async with request.form(max_files=2, max_fields=10) as form:
        upload = form.get("content")
        if not isinstance(upload, UploadFile):
            raise invalid("content: a file part named `content` is required")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        meta = form.get("metadata")
        if isinstance(meta, UploadFile):
            raw = await meta.read(MAX_METADATA + 1)
            if len(raw) > MAX_METADATA:
                raise invalid(f"metadata: at most {MAX_METADATA} bytes")
            fields["metadata"] = raw.decode("utf-8", "replace")
        record = _describe(upload, fields)
        size, digest = await _save(upload, box.store.blob_path(record["id"]), limit)
    record.update(size=size, sha256=digest)
    box.store.put("files", record["id"], record)
    return reply(_view(box, record, origin(request)), 201)


def _describe(upload: UploadFile, fields: dict[str, str]) -> dict[str, Any]:
    """The new file's record (without size and checksum) from the form's fields."""
    name = fields.get("filename") or upload.filename or "file"
    if len(name) > 255:
        raise invalid("filename: at most 255 characters")
    content_type = (
        fields.get("type") or upload.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    )
    try:
        metadata = json.loads(fields.get("metadata") or "{}")
    except ValueError:
        raise invalid("metadata: must be a JSON object") from None
    if not isinstance(metadata, dict):
        raise invalid("metadata: must be a JSON object")
    created = ids.now()
    return {
        "id": ids.new_id(),
        "name": name,
        "content_type": content_type,
        "metadata": metadata,
        "created_at": ids.iso(created),
        "expires_at": ids.later(EXPIRY_SECONDS),
    }


async def _save(upload: UploadFile, dest: Any, limit: int) -> tuple[int, str]:
    """Copy the upload to `dest` atomically, chunk by chunk; 413 past `limit`."""
    digest, size = hashlib.sha256(), 0
    with atomic.replacing(dest) as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _file(request: Request) -> dict[str, Any]:
    record = sandbox(request).store.snapshot("files", param(request, "file_id"))
    if record is None:
        raise not_found("file", param(request, "file_id"))
    return record


async def files_list(request: Request) -> JSONResponse:
    box, here = sandbox(request), origin(request)
    return reply(page(request, Newest(box.store, "files"), lambda f: _view(box, f, here)))


async def files_get(request: Request) -> JSONResponse:
    return reply(_view(sandbox(request), _file(request), origin(request)))


async def files_delete(request: Request) -> Response:
    record = _file(request)
    box = sandbox(request)
    box.store.delete("files", record["id"])
    box.store.delete_blob(record["id"])
    return empty(204)


def signature(secret: str, owner: str, file_id: str, expiry: int) -> str:
    """base64 HMAC-SHA256 of '{owner} {id} {expiry}': the spec's download signature."""
    digest = hmac.new(secret.encode(), f"{owner} {file_id} {expiry}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _view(box: Any, record: dict[str, Any], here: str) -> dict[str, Any]:
    """The file with `urls.download`: its download URL signed until the file expires."""
    expiry = int(ids.parse_iso(record["expires_at"]).timestamp())
    query = urlencode(
        {"owner": OWNER, "expiry": expiry, "signature": signature(box.files_secret, OWNER, record["id"], expiry)}
    )
    return render.file_view(record, here, f"{here}/v1/files/{record['id']}/download?{query}")


def _check_signed(request: Request, box: Any, file_id: str) -> None:
    """files.download needs owner, expiry and signature (no token): checked here."""
    query = request.query_params
    missing = [name for name in ("owner", "expiry", "signature") if not query.get(name)]
    if missing:
        raise Problem(400, f"{missing[0]}: required; download with the file's signed urls.download")
    if not query["expiry"].isdigit():
        raise Problem(400, "expiry: must be a Unix timestamp")
    expiry = int(query["expiry"])
    expected = signature(box.files_secret, query["owner"], file_id, expiry)
    if query["owner"] != OWNER or not hmac.compare_digest(expected, query["signature"]):
        raise Problem(403, "signature: does not match this file, owner and expiry")
    if expiry < time.time():
        raise Problem(403, "this download URL has expired; get the file again for a fresh one")


async def files_download(request: Request) -> FileResponse:
    record = _file(request)
    box = sandbox(request)
    _check_signed(request, box, record["id"])
    path = box.store.blob_path(record["id"])
    return FileResponse(path, media_type="application/octet-stream", filename=record.get("name") or record["id"])


async def delivery(request: Request) -> FileResponse:
    """An output file, by the id and name in its URL; no auth, like Replicate's CDN."""
    box = sandbox(request)
    blob_id = param(request, "blob_id")
    record = box.store.snapshot("deliveries", blob_id)
    if record is None or record["filename"] != param(request, "filename"):
        raise not_found("file", blob_id)
    return FileResponse(box.store.blob_path(blob_id), media_type=record["content_type"])
