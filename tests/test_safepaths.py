"""The one rule for names a server chooses (safepaths): plain names, kept inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from rshell.errors import RshellError
from rshell.safepaths import MAX_NAME, inside, plain_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("image.png", "image.png"),
        ("../../x", "x"),
        ("/abs/path", "path"),
        ("C:\\Windows\\x.dll", "x.dll"),
        ("..", "fallback"),
        ("...", "fallback"),
        ("", "fallback"),
        (None, "fallback"),
        (42, "fallback"),
        (".bashrc", "bashrc"),
        ("-rf", "rf"),
        ("a\x1b[31mb.png", "a_31mb.png"),
        ("evil\u202egnp.exe", "evil_gnp.exe"),  # a right-to-left override would disguise the extension
        ("we ird;name\x00.txt", "we_ird_name_.txt"),
        ("fête.png", "fête.png"),  # letters of any script survive
    ],
)
def test_plain_name(name: object, expected: str) -> None:
    assert plain_name(name, "fallback") == expected


def test_the_fallback_is_made_plain_too() -> None:
    assert plain_name("..", "../../id") == "id"
    assert plain_name("", "..") == ""


def test_long_names_keep_their_extension() -> None:
    name = plain_name("a" * 500 + ".png")
    assert len(name) == MAX_NAME and name.endswith(".png")


def test_inside_accepts_a_plain_name(tmp_path: Path) -> None:
    assert inside(tmp_path, "x.png") == tmp_path.resolve() / "x.png"


@pytest.mark.parametrize("name", ["", ".", "..", "../x", "a/b", "/etc", "x\x00"])
def test_inside_refuses_names_that_are_paths(tmp_path: Path, name: str) -> None:
    with pytest.raises(RshellError, match="refusing to write outside"):
        inside(tmp_path, name)


def test_inside_follows_a_symlink_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "out").symlink_to("/")
    with pytest.raises(RshellError):
        inside(tmp_path, "out")
    assert inside(tmp_path, "out", follow=False) == tmp_path.resolve() / "out"
