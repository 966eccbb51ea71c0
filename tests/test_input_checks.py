"""Inputs checked before money is spent (issue 19 items 3-7, 10), against the sandbox.

Each test counts what the sandbox was asked (the `counted` fixture): a refused input
is exit 2 and no create.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rsh import rsh

from rshell.sandbox.predictors.png import encode
from rshell.session.state import Session


def creates(seen: list[str]) -> list[str]:
    """The requests that made something (a prediction, a training, an upload)."""
    return [line for line in seen if line.startswith("POST ")]


def api_of(handle: Any) -> tuple[str, str]:
    return handle.url, handle.token


def fox_png(folder: Path) -> Path:
    """A real 2x2 PNG at folder/out/fox.png, as a run's --save leaves it."""
    path = folder / "out" / "fox.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(2, 2, [b"\xff\x00\x00" * 2] * 2, 3))
    return path


# -- item 3: file inputs take a URL, a data: URL or @path ---------------------------------------


def test_a_path_without_its_at_sign_is_refused_with_the_fix(counted, tmp_path: Path, monkeypatch) -> None:
    handle, seen = counted
    monkeypatch.chdir(tmp_path)
    fox_png(tmp_path)
    done = rsh("run rshell/upscale image=out/fox.png", api=api_of(handle))
    assert done.code == 2, done.stderr
    assert "input 'image' wants a URL or @file" in done.stderr
    assert "did you mean image=@out/fox.png?" in done.stderr
    assert creates(seen) == []


def test_text_from_a_language_model_is_refused_as_a_file_input(counted) -> None:
    handle, seen = counted
    session = Session()
    story = rsh("story = run rshell/tinylm prompt=fox max_tokens=3", api=api_of(handle), session=session)
    assert story.code == 0, story.stderr
    before = len(creates(seen))
    done = rsh("run rshell/upscale image={{story.output}}", api=api_of(handle), session=session)
    assert done.code == 2, done.stderr
    assert "input 'image' wants a URL or @file" in done.stderr
    assert done.stderr.count("wants a URL") == 1  # said once
    assert len(creates(seen)) == before


def test_a_list_of_urls_is_refused_with_the_index_to_pick(counted) -> None:
    handle, seen = counted
    done = rsh("run rshell/pixels prompt=fox | run rshell/upscale image={{.output}}", api=api_of(handle))
    assert done.code == 2, done.stderr
    assert "input 'image' wants a URL or @file, got a list" in done.stderr
    assert "{{.output[0]}}" in done.stderr
    assert creates(seen) == ["POST /v1/predictions"]  # the pixels run only


@pytest.mark.parametrize("value", ["@out/fox.png", "'data:image/png;base64,iVBORw0KGgo='"])
def test_a_file_or_data_url_is_still_sent(counted, tmp_path: Path, monkeypatch, value: str) -> None:
    handle, seen = counted
    monkeypatch.chdir(tmp_path)
    fox_png(tmp_path)
    done = rsh(f"run rshell/upscale image={value} --file-encoding data", api=api_of(handle))
    assert creates(seen), done.stderr  # it was sent (the fake PNG of the data: case may fail on the server)


def test_an_output_url_chains_into_a_file_input(counted) -> None:
    handle, seen = counted
    done = rsh("run rshell/pixels prompt=fox | run rshell/upscale image={{.output[0]}}", api=api_of(handle))
    assert done.code == 0, done.stderr
    assert len(creates(seen)) == 2
