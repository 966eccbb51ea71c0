"""The PNG codec the image models use: round trips, every row filter, palettes, errors."""

from __future__ import annotations

import random
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rshell.sandbox.predictors.png import PngError, decode, encode, is_png


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(
    width: int, height: int, colour: int, raw: bytes, extra: bytes = b"", depth: int = 8, interlace: int = 0
) -> bytes:
    """A PNG assembled by hand from already-filtered scanlines (independent of encode)."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + extra
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filter(rows: list[bytes], bpp: int, kinds: list[int]) -> bytes:
    """PNG's forward filters (spec section 9.2), one filter type per row."""
    out, prev = bytearray(), bytes(len(rows[0]))
    for row, kind in zip(rows, kinds, strict=True):
        line = bytearray()
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
            pred = [0, a, b, (a + b) // 2, _paeth(a, b, c)][kind]
            line.append((x - pred) & 0xFF)
        out += bytes([kind]) + line
        prev = row
    return bytes(out)


def test_encoded_png_has_the_header_and_pixels_asked_for() -> None:
    rows = [b"".join(bytes([x, y, 7]) for x in range(7)) for y in range(5)]
    data = encode(7, 5, rows)
    assert is_png(data)
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (width, height, depth, colour) == (7, 5, 8, 2)
    assert decode(data).rows == rows


@pytest.mark.parametrize("channels,colour", [(1, 0), (2, 4), (3, 2), (4, 6)])
def test_every_channel_count_round_trips(channels: int, colour: int) -> None:
    rng = random.Random(channels)
    rows = [rng.randbytes(9 * channels) for _ in range(4)]
    data = encode(9, 4, rows, channels)
    assert data[25] == colour
    image = decode(data)
    assert (image.width, image.height, image.channels, image.rows) == (9, 4, channels, rows)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 6), st.sampled_from([3, 4]), st.data())
def test_all_five_row_filters_decode(width: int, height: int, bpp: int, data: st.DataObject) -> None:
    rows = [data.draw(st.binary(min_size=width * bpp, max_size=width * bpp)) for _ in range(height)]
    kinds = [data.draw(st.integers(0, 4)) for _ in range(height)]
    png = _png(width, height, 2 if bpp == 3 else 6, _filter(rows, bpp, kinds))
    assert decode(png).rows == rows


def test_palette_images_decode_to_rgb_and_rgba() -> None:
    palette = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])
    raw = b"\x00" + bytes([0, 1, 2]) + b"\x00" + bytes([2, 2, 0])
    image = decode(_png(3, 2, 3, raw, _chunk(b"PLTE", palette)))
    assert image.channels == 3
    assert list(image.pixels()) == [(255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 0, 255), (0, 0, 255), (255, 0, 0)]
    transparent = decode(_png(3, 2, 3, raw, _chunk(b"PLTE", palette) + _chunk(b"tRNS", b"\x00")))
    assert transparent.channels == 4 and next(iter(transparent.pixels())) == (255, 0, 0, 0)


@pytest.mark.parametrize(
    "data,words",
    [
        (b"GIF89a....", "not a PNG"),
        (_png(2, 2, 2, b"\x00" * 14, depth=16), "8-bit"),
        (_png(2, 2, 2, b"\x00" * 14, interlace=1), "interlaced"),
        (_png(2, 2, 2, b"\x00" * 5), "truncated"),
        (_png(1, 1, 2, b"\x07\x00\x00\x00"), "unknown filter"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR", "truncated"),
    ],
)
def test_unreadable_pngs_raise_one_line_errors(data: bytes, words: str) -> None:
    with pytest.raises(PngError) as caught:
        decode(data)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_encode_refuses_rows_of_the_wrong_size() -> None:
    with pytest.raises(ValueError):
        encode(2, 1, [b"\x00" * 5])
    with pytest.raises(ValueError):
        encode(2, 2, [b"\x00" * 6])
