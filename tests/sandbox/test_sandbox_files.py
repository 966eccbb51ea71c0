"""Files API and output files: multipart upload, 413, list/get/delete/download, and
uploaded files (or data: URLs) read by a running model."""

from __future__ import annotations

import base64
import hashlib

import httpx
from conftest import checked_client

from rshell.sandbox.server import start


def _upload(client: httpx.Client, data: bytes, name: str = "notes.txt", **fields: str) -> httpx.Response:
    return client.post("/files", files={"content": (name, data, "text/plain")}, data=fields)


def test_upload_get_list_download_delete(fake):
    client = fake.client
    data = b"hello sandbox\n" * 100
    created = _upload(client, data, metadata='{"ref": 7}')
    assert created.status_code == 201
    record = created.json()
    assert record["size"] == len(data)
    assert record["checksums"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["content_type"] == "text/plain"
    assert record["metadata"] == {"ref": 7}
    assert record["expires_at"] > record["created_at"]
    assert client.get(f"/files/{record['id']}").json() == record
    assert [f["id"] for f in client.get("/files").json()["results"]] == [record["id"]]
    signed = record["urls"]["download"]
    download = httpx.get(signed)  # the signature is the credential: no token needed
    assert download.content == data
    assert download.headers["content-type"] == "application/octet-stream"
    assert client.delete(f"/files/{record['id']}").status_code == 204
    assert client.get(f"/files/{record['id']}").status_code == 404
    assert client.delete(f"/files/{record['id']}").status_code == 404
    assert client.get(signed).status_code == 404


def test_download_needs_the_owner_expiry_and_signature_the_spec_requires(fake):
    client = fake.client
    record = _upload(client, b"secret bytes").json()
    plain = f"/files/{record['id']}/download"
    unsigned = client.get(plain)  # a token alone is not enough
    assert unsigned.status_code == 400 and "owner" in unsigned.json()["detail"]
    query = dict(httpx.URL(record["urls"]["download"]).params)
    assert set(query) == {"owner", "expiry", "signature"}
    forged = client.get(plain, params={**query, "signature": "AAAA"})
    assert forged.status_code == 403
    moved = client.get(plain, params={**query, "expiry": str(int(query["expiry"]) + 1)})
    assert moved.status_code == 403
    from rshell.sandbox.api_files import signature as sign

    old = {
        **query,
        "expiry": "1000",
        "signature": sign(fake.handle.sandbox.files_secret, "sandbox", record["id"], 1000),
    }
    assert client.get(plain, params=old).status_code == 403
    assert client.get(plain, params=query).content == b"secret bytes"


def test_type_field_overrides_the_part_content_type(fake):
    record = _upload(fake.client, b"{}", "x.bin", type="application/json").json()
    assert record["content_type"] == "application/json"


def test_upload_errors(fake):
    client = fake.client
    assert client.post("/files", data={"filename": "x"}, files={"other": ("a", b"1")}).status_code == 422
    assert client.post("/files", json={"content": "x"}).status_code == 415
    assert _upload(client, b"x", metadata="[1]").status_code == 422
    assert _upload(client, b"x", filename="n" * 300).status_code == 422


def test_oversized_files_are_413_and_leave_nothing_behind(tmp_path):
    with start(tmp_path / "data", predictors={}, max_file_size=1000) as handle, checked_client(handle) as client:
        assert _upload(client, b"x" * 1000).status_code == 201
        too_big = _upload(client, b"x" * 1001)
        assert too_big.status_code == 413
        assert "1000 bytes" in too_big.json()["detail"]
        huge = _upload(client, b"x" * (3 * 2**20))  # refused from Content-Length alone
        assert huge.status_code == 413
        assert len(client.get("/files").json()["results"]) == 1
        blobs = list((tmp_path / "data" / "blobs").iterdir())
        assert len(blobs) == 1


def test_a_model_reads_an_uploaded_file_and_serves_its_output_file(fake):
    data = b"abcdef" * 1000
    record = _upload(fake.client, data).json()
    for reference in (record["urls"]["get"], record["urls"]["get"] + "/download"):
        body = fake.client.post(
            "/models/test/reader/predictions", json={"input": {"file": reference}}, headers={"Prefer": "wait"}
        ).json()
        assert body["status"] == "succeeded", body["error"]
        assert body["output"]["size"] == len(data)
        assert body["output"]["sha256"] == hashlib.sha256(data).hexdigest()
        served = httpx.get(body["output"]["reversed"])  # no token: like Replicate's delivery CDN
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("text/plain")
        assert served.content == data[::-1]


def test_a_model_reads_a_data_url(fake):
    data = bytes(range(256))
    url = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    body = fake.client.post(
        "/models/test/reader/predictions", json={"input": {"file": url}}, headers={"Prefer": "wait"}
    ).json()
    assert body["output"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_an_unknown_sandbox_file_fails_the_prediction(fake):
    missing = fake.handle.url + "/files/doesnotexist"
    body = fake.client.post(
        "/models/test/reader/predictions", json={"input": {"file": missing}}, headers={"Prefer": "wait"}
    ).json()
    assert body["status"] == "failed" and "doesnotexist" in body["error"]


def test_delivery_urls_need_the_exact_name(fake):
    body = fake.client.post(
        "/models/test/reader/predictions", json={"input": {"file": "data:,hello"}}, headers={"Prefer": "wait"}
    ).json()
    url = body["output"]["reversed"]
    assert httpx.get(url).content == b"olleh"
    assert httpx.get(url.rsplit("/", 1)[0] + "/other.txt").status_code == 404


def test_real_pixels_output_is_a_png_served_by_the_sandbox(api):
    version = api.get("/models/rshell/pixels").json()["latest_version"]["id"]
    body = api.post(
        "/predictions",
        json={"version": version, "input": {"prompt": "sunset", "width": 16, "height": 16}},
        headers={"Prefer": "wait"},
    ).json()
    assert body["status"] == "succeeded", body.get("error")
    urls = body["output"] if isinstance(body["output"], list) else [body["output"]]
    image = httpx.get(urls[0])
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_metadata_as_a_json_file_part_like_the_js_client_sends(fake):
    """The official JS client's files.create sends metadata as a second file part."""
    files = [
        ("content", ("a.txt", b"from js", "application/octet-stream")),
        ("metadata", ("blob", b'{"customer": 123}', "application/json")),
    ]
    created = fake.client.post("/files", files=files)
    assert created.status_code == 201, created.text
    assert created.json()["metadata"] == {"customer": 123}
    bad = [files[0], ("metadata", ("blob", b"[1]", "application/json"))]
    assert fake.client.post("/files", files=bad).status_code == 422
