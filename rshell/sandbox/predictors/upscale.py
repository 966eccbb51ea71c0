"""rshell/upscale: nearest-neighbour enlargement of a PNG, an image-to-image stand-in.

It takes a file input, so it exercises uploads, data: URLs and chaining another
model's output URL into an input.
"""

from __future__ import annotations

from rshell.sandbox.predictors.base import PredictionError
from rshell.sandbox.predictors.declare import Input, Path
from rshell.sandbox.predictors.model import CogStyleModel, Job
from rshell.sandbox.predictors.png import PngError, decode, encode, is_png

MAX_SIDE = 4096  # the largest output side; bigger would take seconds and hundreds of MB


def scale_row(row: bytes, channels: int, scale: int) -> bytes:
    """One row with every pixel repeated `scale` times."""
    return b"".join(row[i : i + channels] * scale for i in range(0, len(row), channels))


class Upscale(CogStyleModel):
    """Enlarges a PNG 2x or 4x by repeating pixels."""

    name = "rshell/upscale"
    description = "Enlarges a PNG image 2x or 4x (nearest neighbour)."

    def run(
        self,
        job: Job,
        image: Path = Input(description="The PNG image to enlarge"),
        scale: int = Input(description="Factor to enlarge by", default=2, choices=[2, 4]),
    ) -> Path:
        data = job.read_input(image)
        if not is_png(data):
            raise PredictionError("image is not a PNG (rshell/upscale reads PNG images only)")
        try:
            picture = decode(data)
        except PngError as exc:
            raise PredictionError(f"cannot read image: {exc}") from None
        width, height = picture.width * scale, picture.height * scale
        if max(width, height) > MAX_SIDE:
            raise PredictionError(f"upscaled image would be {width}x{height}; the limit is {MAX_SIDE} a side")
        job.log(f"Upscaling {picture.width}x{picture.height} to {width}x{height}")
        rows = []
        for y, row in enumerate(picture.rows):
            if y % 64 == 0:
                job.check()
            rows.extend([scale_row(row, picture.channels, scale)] * scale)
        return job.save_file(encode(width, height, rows, picture.channels), "upscaled.png", "image/png")  # type: ignore[return-value]
