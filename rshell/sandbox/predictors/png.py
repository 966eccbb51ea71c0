"""A minimal PNG codec (zlib + struct): enough for the sandbox's image models.

Encodes 8-bit grey/grey-alpha/RGB/RGBA; decodes 8-bit non-interlaced images of any
colour type (palette included) with all five row filters. Pulling in an imaging
library for this would add a large binary dependency to every install of rshell.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel
MAX_PIXELS = 64 * 1024 * 1024  # refuse to inflate absurd images (decompression bombs)


class PngError(ValueError):
    """The bytes are not a PNG this codec reads; the message says why, in one line."""


@dataclass
class Image:
    """Decoded pixels: `rows[y]` holds width * channels bytes."""

    width: int
    height: int
    channels: int
    rows: list[bytes]

    def pixels(self) -> Iterable[tuple[int, ...]]:
        """Every pixel as a tuple of `channels` samples, row by row."""
        c = self.channels
        for row in self.rows:
            for i in range(0, len(row), c):
                yield tuple(row[i : i + c])


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode(width: int, height: int, rows: Iterable[bytes], channels: int = 3) -> bytes:
    """A PNG of `height` rows of `width * channels` bytes each (filter 0)."""
    if channels not in _COLOUR_TYPES:
        raise ValueError(f"cannot encode {channels} channels")
    stride = width * channels
    compressor = zlib.compressobj(6)
    parts = []
    count = 0
    for row in rows:
        if len(row) != stride:
            raise ValueError(f"row {count} has {len(row)} bytes, expected {stride}")
        parts.append(compressor.compress(b"\x00" + bytes(row)))
        count += 1
    if count != height:
        raise ValueError(f"got {count} rows, expected {height}")
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


def is_png(data: bytes) -> bool:
    return data[:8] == SIGNATURE


def _chunks(data: bytes) -> Iterable[tuple[bytes, bytes]]:
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise PngError("PNG is truncated")
        yield kind, body
        if kind == b"IEND":
            return
        pos += 12 + length
    raise PngError("PNG is truncated (no IEND chunk)")


def decode(data: bytes) -> Image:
    """Pixels of an 8-bit, non-interlaced PNG; palette images come back as RGB(A)."""
    if not is_png(data):
        raise PngError("not a PNG file")
    header, palette, alpha, idat = None, None, None, []
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body[:13])
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            alpha = body
        elif kind == b"IDAT":
            idat.append(body)
    if header is None:
        raise PngError("PNG has no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8:
        raise PngError(f"only 8-bit PNGs are supported (this one is {depth}-bit)")
    if interlace:
        raise PngError("interlaced PNGs are not supported")
    if colour not in _CHANNELS:
        raise PngError(f"unknown PNG colour type {colour}")
    if width * height > MAX_PIXELS or not width or not height:
        raise PngError(f"PNG size {width}x{height} is out of range")
    rows = _unfilter(
        _inflate(b"".join(idat), (width * _CHANNELS[colour] + 1) * height), width, height, _CHANNELS[colour]
    )
    if colour == 3:
        return _expand_palette(width, height, rows, palette, alpha)
    return Image(width, height, _CHANNELS[colour], rows)


def _inflate(data: bytes, expected: int) -> bytes:
    try:
        raw = zlib.decompressobj().decompress(data, expected)
    except zlib.error as exc:
        raise PngError(f"PNG image data is corrupt ({exc})") from None
    if len(raw) < expected:
        raise PngError("PNG image data is truncated")
    return raw


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytes]:
    """Undo the per-row filters (None, Sub, Up, Average, Paeth) of PNG section 9."""
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            _unpaeth(line, prev, bpp)
        elif kind != 0:
            raise PngError(f"PNG row {y} has unknown filter {kind}")
        rows.append(bytes(line))
        prev = line
    return rows


def _unpaeth(line: bytearray, prev: bytearray, bpp: int) -> None:
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        line[i] = (line[i] + pred) & 0xFF


def _expand_palette(width: int, height: int, rows: list[bytes], palette: bytes | None, alpha: bytes | None) -> Image:
    if not palette:
        raise PngError("palette PNG has no PLTE chunk")
    colours = [palette[i : i + 3] for i in range(0, len(palette) - 2, 3)]
    if alpha:
        colours = [c + bytes([alpha[i] if i < len(alpha) else 255]) for i, c in enumerate(colours)]
    colours += [colours[0]] * (256 - len(colours))  # out-of-range indices: first colour
    return Image(width, height, 4 if alpha else 3, [b"".join(colours[i] for i in row) for row in rows])
