"""Issue 9 item 1: nothing a server names becomes a path outside the chosen directory.

rshell runs for real (`python -m rshell`) against tests/hostile_server.py, which
answers with prediction ids and file names that are paths.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_server import HostileServer, Reply, model, prediction, reply_json, run_rshell

PNG = b"\x89PNG\r\n\x1a\n fake"


def _run_scenario(server: HostileServer, prediction_id: str) -> None:
    server.route("GET /v1/models/hostile/model", reply_json(model()))
    output = [f"{server.root}/delivery/out.png"]
    server.route("POST /v1/models/hostile/model/predictions", reply_json(prediction(prediction_id, output=output), 201))
    server.route("GET /delivery/out.png", Reply(200, {"Content-Type": "image/png"}, PNG))


def _every_file(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("prediction_id", ["../../x", "<tmp>/abs/path", "..", "a/../../b"])
def test_save_without_output_directory_stays_in_the_working_directory(
    hostile: HostileServer, tmp_path: Path, prediction_id: str
) -> None:
    work = tmp_path / "deep" / "er" / "work"
    work.mkdir(parents=True)
    # an absolute id, aimed inside tmp_path so a broken build cannot litter the machine
    prediction_id = prediction_id.replace("<tmp>", str(tmp_path))
    _run_scenario(hostile, prediction_id)
    done = run_rshell(hostile, "run", "hostile/model", "prompt=x", "--save", cwd=work, home=tmp_path / "h")
    assert done.code == 0, done.stderr
    outside = {p for p in _every_file(tmp_path) if not p.is_relative_to(work) and not p.is_relative_to(tmp_path / "h")}
    assert outside == set()
    saved = _every_file(work)
    assert len(saved) == 1 and next(iter(saved)).read_bytes() == PNG
    # one directory right under the working directory, named after the (made plain) id
    assert next(iter(saved)).parent.parent == work


def test_save_refuses_a_directory_that_is_a_symlink_out(hostile: HostileServer, tmp_path: Path) -> None:
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    (work / "p1").symlink_to(elsewhere)
    _run_scenario(hostile, "p1")
    done = run_rshell(hostile, "run", "hostile/model", "prompt=x", "--save", cwd=work, home=tmp_path / "h")
    assert done.code == 1
    assert "refusing to write outside" in done.stderr and "Traceback" not in done.stderr
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("name", ["", "...", None, "..", "/"])
def test_files_download_without_a_usable_name_falls_back_to_a_plain_id(
    hostile: HostileServer, tmp_path: Path, name: str | None
) -> None:
    work = tmp_path / "a" / "work"
    work.mkdir(parents=True)
    file = {
        "id": "../../stolen",
        "name": name,
        "content_type": "image/png",
        "size": len(PNG),
        "etag": "x",
        "checksums": {"sha256": "0" * 64},
        "metadata": {},
        "created_at": "2026-01-01T00:00:00Z",
        "expires_at": None,
        "urls": {"get": f"{hostile.url}/files/x"},
    }
    hostile.route("GET /v1/files/..%2F..%2Fstolen", reply_json(file))  # the client escapes the id in the path
    hostile.route("GET /v1/files/..%2F..%2Fstolen/download", Reply(200, {"Content-Type": "image/png"}, PNG))
    done = run_rshell(hostile, "files", "download", "../../stolen", cwd=work, home=tmp_path / "h")
    assert done.code == 0, done.stderr
    assert [p.name for p in work.iterdir()] == ["stolen.png"]
    assert (work / "stolen.png").read_bytes() == PNG
    assert not (tmp_path / "stolen.png").exists() and not (tmp_path / "stolen").exists()
