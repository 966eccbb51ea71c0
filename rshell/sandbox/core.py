"""The sandbox's domain: models, versions and runs, independent of HTTP.

`Sandbox` owns the store, the predictor registry and the worker pool. Request
handlers call it to resolve models and versions, start runs and read files; it
raises `Problem`s that the HTTP layer turns into problem+json.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from pathlib import Path
from typing import Any

from rshell.safepaths import plain_name
from rshell.sandbox import ids
from rshell.sandbox.catalog import BUILTIN_CREATED_AT, BUILTIN_OWNER, OWNER
from rshell.sandbox.edge import clean
from rshell.sandbox.events import EventLog
from rshell.sandbox.predictors.base import decode_data_url
from rshell.sandbox.problems import Problem, invalid, not_found, resource_not_found, version_refused
from rshell.sandbox.runner import TERMINAL, Job, Runner, delivery_path
from rshell.sandbox.store import Query, Record, Store
from rshell.sandbox.urls import MARKER, local_path

RESTARTED = "the sandbox restarted before this run finished"


class Sandbox:
    """State and behaviour of one sandbox server."""

    def __init__(
        self,
        data_dir: Path,
        predictors: dict[str, Any],
        *,
        max_file_size: int = 100 * 2**20,
        workers: int = 4,
    ) -> None:
        self.store = Store(data_dir)
        self.max_file_size = max_file_size
        self.registry: dict[str, Any] = {}
        self.origin = ""
        self.origins: tuple[str, ...] = ()
        self.secret: str = self.store.setting("webhook_secret", _new_secret)
        # signs files.download URLs ('{owner} {id} {expiry}', as the spec describes)
        self.files_secret: str = self.store.setting("files_secret", lambda: secrets.token_urlsafe(32))
        self._logs: dict[str, EventLog] = {}
        self._logs_lock = threading.Lock()
        try:
            for key, predictor in predictors.items():  # may raise (an unreachable --cog server)
                self.register(key, predictor, builtin=key.startswith(BUILTIN_OWNER + "/"))
        except BaseException:
            self.store.close()
            raise
        self.runner = Runner(self, workers)
        self._recover()

    # set-up ------------------------------------------------------------------------

    def set_origin(self, origin: str) -> None:
        """Where the server listens; output file URLs are made on it."""
        self.origin = origin.rstrip("/")
        alternates = {
            self.origin,
            self.origin.replace("127.0.0.1", "localhost"),
            self.origin.replace("localhost", "127.0.0.1"),
        }
        self.origins = tuple(sorted(alternates))

    def register(self, key: str, predictor: Any, *, builtin: bool) -> None:
        """Host `predictor` as model `key` ("owner/name") with one version (in memory)."""
        owner, _, name = key.partition("/")
        self.registry[key] = predictor
        schema = predictor.openapi_schema()
        version = ids.version_id(key, schema, None)
        self.store.put(
            "models",
            key,
            {
                "owner": owner,
                "name": name,
                "description": clean(getattr(predictor, "description", None)),
                "visibility": "public",
                "hardware": getattr(predictor, "hardware", "cpu"),
                "github_url": None,
                "paper_url": None,
                "license_url": None,
                "cover_image_url": None,
                "readme": None,
                "weights_url": None,
                "created_at": BUILTIN_CREATED_AT,
                "builtin": builtin,
                "official": bool(getattr(predictor, "official", False)),
            },
            persist=False,
        )
        self.store.put(
            "versions",
            f"{key}:{version}",
            {
                "id": version,
                "model": key,
                "created_at": BUILTIN_CREATED_AT,
                "cog_version": "0.16.0",
                "openapi_schema": schema,
                "predictor": key,
                "weights": None,
            },
            persist=False,
        )

    def _recover(self) -> None:
        """Runs that were in flight when the server stopped come back as failed."""
        with self.store.transaction():
            for kind in ("predictions", "trainings"):
                for found in self.store.rows(kind, Query(unfinished=TERMINAL)):
                    with self.store.edit(kind, found["id"]) as record:
                        if record is None:
                            continue
                        record.update(status="failed", error=RESTARTED, completed_at=ids.timestamp())
                        log = EventLog()
                        if record.get("logs"):
                            log.append("logs", str(record["logs"]).rstrip("\n"))
                        log.append("error", {"detail": RESTARTED})
                        log.append("done", {"reason": "error"})
                        record["_events"] = log.as_lists()

    def release_waiters(self) -> None:
        """Before the server stops: held waits answer and streams end (see EventLog.release)."""
        with self._logs_lock:
            logs = list(self._logs.values())
        for log in logs:
            log.release()

    def close(self) -> None:
        """Stop the workers, then release what predictors hold (a Cog model's HTTP client)."""
        self.runner.shutdown()
        self.store.close()
        for predictor in self.registry.values():
            release = getattr(predictor, "close", None)
            if callable(release):
                release()

    # models and versions -----------------------------------------------------------

    def model(self, owner: str, name: str) -> Record:
        record = self.store.snapshot("models", f"{owner}/{name}")
        if record is None:
            raise not_found("model", f"{owner}/{name}")
        return record

    def versions(self, model_key: str) -> list[Record]:
        """A model's versions, newest first."""
        from rshell.sandbox.render import version_key

        return sorted(self.store.values("versions", model=model_key), key=version_key, reverse=True)

    def latest_version(self, model_key: str) -> Record | None:
        found = self.versions(model_key)
        return found[0] if found else None

    def version(self, model_key: str, version_id: str) -> Record:
        """A stored version, official models' included (for running and deployments)."""
        record = self.store.snapshot("versions", f"{model_key}:{version_id}")
        if record is None:
            raise not_found("version", f"{model_key}:{version_id}")
        return record

    def is_official(self, model_key: str) -> bool:
        model = self.store.snapshot("models", model_key)
        return bool(model and model.get("official"))

    def listed_versions(self, owner: str, name: str) -> list[Record]:
        """The versions endpoint's list: an official model has none (404, as Replicate)."""
        self.model(owner, name)
        if self.is_official(f"{owner}/{name}"):
            raise resource_not_found()
        return self.versions(f"{owner}/{name}")

    def listed_version(self, owner: str, name: str, version_id: str) -> Record:
        """One version by the versions endpoint; an official model's are not addressable."""
        self.listed_versions(owner, name)
        return self.version(f"{owner}/{name}", version_id)

    def find_version(self, ref: str) -> Record:
        """The version `POST /v1/predictions` runs: `owner/name:id` or a bare id of a
        versioned model, or `owner/name` of an official model (its latest), as the
        spec's `version` field allows; anything else is Replicate's 422."""
        if ":" in ref:
            model_key, _, version_id = ref.partition(":")
            record = self.store.snapshot("versions", f"{model_key}:{version_id}")
        elif "/" in ref:
            if not self.is_official(ref):
                raise invalid(f"version {ref}: only official models run by name; give owner/name:version")
            owner, _, name = ref.partition("/")
            return self.runnable_version(owner, name)
        else:
            found = self.store.values("versions", lambda v: v["id"] == ref)
            record = found[0] if found else None
        if record is None or self.is_official(record["model"]):
            raise version_refused(ref)
        return record

    def runnable_version(self, owner: str, name: str) -> Record:
        """The version the model endpoint runs: an official model's latest. Any other
        model has no such endpoint (Replicate's 404); it runs by version."""
        model_key = f"{owner}/{name}"
        self.model(owner, name)
        if not self.is_official(model_key):
            raise resource_not_found()
        latest = self.latest_version(model_key)
        if latest is None:
            raise invalid(f"model {model_key} has no versions yet")
        return latest

    def predictor(self, version: Record) -> Any:
        predictor = self.registry.get(version["predictor"])
        if predictor is None:
            raise Problem(503, f"the predictor {version['predictor']} of this version is not available")
        return predictor

    def predictor_named(self, name: str) -> tuple[str, Any]:
        """A registry entry by key (`rshell/pixels`) or bare predictor name (`pixels`)."""
        for key in (name, f"{BUILTIN_OWNER}/{name}"):
            if key in self.registry:
                return key, self.registry[key]
        for key, predictor in self.registry.items():
            if getattr(predictor, "name", None) == name:
                return key, predictor
        raise LookupError(f"no predictor named {name}")

    # runs --------------------------------------------------------------------------

    def events_for(self, kind: str, job_id: str) -> EventLog:
        """The live event log of a run, or its replay rebuilt from the stored record."""
        with self._logs_lock:
            log = self._logs.get(job_id)
            if log is None:
                record = self.store.get(kind, job_id) or {}
                log = EventLog.from_lists(record.get("_events") or [])
                self._logs[job_id] = log
            return log

    def forget_events(self, job_id: str) -> None:
        """Drop a finished run's live log; readers following it keep their reference,
        and new readers rebuild it from the record's `_events`."""
        with self._logs_lock:
            self._logs.pop(job_id, None)

    def start_run(
        self,
        kind: str,
        record: Record,
        predictor: Any,
        weights: dict[str, Any] | None,
        *,
        deadline: float | None = None,
        on_success: Any = None,
    ) -> None:
        """Store a new run in `starting` and queue it on the worker pool."""
        log = EventLog()
        with self._logs_lock:
            self._logs[record["id"]] = log
        self.store.put(kind, record["id"], record, hold=True)
        job = Job(
            kind,
            record["id"],
            predictor,
            self.public_inputs(record["input"]),
            weights,
            log,
            on_success=on_success,
            deadline=deadline,
        )
        self.runner.submit(job)

    def public_inputs(self, value: Any) -> Any:
        from rshell.sandbox.urls import publicise

        return publicise(value, self.origin)

    def add_version(self, model_key: str, predictor_key: str, weights: dict[str, Any]) -> Record:
        """A new version of `model_key` that runs `predictor_key` with `weights`."""
        schema = self.registry[predictor_key].openapi_schema()
        version_id = ids.version_id(predictor_key, schema, weights)
        record = {
            "id": version_id,
            "model": model_key,
            "created_at": ids.timestamp(),
            "cog_version": "0.16.0",
            "openapi_schema": schema,
            "predictor": predictor_key,
            "weights": weights,
        }
        self.store.put("versions", f"{model_key}:{version_id}", record)
        return record

    # files -------------------------------------------------------------------------

    def save_output_file(self, data: bytes, filename: str, content_type: str) -> str:
        """Keep an output file and return its public URL (served at /delivery/…)."""
        blob_id = ids.new_id()
        name = plain_name(filename, "output")  # the one rule for a name a model chose
        self.store.write_blob(blob_id, data)
        self.store.put(
            "deliveries",
            blob_id,
            {
                "id": blob_id,
                "filename": name,
                "content_type": content_type or "application/octet-stream",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "created_at": ids.timestamp(),
            },
        )
        return self.origin + delivery_path(blob_id, name)

    def read_input(self, url_or_data: str) -> bytes:
        """The bytes behind an input file: a data: URL, a sandbox URL, or another URL."""
        if url_or_data.startswith("data:"):
            return decode_data_url(url_or_data)
        path = local_path(url_or_data, self.origins + ((self.origin,) if self.origin else ()))
        if path is not None or url_or_data.startswith(MARKER):
            return self._read_local(path or "")
        import httpx

        response = httpx.get(url_or_data, timeout=30.0, follow_redirects=True)
        response.raise_for_status()
        return response.content

    def _read_local(self, path: str) -> bytes:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if len(parts) >= 3 and parts[:2] == ["v1", "files"]:
            kind, blob_id = "files", parts[2]
        elif len(parts) >= 2 and parts[0] == "delivery":
            kind, blob_id = "deliveries", parts[1]
        else:
            raise ValueError(f"{path} is not a file on this sandbox")
        if self.store.get(kind, blob_id) is None:
            raise ValueError(f"file {blob_id} not found on this sandbox")
        return self.store.blob_path(blob_id).read_bytes()

    # webhooks ----------------------------------------------------------------------

    def notify_webhook(self, kind: str, job_id: str, event: str) -> None:
        """POST the run to its webhook (if any and if its filter allows `event`)."""
        from rshell.sandbox.webhooks import deliver

        deliver(self, kind, job_id, event)


def _new_secret() -> str:
    """A signing key in Replicate's form: `whsec_` + base64 of 32 random bytes."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def caller_owns(owner: str) -> bool:
    """Only the sandbox user's own models can be changed or trained into."""
    return owner == OWNER
