"""Runs predictions and trainings on a worker pool and records what they produce.

A `Job` is one run. Its worker thread calls the predictor with a `SandboxRunContext`
whose callbacks write into the job's record (logs, outputs) and its `EventLog` (the
SSE stream). Iterator outputs are recorded item by item. Cancel marks the record
`canceled` at once and the predictor, which polls `cancelled()`, stops soon after;
whatever it produces after that is dropped.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rshell.sandbox import ids
from rshell.sandbox.edge import clean
from rshell.sandbox.events import EventLog
from rshell.sandbox.urls import internalise

if TYPE_CHECKING:
    from rshell.sandbox.core import Sandbox

from rshell.sandbox.predictors.base import Cancelled, RunContext

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
PRESTART_TIMEOUT = 10.0  # seconds the pool may take to start its threads


@dataclass
class Job:
    """One prediction or training in flight."""

    kind: str  # "predictions" | "trainings"
    id: str
    predictor: Any
    inputs: dict[str, Any]
    weights: dict[str, Any] | None
    events: EventLog
    on_success: Callable[[Any], Any] | None = None  # trainings: result → stored output
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    deadline: float | None = None  # time.monotonic() after which the run is canceled
    timer: threading.Timer | None = None  # fires the deadline; stopped when the run ends


class SandboxRunContext(RunContext):
    """What a predictor may do while it runs: log, poll cancel, save and read files."""

    def __init__(self, runner: Runner, job: Job) -> None:
        self._runner = runner
        self._job = job

    def log(self, text: str) -> None:
        self._runner.append_log(self._job, text)

    def cancelled(self) -> bool:
        job = self._job
        if job.deadline is not None and time.monotonic() >= job.deadline:
            self._runner.cancel(job.kind, job.id)
        return job.cancel_requested.is_set()

    def save_file(self, data: bytes, filename: str, content_type: str) -> str:
        return self._runner.sandbox.save_output_file(data, filename, content_type)

    def read_input(self, url_or_data: str) -> bytes:
        return self._runner.sandbox.read_input(url_or_data)


class Runner:
    """A fixed pool of worker threads shared by predictions and trainings."""

    def __init__(self, sandbox: Sandbox, workers: int = 4) -> None:
        self.sandbox = sandbox
        self.jobs: dict[str, Job] = {}
        self.closing = False  # set by shutdown(): no record changes after it
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox-worker")
        self._prestart(workers)

    def _prestart(self, workers: int) -> None:
        """Start every worker thread now. The pool would start one per submit while it
        has none idle, and a thread start blocks the event loop that called `submit`
        for milliseconds: a burst of creates was answered one thread start apart."""
        ready = threading.Barrier(workers + 1)
        for _ in range(workers):  # each holds its thread until all are running
            self._pool.submit(ready.wait, PRESTART_TIMEOUT)
        with contextlib.suppress(threading.BrokenBarrierError):  # a starved machine: the rest start on demand
            ready.wait(PRESTART_TIMEOUT)

    def submit(self, job: Job) -> None:
        self.jobs[job.id] = job
        if job.deadline is not None:
            job.timer = threading.Timer(max(0.0, job.deadline - time.monotonic()), self.cancel, (job.kind, job.id))
            job.timer.daemon = True
            job.timer.start()
        self._pool.submit(self._run, job)

    def shutdown(self) -> None:
        """Stop taking work; save what in-flight runs have so far and ask them to stop.

        Their records stay unfinished on disk, so the next start reports them failed
        ("the sandbox restarted"), with the logs and output they had.
        """
        store = self.sandbox.store
        with store.lock:
            self.closing = True
            for job in list(self.jobs.values()):
                store.save(job.kind, job.id)
                job.cancel_requested.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # state changes -----------------------------------------------------------------

    def cancel(self, kind: str, job_id: str) -> bool:
        """Mark a run canceled now; False if it had already finished."""
        job = self.jobs.get(job_id)
        if job is not None:
            job.cancel_requested.set()
        return self.finish(kind, job_id, "canceled")

    def finish(self, kind: str, job_id: str, status: str, error: str | None = None) -> bool:
        """Move a record to a terminal status, once; the `done` event goes last."""
        error = clean(error)
        store = self.sandbox.store
        events = self.sandbox.events_for(kind, job_id)
        with store.edit(kind, job_id) as record:
            if self.closing or record is None or record["status"] in TERMINAL:
                return False
            record["status"] = status
            record["error"] = error
            record["completed_at"] = ids.timestamp()
            record["metrics"] = _metrics(record)
            if status == "failed":
                events.append("error", {"detail": error or "prediction failed"})
            events.append(
                "done", {} if status == "succeeded" else {"reason": "error" if status == "failed" else "canceled"}
            )
            record["_events"] = events.as_lists()
        store.release(kind, job_id)  # its row is final; readers read it from now on
        job = self.jobs.pop(job_id, None)
        if job is not None and job.timer is not None:
            job.timer.cancel()
        self.sandbox.forget_events(job_id)  # its replay now lives in the record
        self.sandbox.notify_webhook(kind, job_id, "completed")
        return True

    # these three change the live record of a run in flight (held in memory by the
    # store) without writing its row: a run's row is written when its status changes

    def append_log(self, job: Job, text: str) -> None:
        text = clean(str(text))
        store = self.sandbox.store
        with store.lock:
            record = store.get(job.kind, job.id)
            if self.closing or record is None or record["status"] in TERMINAL:
                return
            record["logs"] = (record.get("logs") or "") + (text if text.endswith("\n") else text + "\n")
            job.events.append("logs", text.rstrip("\n"))

    def append_output(self, job: Job, value: Any, *, iterator: bool) -> None:
        value = internalise(clean(_jsonable(value, self.sandbox)), self.sandbox.origins)
        store = self.sandbox.store
        with store.lock:
            record = store.get(job.kind, job.id)
            if self.closing or record is None or record["status"] in TERMINAL:
                return
            if iterator:
                if not isinstance(record.get("output"), list):
                    record["output"] = []
                record["output"].append(value)
            else:
                record["output"] = value
            job.events.append("output", value)

    # the worker --------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        if not self._start(job):
            return
        try:
            result = job.predictor.predict(dict(job.inputs), SandboxRunContext(self, job), job.weights)
            if _is_iterator(result):
                self._drain(job, result)
            elif job.on_success is not None:
                if not job.cancel_requested.is_set():  # a canceled training makes no version
                    self._store_training_output(job, job.on_success(result))
            else:
                self.append_output(job, result, iterator=False)
        except Cancelled as stop:
            self._keep_partial(job, stop.output)
            self.finish(job.kind, job.id, "canceled")
            return
        except Exception as exc:  # a predictor's failure is the prediction's, never the server's
            self.finish(job.kind, job.id, "failed", str(exc) or type(exc).__name__)
            return
        self.finish(job.kind, job.id, "canceled" if job.cancel_requested.is_set() else "succeeded")

    def _start(self, job: Job) -> bool:
        with self.sandbox.store.edit(job.kind, job.id) as record:
            if self.closing or record is None or record["status"] in TERMINAL:
                self.jobs.pop(job.id, None)
                return False
            record["status"] = "processing"
            record["started_at"] = ids.timestamp()
        self.sandbox.notify_webhook(job.kind, job.id, "start")
        return True

    def _drain(self, job: Job, items: Any) -> None:
        self._begin_list(job)
        for item in items:
            if job.cancel_requested.is_set():
                break
            self.append_output(job, item, iterator=True)
        close = getattr(items, "close", None)
        if callable(close):
            close()

    def _keep_partial(self, job: Job, output: Any) -> None:
        """What a canceled predictor had made (e.g. images saved) stays on the record."""
        if output is None or job.on_success is not None:
            return
        value = internalise(clean(_jsonable(output, self.sandbox)), self.sandbox.origins)
        with self.sandbox.store.edit(job.kind, job.id) as record:
            if (
                not self.closing
                and record is not None
                and record.get("output") in (None, [])
                and record["status"] in ("processing", "canceled")
            ):
                record["output"] = value

    def _begin_list(self, job: Job) -> None:
        """An iterator's output starts as an empty list, as Replicate shows it."""
        store = self.sandbox.store
        with store.lock:
            record = store.get(job.kind, job.id)
            if record is not None and record["status"] not in TERMINAL and record.get("output") is None:
                record["output"] = []

    def _store_training_output(self, job: Job, output: Any) -> None:
        store = self.sandbox.store
        with store.lock:
            record = store.get(job.kind, job.id)
            if not self.closing and record is not None and record["status"] not in TERMINAL:
                record["output"] = internalise(clean(output), self.sandbox.origins)


def _is_iterator(value: Any) -> bool:
    return inspect.isgenerator(value) or (
        hasattr(value, "__next__") and not isinstance(value, (str, bytes, dict, list))
    )


def _jsonable(value: Any, sandbox: Sandbox) -> Any:
    """Outputs as JSON: paths and bytes become output files served by the sandbox."""
    if isinstance(value, Path):
        guess = _content_type(value.name)
        return sandbox.save_output_file(value.read_bytes(), value.name, guess)
    if isinstance(value, (bytes, bytearray)):
        return sandbox.save_output_file(bytes(value), "output.bin", "application/octet-stream")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, sandbox) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, sandbox) for k, v in value.items()}
    return value


def _content_type(filename: str) -> str:
    import mimetypes

    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _metrics(record: dict[str, Any]) -> dict[str, float]:
    end = ids.parse_iso(record["completed_at"])
    metrics = {"total_time": round((end - ids.parse_iso(record["created_at"])).total_seconds(), 6)}
    if record.get("started_at"):
        metrics["predict_time"] = round((end - ids.parse_iso(record["started_at"])).total_seconds(), 6)
    return metrics


def delivery_path(blob_id: str, filename: str) -> str:
    return f"/delivery/{blob_id}/{quote(filename)}"
