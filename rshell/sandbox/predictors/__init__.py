"""The sandbox's built-in models, written as Cog-style predictors.

`BUILTIN` maps "rshell/<name>" to a ready instance. A training's output names the
predictor its new version runs: `{"weights": {...}, "predictor": "pixels"}` means
`BUILTIN["rshell/pixels"]` called with those weights.
"""

from __future__ import annotations

from rshell.sandbox.predictors.base import (
    Cancelled,
    MemoryRun,
    PredictionError,
    Predictor,
    RunContext,
)
from rshell.sandbox.predictors.echo import Echo
from rshell.sandbox.predictors.model import CogStyleModel, Job
from rshell.sandbox.predictors.palette_trainer import PaletteTrainer
from rshell.sandbox.predictors.pixels import Pixels
from rshell.sandbox.predictors.tinylm import TinyLM
from rshell.sandbox.predictors.upscale import Upscale


def _builtin() -> dict[str, Predictor]:
    models: list[Predictor] = [Pixels(), Upscale(), TinyLM(), Echo(), PaletteTrainer()]
    return {model.name: model for model in models}


BUILTIN: dict[str, Predictor] = _builtin()

__all__ = [
    "BUILTIN",
    "Cancelled",
    "CogStyleModel",
    "Job",
    "MemoryRun",
    "PredictionError",
    "Predictor",
    "RunContext",
]
