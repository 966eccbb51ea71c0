"""--save: safe unique names, every nested URL, data: URLs, text/JSON outputs, bounded
concurrency, and failures that don't stop the other downloads."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import pytest

from rshell.downloads import (
    find_file_urls,
    safe_name,
    save_outputs,
    shown,
    write_new,
)
from rshell.errors import NetworkError
from rshell.safepaths import plain_name


class FakeClient:
    """Stands in for ReplicateClient.download: writes the URL's bytes, counts overlap."""

    def __init__(self, delay: float = 0.0, fail: set[str] | None = None) -> None:
        self.delay = delay
        self.fail = fail or set()
        self.active = 0
        self.most = 0
        self.calls: list[tuple[str, Path]] = []

    async def download(self, url: str, dest: Path) -> Path:
        self.calls.append((url, dest))
        self.active += 1
        self.most = max(self.most, self.active)
        try:
            await asyncio.sleep(self.delay)
            if url in self.fail:
                raise NetworkError(f"could not reach {url}")
            dest.write_bytes(("content of " + url).encode())
            return dest
        finally:
            self.active -= 1


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_find_file_urls_walks_nested_lists_and_dicts_once_each() -> None:
    output = {
        "images": ["https://a.test/1.png", {"mask": "https://a.test/m.png"}],
        "caption": "a cat",
        "n": 3,
        "again": "https://a.test/1.png",
        "inline": "data:text/plain;base64,aGk=",
    }
    assert find_file_urls(output) == ["https://a.test/1.png", "https://a.test/m.png", "data:text/plain;base64,aGk="]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.test/out/image.png", "image.png"),
        ("https://x.test/a/..%2F..%2Fetc%2Fpasswd", "passwd"),
        ("https://x.test/%2e%2e", "output-3"),
        ("https://x.test/", "output-3"),
        ("https://x.test/download?name=../../evil.sh", "download"),
        ("https://x.test/.bashrc", "bashrc"),
        ("https://x.test/we%20ird%3Bname%00.txt", "we_ird_name_.txt"),
        ("https://x.test/dir/sub%5C..%5Cwin.txt", "win.txt"),
        ("data:image/png;base64,AAAA", "output-3.png"),
    ],
)
def test_safe_name_neutralises_hostile_names(url: str, expected: str) -> None:
    assert safe_name(url, 3) == expected


def test_plain_name_never_leaves_a_path() -> None:
    for hostile in ["../x", "/etc/passwd", "..", ".", "", "a/../../b", "C:\\Windows\\x.dll"]:
        name = plain_name(hostile)
        assert "/" not in name and "\\" not in name
        assert not name.startswith(".")
    assert len(plain_name("a" * 500 + ".png")) <= 120
    assert plain_name("a" * 500 + ".png").endswith(".png")


def test_a_new_file_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "out.png").write_bytes(b"x")
    first = write_new(tmp_path, "out.png", b"one")
    second = write_new(tmp_path, "out.png", b"two")
    assert (first.name, second.name) == ("out-1.png", "out-2.png")
    assert (tmp_path / "out.png").read_bytes() == b"x" and second.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out-1.png", "out-2.png", "out.png"]  # no temps left


def test_shown_hides_signatures_and_data() -> None:
    assert shown("https://cdn.test/x.png?sig=SECRET") == "https://cdn.test/x.png"
    assert shown("data:image/png;base64," + "A" * 1000) == "data:image/png URL"


def test_save_outputs_downloads_all_with_unique_names(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "image.png").write_text("existing")
    output = [
        "https://a.test/x/image.png",
        "https://b.test/y/image.png",
        "https://c.test/../../escape.png",
        "data:text/plain;base64," + base64.b64encode(b"inline!").decode(),
    ]
    client = FakeClient()
    seen: list[Path] = []
    report = run(save_outputs(client, output, tmp_path / "out", on_saved=seen.append))
    names = sorted(p.name for p in report.saved)
    assert names == ["escape.png", "image-1.png", "image-2.png", "output-3.txt"]
    assert (tmp_path / "out" / "image.png").read_text() == "existing"
    assert (tmp_path / "out" / "output-3.txt").read_bytes() == b"inline!"
    assert all(p.parent == (tmp_path / "out").resolve() for p in report.saved)
    assert sorted(seen) == sorted(report.saved)
    # a list of file URLs only: no output.json
    assert not (tmp_path / "out" / "output.json").exists()
    # data: URLs never went to the network
    assert [u for u, _ in client.calls if u.startswith("data:")] == []


def test_save_outputs_bounds_concurrency(tmp_path: Path) -> None:
    output = [f"https://a.test/{i}.bin" for i in range(10)]
    client = FakeClient(delay=0.01)
    report = run(save_outputs(client, output, tmp_path, limit=3))
    assert len(report.saved) == 10
    assert client.most == 3


def test_text_and_json_outputs(tmp_path: Path) -> None:
    report = run(save_outputs(FakeClient(), "hello world", tmp_path / "t"))
    assert [p.name for p in report.saved] == ["output.txt"]
    assert (tmp_path / "t" / "output.txt").read_text() == "hello world"

    report = run(save_outputs(FakeClient(), ["Hel", "lo"], tmp_path / "c", concatenate=True))
    assert (tmp_path / "c" / "output.txt").read_text() == "Hello"

    output = {"score": 0.9, "image": "https://a.test/i.webp"}
    report = run(save_outputs(FakeClient(), output, tmp_path / "j"))
    assert sorted(p.name for p in report.saved) == ["i.webp", "output.json"]
    assert json.loads((tmp_path / "j" / "output.json").read_text()) == output

    # a second save into the same directory keeps the first output.json
    run(save_outputs(FakeClient(), {"score": 1}, tmp_path / "j"))
    assert json.loads((tmp_path / "j" / "output-1.json").read_text()) == {"score": 1}
    assert json.loads((tmp_path / "j" / "output.json").read_text()) == output


def test_failed_download_is_reported_and_leaves_no_file(tmp_path: Path) -> None:
    bad = "https://a.test/bad.png?token=sig"
    client = FakeClient(fail={bad})
    report = run(save_outputs(client, ["https://a.test/ok.png", bad], tmp_path))
    assert [p.name for p in report.saved] == ["ok.png"]
    assert report.failed == [("https://a.test/bad.png", f"could not reach {bad}")]
    assert not (tmp_path / "bad.png").exists()


def test_a_data_url_that_does_not_decode_fails_that_output_only(tmp_path: Path) -> None:
    """`;base64,!!!` once became an empty file counted as saved (issue #9 item 11)."""
    good = "data:image/png;base64," + base64.b64encode(b"\x89PNG ok").decode()
    report = run(save_outputs(FakeClient(), ["data:image/png;base64,!!!", good], tmp_path))
    assert report.failed == [("output 0", "bad data URL (invalid base64)")]
    assert [p.read_bytes() for p in report.saved] == [b"\x89PNG ok"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output-1.png"]  # no empty output-0.png
