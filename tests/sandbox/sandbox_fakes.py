"""Small predictors with controllable timing, for exact tests of the server.

Each publishes a Cog-shaped schema (Input properties with x-order, an enum through
`allOf`), and the slow ones wait on gates the test opens, so ordering is
deterministic without sleeps.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from rshell.sandbox.predictors.base import Cancelled, PredictionError, RunContext

WAIT = 10.0  # seconds a gated predictor waits before giving up (a hung test fails, never hangs)


def schema(
    properties: dict[str, Any],
    required: list[str],
    output: dict[str, Any],
    enums: dict[str, Any] | None = None,
    training: bool = False,
) -> dict[str, Any]:
    components: dict[str, Any] = {
        "Input": {"type": "object", "title": "Input", "properties": properties, "required": required},
        "Output": output,
        **(enums or {}),
    }
    if training:
        components["TrainingInput"] = components["Input"]
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {},
        "components": {"schemas": components},
    }


class Fake:
    """A Predictor built from a schema and a function."""

    hardware = "cpu"

    def __init__(
        self, name: str, doc: dict[str, Any], run: Callable[..., Any], trainable: bool = False, official: bool = True
    ) -> None:
        self.name = name
        self.description = f"fake {name}"
        self.trainable = trainable
        self.official = official  # the fakes run by name, like official models
        self._schema = doc
        self._run = run

    def openapi_schema(self) -> dict[str, Any]:
        return self._schema

    def predict(self, inputs: dict[str, Any], run: RunContext, weights: dict[str, Any] | None = None) -> Any:
        return self._run(inputs, run, weights)


class Gate:
    """A counter the test raises to let a predictor take its next step."""

    def __init__(self) -> None:
        self._steps = threading.Semaphore(0)
        self._arrivals = threading.Semaphore(0)
        self.started = threading.Event()

    def arrive(self) -> None:
        """A run reached its gated code: it is `processing`, inside predict()."""
        self.started.set()
        self._arrivals.release()

    def arrived(self, runs: int = 1, timeout: float = WAIT) -> bool:
        """Wait until `runs` runs have arrived (each counted once); False on a hang."""
        return all(self._arrivals.acquire(timeout=timeout) for _ in range(runs))

    def open(self, steps: int = 1) -> None:
        for _ in range(steps):
            self._steps.release()

    def wait(self, run: RunContext) -> None:
        """Block until opened; raise Cancelled as soon as the run is canceled."""
        deadline = WAIT
        while deadline > 0:
            if run.cancelled():
                raise Cancelled()
            if self._steps.acquire(timeout=0.01):
                return
            deadline -= 0.01
        raise PredictionError("test gate never opened")

    def wait_ignoring_cancel(self) -> None:
        if not self._steps.acquire(timeout=WAIT):
            raise PredictionError("test gate never opened")


def echo_run(inputs: dict[str, Any], run: RunContext, weights: dict[str, Any] | None) -> str:
    run.log(f"echo {inputs['text']}")
    prefix = (weights or {}).get("prefix", "")
    text = prefix + inputs["text"]
    return " ".join([text.upper() if inputs["mode"] == "loud" else text] * inputs["n"])


def make_fakes() -> tuple[dict[str, Fake], dict[str, Gate]]:
    """Predictors keyed like the registry, and the gates that drive the slow ones."""
    gates = {"stepper": Gate(), "blocker": Gate(), "trainer": Gate()}

    echo = Fake(
        "test/echo",
        schema(
            {
                "text": {"type": "string", "title": "Text", "x-order": 0},
                "n": {"type": "integer", "default": 1, "minimum": 1, "maximum": 5, "x-order": 1},
                "mode": {"allOf": [{"$ref": "#/components/schemas/mode"}], "default": "plain", "x-order": 2},
            },
            ["text"],
            {"type": "string"},
            {"mode": {"type": "string", "title": "mode", "enum": ["plain", "loud"]}},
        ),
        echo_run,
    )

    def stepper_run(inputs: dict[str, Any], run: RunContext, weights: Any) -> Iterator[str]:
        gate = gates["stepper"]
        gate.arrive()
        for index in range(inputs["count"]):
            gate.wait(run)
            run.log(f"{(index + 1) * 100 // inputs['count']}%|step {index + 1}")
            yield f"tok{index}\n" if index == 1 else f"tok{index}"

    stepper = Fake(
        "test/stepper",
        schema(
            {"count": {"type": "integer", "default": 3, "x-order": 0}},
            [],
            {
                "type": "array",
                "items": {"type": "string"},
                "x-cog-array-type": "iterator",
                "x-cog-array-display": "concatenate",
            },
        ),
        stepper_run,
    )

    def blocker_run(inputs: dict[str, Any], run: RunContext, weights: Any) -> dict[str, Any]:
        gates["blocker"].arrive()
        run.log("waiting")
        gates["blocker"].wait(run)
        return {"released": True}

    blocker = Fake("test/blocker", schema({}, [], {"type": "object"}), blocker_run)

    def failer_run(inputs: dict[str, Any], run: RunContext, weights: Any) -> Any:
        run.log("about to fail")
        raise PredictionError("boom: the fake model failed")

    failer = Fake("test/failer", schema({}, [], {"type": "string"}), failer_run)

    def reader_run(inputs: dict[str, Any], run: RunContext, weights: Any) -> dict[str, Any]:
        data = run.read_input(inputs["file"])
        url = run.save_file(data[::-1], "reversed.txt", "text/plain")
        return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "reversed": url}

    reader = Fake(
        "test/reader",
        schema({"file": {"type": "string", "format": "uri", "x-order": 0}}, ["file"], {"type": "object"}),
        reader_run,
    )

    def trainer_run(inputs: dict[str, Any], run: RunContext, weights: Any) -> dict[str, Any]:
        if inputs["prefix"] in ("slow", "deaf"):
            gates["trainer"].arrive()
        if inputs["prefix"] == "slow":
            gates["trainer"].wait(run)  # a test opens it, or cancels the training
        if inputs["prefix"] == "deaf":
            gates["trainer"].wait_ignoring_cancel()  # a trainer that never polls cancelled()
        run.log("training 100%|")
        return {"weights": {"prefix": inputs["prefix"]}, "predictor": "test/echo"}

    trainer = Fake(
        "test/trainer",
        schema({"prefix": {"type": "string", "x-order": 0}}, ["prefix"], {"type": "object"}, training=True),
        trainer_run,
        trainable=True,
        official=False,  # trainings need a version, so a trainer is versioned
    )

    barrier = threading.Barrier(3)

    def together_run(inputs: dict[str, Any], run: RunContext, weights: Any) -> str:
        """Succeeds only if three runs are inside predict() at the same time."""
        barrier.wait(timeout=5)
        return "together"

    together = Fake("test/together", schema({}, [], {"type": "string"}), together_run)

    # the same echo as a model that is not official: it runs by version only
    versioned = Fake("test/versioned", echo.openapi_schema(), echo_run, official=False)

    fakes = {f.name: f for f in (echo, stepper, blocker, failer, reader, trainer, together, versioned)}
    return fakes, gates
