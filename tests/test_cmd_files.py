"""`files …` handlers against a respx-mocked API, with real files on disk."""

from __future__ import annotations

from pathlib import Path

import api_fixtures as fx
from rsh import BASE, mocked

from rshell.errors import ApiError, UsageError

CONTENT = b"\x89PNG fake image bytes\n" * 100


def test_upload_sends_the_file_as_multipart(api, tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(CONTENT)
    route = api.post("/files").respond(201, json=fx.file())
    ran = mocked(f"files upload {path}")
    request = route.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert CONTENT in request.content
    assert b'filename="photo.png"' in request.content
    lines = ran.stdout.splitlines()
    assert lines[0] == "uploaded photo.png"
    assert f"id:      {fx.FILE_ID}" in lines
    assert ran.data["urls"]["get"] == f"{BASE}/files/{fx.FILE_ID}"


def test_upload_expands_the_home_directory(api, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "a.txt").write_text("hi")
    route = api.post("/files").respond(201, json=fx.file(name="a.txt"))
    assert mocked("files upload ~/a.txt").code == 0
    assert b"hi" in route.calls.last.request.content


def test_upload_of_a_missing_file_sends_nothing(api, tmp_path):
    ran = mocked(f"files upload {tmp_path / 'nope.png'}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "no such file" in ran.error.message
    assert api.calls.call_count == 0


def test_upload_of_a_directory_sends_nothing(api, tmp_path):
    ran = mocked(f"files upload {tmp_path}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "directory" in ran.error.message
    assert api.calls.call_count == 0


def test_upload_of_an_unreadable_file_sends_nothing(api, tmp_path, monkeypatch):
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x")
    real_open = Path.open

    def refusing_open(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing_open)  # root can read anything: simulate the refusal
    ran = mocked(f"files upload {path}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "cannot read" in ran.error.message and "Permission denied" in ran.error.message
    assert api.calls.call_count == 0


def test_list_is_a_table(api):
    files = [fx.file(), fx.file("abc", name="notes.txt", content_type="text/plain", size=512)]
    api.get("/files").respond(200, json=fx.page(files))
    ran = mocked("files list")
    header, first, second = ran.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "SIZE", "TYPE", "CREATED"]
    assert first.split() == [fx.FILE_ID, "photo.png", "67.8", "KB", "image/png", "2024-02-21", "12:54"]
    assert second.split() == ["abc", "notes.txt", "512", "B", "text/plain", "2024-02-21", "12:54"]


def test_show_and_delete(api):
    api.get(f"/files/{fx.FILE_ID}").respond(200, json=fx.file())
    delete = api.delete(f"/files/{fx.FILE_ID}").respond(204)
    shown = mocked(f"files show {fx.FILE_ID}").stdout
    assert "size:    67.8 KB (69420 bytes)" in shown.splitlines()
    assert "sha256:  f047f8e7" in shown
    assert mocked(f"files delete {fx.FILE_ID}").stdout == f"deleted file {fx.FILE_ID}\n"
    assert delete.called


def test_show_of_a_missing_file_is_a_404(api):
    api.get("/files/nope").respond(404, json=fx.problem(404, "File not found"))
    ran = mocked("files show nope")
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert ran.error.status == 404


def test_download_writes_to_dest(api, tmp_path):
    api.get(f"/files/{fx.FILE_ID}").respond(200, json=fx.file())
    api.get(f"/files/{fx.FILE_ID}/download").respond(200, content=CONTENT)
    dest = tmp_path / "out.png"
    ran = mocked(f"files download {fx.FILE_ID} {dest}")
    assert dest.read_bytes() == CONTENT
    assert ran.stdout == f"downloaded {fx.FILE_ID} to {dest} (67.8 KB)\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temporary file left


def test_download_follows_the_records_signed_url(api, tmp_path):
    signed = f"{BASE}/files/{fx.FILE_ID}/download?owner=alice&expiry=1708515345&signature=zuo%2BhQ%3D"
    api.get(f"/files/{fx.FILE_ID}").respond(200, json=fx.file(urls={"get": "x", "download": signed}))
    route = api.get(f"/files/{fx.FILE_ID}/download").respond(200, content=CONTENT)
    assert mocked(f"files download {fx.FILE_ID} {tmp_path / 'out.png'}").code == 0
    assert dict(route.calls.last.request.url.params) == {
        "owner": "alice",
        "expiry": "1708515345",
        "signature": "zuo+hQ=",
    }


def test_a_signed_url_for_another_host_or_file_is_not_followed(api, tmp_path):
    for bad in (
        f"https://evil.example/v1/files/{fx.FILE_ID}/download?owner=a&expiry=1&signature=s",
        f"{BASE}/files/other/download?owner=a&expiry=1&signature=s",
    ):
        api.get(f"/files/{fx.FILE_ID}").respond(200, json=fx.file(urls={"get": "x", "download": bad}))
        route = api.get(f"/files/{fx.FILE_ID}/download").respond(200, content=CONTENT)
        dest = tmp_path / "out.png"
        assert mocked(f"files download {fx.FILE_ID} {dest}").code == 0
        dest.unlink()
        assert "signature" not in dict(route.calls.last.request.url.params)


def test_download_defaults_to_the_files_name_in_the_current_directory(api, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    api.get(f"/files/{fx.FILE_ID}").respond(200, json=fx.file(name="../../escape.png"))
    api.get(f"/files/{fx.FILE_ID}/download").respond(200, content=CONTENT)
    assert mocked(f"files download {fx.FILE_ID}").code == 0
    assert (tmp_path / "escape.png").read_bytes() == CONTENT  # never outside the directory


def test_download_into_a_directory_uses_the_files_name(api, tmp_path):
    api.get(f"/files/{fx.FILE_ID}").respond(200, json=fx.file())
    api.get(f"/files/{fx.FILE_ID}/download").respond(200, content=CONTENT)
    assert mocked(f"files download {fx.FILE_ID} {tmp_path}").code == 0
    assert (tmp_path / "photo.png").read_bytes() == CONTENT


def test_download_refuses_to_overwrite_dest_before_any_request(api, tmp_path):
    dest = tmp_path / "keep.png"
    dest.write_bytes(b"precious")
    ran = mocked(f"files download {fx.FILE_ID} {dest}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "already exists" in ran.error.message
    assert dest.read_bytes() == b"precious"
    assert api.calls.call_count == 0


def test_download_refuses_to_overwrite_the_default_name(api, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photo.png").write_bytes(b"precious")
    api.get(f"/files/{fx.FILE_ID}").respond(200, json=fx.file())
    ran = mocked(f"files download {fx.FILE_ID}")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert [call.request.url.path for call in api.calls] == [f"/v1/files/{fx.FILE_ID}"]  # no download
    assert (tmp_path / "photo.png").read_bytes() == b"precious"


def test_a_failed_download_leaves_no_file(api, tmp_path):
    api.get(f"/files/{fx.FILE_ID}").respond(200, json=fx.file())
    api.get(f"/files/{fx.FILE_ID}/download").respond(404, json=fx.problem(404, "File not found"))
    ran = mocked(f"files download {fx.FILE_ID} {tmp_path / 'x.png'}")
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert list(tmp_path.iterdir()) == []
