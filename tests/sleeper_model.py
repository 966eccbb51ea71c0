"""A sandbox model that takes a known time: the timing benchmarks and the batch tests
run it in an in-process sandbox, so its clock is the test's clock.

`Sleeper(seconds)` sleeps that long (or the row's `seconds` input), returns a string,
and records when each run finished (`time.perf_counter()`), which is when the API
learns that the prediction succeeded, give or take the runner's bookkeeping.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rshell.sandbox.predictors.base import RunContext


def cog_schema(**properties: dict[str, Any]) -> dict[str, Any]:
    """The openapi_schema Cog publishes for a model whose inputs are `properties`
    (`x` required) and whose output is a string: what test models declare."""
    inputs = {"type": "object", "title": "Input", "required": ["x"], "properties": properties}
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {},
        "components": {"schemas": {"Input": inputs, "Output": {"type": "string"}}},
    }


class Sleeper:
    """A Cog-shaped model: inputs `x` (integer, required) and `seconds` (optional)."""

    description = "sleeps, then answers"
    hardware = "cpu"
    trainable = False

    def __init__(self, seconds: float, name: str = "bench/sleeper") -> None:
        self.seconds = seconds
        self.name = name
        self.finished: list[float] = []
        self.started = 0
        self._lock = threading.Lock()

    def openapi_schema(self) -> dict[str, Any]:
        return cog_schema(
            x={"type": "integer", "title": "X", "x-order": 0},
            seconds={"type": "number", "title": "Seconds", "x-order": 1, "minimum": 0, "maximum": 60},
        )

    def predict(self, inputs: dict[str, Any], run: RunContext, weights: dict[str, Any] | None = None) -> str:
        with self._lock:
            self.started += 1
        deadline = time.perf_counter() + float(inputs.get("seconds", self.seconds))
        while (left := deadline - time.perf_counter()) > 0:
            if run.cancelled():
                return "canceled"
            time.sleep(min(left, 0.05))
        with self._lock:
            self.finished.append(time.perf_counter())
        return f"slept x={inputs['x']}"
