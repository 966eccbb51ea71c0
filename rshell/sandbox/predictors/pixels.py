"""rshell/pixels: a text-to-image stand-in that draws deterministic PNGs from a prompt.

The pixels are a pure function of prompt, seed, size, style and output index, so a
test (or a user) can rerun a prediction and get the same bytes. A trained version
(weights from rshell/palette-trainer) draws only in its learned palette.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from typing import Any

from rshell.sandbox.predictors.declare import Input, Path
from rshell.sandbox.predictors.model import CogStyleModel, Job
from rshell.sandbox.predictors.png import encode

Colour = tuple[int, int, int]


def progress_line(done: int, total: int) -> str:
    """A tqdm-looking line: ` 50%|█████     | 1/2`."""
    filled = (10 * done) // total
    return f"{(100 * done) // total:3d}%|{'█' * filled}{' ' * (10 - filled)}| {done}/{total}"


def seed_from(text: str) -> int:
    """A stable seed for runs that gave none (reruns reproduce; Python's hash() does not)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def palette_from(weights: dict[str, Any]) -> list[Colour] | None:
    """The learned palette in `weights`, or None when there is no usable one."""
    raw = weights.get("palette") if isinstance(weights, dict) else None
    if not isinstance(raw, list):
        return None
    colours = []
    for item in raw:
        if (
            isinstance(item, (list, tuple))
            and len(item) >= 3
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in item[:3])
        ):
            colours.append(tuple(max(0, min(255, int(v))) for v in item[:3]))
    return colours or None  # type: ignore[return-value]


def _lerp(a: Colour, b: Colour, t: float) -> bytes:
    return bytes(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def gradient(rng: random.Random, width: int, height: int, palette: list[Colour] | None) -> list[bytes]:
    """A diagonal blend through 2-3 colour stops; each row is a slice of one strip."""
    stops = (
        [rng.choice(palette) for _ in range(3)]
        if palette
        else [tuple(rng.randrange(256) for _ in range(3)) for _ in range(3)]
    )
    span = width + height - 1
    strip = b"".join(_stop_colour(stops, k / max(1, span - 1)) for k in range(span))
    return [strip[3 * y : 3 * (y + width)] for y in range(height)]


def _stop_colour(stops: list[Any], t: float) -> bytes:
    segment = min(int(t * (len(stops) - 1)), len(stops) - 2)
    local = t * (len(stops) - 1) - segment
    return _lerp(stops[segment], stops[segment + 1], local)


def blocks(rng: random.Random, width: int, height: int, palette: list[Colour] | None) -> list[bytes]:
    """A grid of flat colour squares, about 8 across."""
    size = max(2, min(width, height) // 8)
    rows = []
    for _ in range(0, height, size):
        cells = [bytes(rng.choice(palette) if palette else rng.randbytes(3)) * size for _ in range(0, width, size)]
        row = b"".join(cells)[: 3 * width]
        rows.extend([row] * size)
    return rows[:height]


def noise(rng: random.Random, width: int, height: int, palette: list[Colour] | None) -> list[bytes]:
    """Independent random pixels (palette indices when trained)."""
    if not palette:
        data = rng.randbytes(3 * width * height)
    else:
        picks = rng.randbytes(width * height)
        channels = [picks.translate(bytes(palette[i % len(palette)][c] for i in range(256))) for c in range(3)]
        buffer = bytearray(3 * width * height)
        for c in range(3):
            buffer[c::3] = channels[c]
        data = bytes(buffer)
    return [data[3 * width * y : 3 * width * (y + 1)] for y in range(height)]


STYLES = {"gradient": gradient, "blocks": blocks, "noise": noise}


class Pixels(CogStyleModel):
    """Text to image, instantly: deterministic PNGs derived from the prompt."""

    name = "rshell/pixels"
    description = "Draws small deterministic PNG images from a prompt (gradient, blocks or noise)."

    def run(
        self,
        job: Job,
        prompt: str = Input(description="Text the picture is derived from"),
        width: int = Input(description="Width of the image in pixels", default=64, ge=16, le=512),
        height: int = Input(description="Height of the image in pixels", default=64, ge=16, le=512),
        seed: int = Input(description="Random seed; leave blank to derive one from the prompt", default=None),
        num_outputs: int = Input(description="Number of images to draw", default=1, ge=1, le=4),
        style: str = Input(
            description="How the pixels are drawn", default="gradient", choices=["gradient", "blocks", "noise"]
        ),
    ) -> list[Path]:  # the saved files' URLs
        palette = palette_from(job.weights)
        if seed is None:
            seed = seed_from(prompt)
        job.log(f"Using seed: {seed}")
        if palette:
            job.log(f"Drawing with a trained palette of {len(palette)} colours")
        urls: list[Path] = []
        for index in range(num_outputs):
            job.check(partial=urls or None)
            rng = random.Random(f"{prompt}\x00{seed}\x00{index}")
            rows: Iterable[bytes] = STYLES.get(style, gradient)(rng, width, height, palette)
            urls.append(Path(job.save_file(encode(width, height, rows), f"out-{index}.png", "image/png")))
            job.log(progress_line(index + 1, num_outputs))
        return urls
