"""rshell/palette-trainer: "fine-tunes" rshell/pixels by learning a colour palette.

A training reads a zip of PNGs, clusters their colours with k-means for `steps`
rounds and returns weights that a new rshell/pixels version draws with, so the
whole trainings workflow (upload, train, new version, predict) runs locally.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from typing import Any

from rshell.sandbox.predictors.base import PredictionError
from rshell.sandbox.predictors.declare import Input, Path
from rshell.sandbox.predictors.model import CogStyleModel, Job
from rshell.sandbox.predictors.pixels import progress_line
from rshell.sandbox.predictors.png import PngError, decode

Colour = tuple[int, int, int]
MAX_COLOURS = 6
SAMPLES_PER_IMAGE = 4096  # pixels looked at per image: a palette needs no more


def read_zip_pngs(job: Job, data: bytes) -> list[tuple[str, Any]]:
    """(name, decoded image) for every PNG in the archive, in archive order."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise PredictionError("input_images is not a zip archive") from None
    images = []
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.lower().endswith(".png") or "__MACOSX" in info.filename:
                continue
            try:
                images.append((info.filename, decode(archive.read(info))))
            except PngError as exc:
                job.log(f"skipping {info.filename}: {exc}")
    if not images:
        raise PredictionError("input_images has no PNG images this trainer can read")
    return images


def colour_counts(images: list[tuple[str, Any]]) -> Counter[Colour]:
    """How often each opaque colour occurs in a sample of every image's pixels."""
    counts: Counter[Colour] = Counter()
    for _, image in images:
        pixels = list(image.pixels())
        step = max(1, len(pixels) // SAMPLES_PER_IMAGE)
        for pixel in pixels[::step]:
            if image.channels in (2, 4) and pixel[-1] < 128:
                continue  # transparent: not part of the picture's palette
            counts[_rgb(pixel)] += 1
    if not counts:
        raise PredictionError("input_images has only transparent pixels")
    return counts


def _rgb(pixel: tuple[int, ...]) -> Colour:
    return (pixel[0], pixel[0], pixel[0]) if len(pixel) <= 2 else (pixel[0], pixel[1], pixel[2])


def _distance(a: Colour | list[float], b: Colour | list[float]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))


def initial_centres(counts: Counter[Colour], k: int) -> list[list[float]]:
    """Most frequent colour first, then repeatedly the colour farthest from the chosen."""
    ranked = sorted(counts, key=lambda c: (-counts[c], c))
    centres = [ranked[0]]
    while len(centres) < k:
        centres.append(max(ranked, key=lambda c: min(_distance(c, m) for m in centres)))
    return [list(map(float, c)) for c in centres]


def kmeans_step(counts: Counter[Colour], centres: list[list[float]]) -> tuple[list[list[float]], list[int]]:
    """One Lloyd iteration weighted by colour counts: new centres and their weights."""
    sums = [[0.0, 0.0, 0.0] for _ in centres]
    weights = [0] * len(centres)
    for colour, n in counts.items():
        best = min(range(len(centres)), key=lambda i: _distance(colour, centres[i]))
        weights[best] += n
        for c in range(3):
            sums[best][c] += colour[c] * n
    new = [[s / w for s in total] if w else old for total, w, old in zip(sums, weights, centres, strict=True)]
    return new, weights


class PaletteTrainer(CogStyleModel):
    """Learns a palette from images; the result is weights for rshell/pixels."""

    name = "rshell/palette-trainer"
    description = "Learns a colour palette from a zip of PNG images; trains new rshell/pixels versions."
    trainable = True

    def run(
        self,
        job: Job,
        input_images: Path = Input(description="A zip file of PNG images to learn the colours of"),
        steps: int = Input(description="Number of k-means refinement steps", default=10, ge=1, le=100),
    ) -> dict[str, Any]:
        images = read_zip_pngs(job, job.read_input(input_images))
        counts = colour_counts(images)
        k = min(MAX_COLOURS, len(counts))
        job.log(f"Read {len(images)} image(s) with {len(counts)} distinct colours; learning {k}")
        centres, weights = initial_centres(counts, k), [0] * k
        for step in range(1, steps + 1):
            job.check()
            centres, weights = kmeans_step(counts, centres)
            job.log(f"step {step}/{steps} {progress_line(step, steps)}")
        order = sorted(range(k), key=lambda i: (-weights[i], centres[i]))
        palette = [[round(v) for v in centres[i]] for i in order]
        return {"weights": {"palette": palette}, "predictor": "pixels"}
