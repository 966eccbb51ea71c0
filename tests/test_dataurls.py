"""data: URLs, made and read by one strict rule (rshell/dataurls.py) for the client's
--save and @file inputs and the sandbox's inputs and Cog files."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rshell import dataurls


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("data:text/plain;base64,aGVsbG8=", b"hello"),
        ("data:text/plain;base64,aGVsbG8", b"hello"),  # padding may be left out
        ("data:text/plain;base64,aGVs%0AbG8=", b"hello"),  # percent-escaped newline
        ("data:text/plain;base64,aGVs bG8=", b"hello"),  # white space
        ("data:,a%20b", b"a b"),  # not base64: percent-decoded
        ("data:image/png;base64,", b""),  # an empty file is still a file
    ],
)
def test_decode(url: str, data: bytes) -> None:
    assert dataurls.decode(url) == data


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("data:image/png;base64,!!!", "invalid base64"),
        ("data:image/png;base64,aGVsbG8=!", "invalid base64"),
        ("data:image/png;base64,====", "invalid base64"),
        ("data:nocomma", "not a data: URL"),
        ("https://x.test/a.png", "not a data: URL"),
    ],
)
def test_decode_refuses(url: str, why: str) -> None:
    with pytest.raises(dataurls.DataURLError, match=why):
        dataurls.decode(url)


@given(st.binary(max_size=300), st.sampled_from(["image/png", "application/octet-stream", "text/plain"]))
def test_encode_then_decode_is_the_same_bytes(data: bytes, media: str) -> None:
    url = dataurls.encode(data, media)
    assert dataurls.media_type(url) == media
    assert dataurls.decode(url) == data


def test_media_type_defaults_to_text_plain() -> None:
    assert dataurls.media_type("data:,x") == "text/plain"
    assert dataurls.media_type("data:image/png;charset=x;base64,AA") == "image/png"
