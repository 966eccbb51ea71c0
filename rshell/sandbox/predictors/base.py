"""The contract between the sandbox server and the models it hosts.

The server owns HTTP, records and files; a predictor owns only its computation. They
meet here: the server calls `Predictor.predict(inputs, run, weights)` in a worker
thread and hands it a `RunContext` for logging, cancellation and files.

Failure and cancellation, as the server sees them:

- `PredictionError` (or any other exception): the prediction failed; `str(exc)` is
  the one-line error to report.
- `Cancelled`: the predictor noticed `run.cancelled()` and stopped early. It is
  raised from `predict()` or from inside a returned iterator; `Cancelled.output`
  holds whatever partial output existed (e.g. the images already saved), or None.
  The server reports the run as `canceled`, never `failed`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from rshell import dataurls


class PredictionError(Exception):
    """A run failed for a reason the user can act on; the message is one line."""


class Cancelled(Exception):
    """A run stopped early because it was asked to; `output` is what it had by then."""

    def __init__(self, output: Any = None) -> None:
        super().__init__("canceled")
        self.output = output


class RunContext(ABC):
    """What a predictor may do while it runs; the server implements it per run."""

    @abstractmethod
    def log(self, text: str) -> None:
        """Append a line to the run's logs (streamed to clients as it happens)."""

    @abstractmethod
    def cancelled(self) -> bool:
        """True once the run was asked to stop; predictors poll it in their loops."""

    @abstractmethod
    def save_file(self, data: bytes, filename: str, content_type: str) -> str:
        """Store an output file and return the URL a client can fetch it from."""

    @abstractmethod
    def read_input(self, url_or_data: str) -> bytes:
        """The bytes behind a file input: a data: URL or a URL the server serves."""


@runtime_checkable
class Predictor(Protocol):
    """A model the sandbox can run: its schema, and a function from inputs to output.

    An optional `official: bool` (False when absent) makes it an official model: run
    by name, with no versions endpoint; otherwise it runs by version only.
    """

    # read-only members: a model may declare them on its class or set them per instance
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def hardware(self) -> str: ...
    @property
    def trainable(self) -> bool: ...

    def openapi_schema(self) -> dict[str, Any]:
        """The version's openapi_schema, shaped exactly as Cog generates it."""
        ...

    def predict(
        self, inputs: dict[str, Any], run: RunContext, weights: dict[str, Any] | None = None
    ) -> Any | Iterator[Any]:
        """Run once: a JSON-able output, or an iterator of items for streamed output."""
        ...


def decode_data_url(url: str) -> bytes:
    """The payload of a `data:` URL, for read_input: `rshell.dataurls`' strict rule, its
    failure a PredictionError (`;base64,!!!` fails the run, never runs as an empty file)."""
    try:
        return dataurls.decode(url)
    except dataurls.DataURLError as error:
        raise PredictionError(f"bad data URL: {error}") from None


class MemoryRun(RunContext):
    """A RunContext kept in memory: for tests and for running a model outside a server.

    Saved files get `memory://files/<n>/<filename>` URLs that `read_input` resolves,
    so one model's output can feed the next, as in the sandbox.
    """

    def __init__(self) -> None:
        self.logs: list[str] = []
        self.files: dict[str, tuple[bytes, str, str]] = {}
        self._cancel = threading.Event()

    def log(self, text: str) -> None:
        self.logs.append(text)

    def cancel(self) -> None:
        """Ask the run to stop (what the server does on POST .../cancel)."""
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def save_file(self, data: bytes, filename: str, content_type: str) -> str:
        url = f"memory://files/{len(self.files)}/{filename}"
        self.files[url] = (bytes(data), filename, content_type)
        return url

    def read_input(self, url_or_data: str) -> bytes:
        if url_or_data.startswith("data:"):
            return decode_data_url(url_or_data)
        if url_or_data in self.files:
            return self.files[url_or_data][0]
        raise PredictionError(f"cannot read input file {url_or_data[:80]!r}")
