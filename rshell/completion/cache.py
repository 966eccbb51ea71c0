"""What completion knows about the API, kept in memory and on disk.

The refresher writes here from the background; the engine reads on every keystroke.
Writers hold a lock and replace whole containers (copy-on-write), so a reader never
needs the lock and never sees a half-built dict. The ranked model pool is rebuilt by
the writer, not the reader, so a keystroke never pays for sorting 10,000 models.

The disk copy (JSON, written atomically) lets `rshell --complete` from bash/zsh/fish
answer without the network, and a new shell start with warm completions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rshell.atomic import set_aside, write_text
from rshell.completion.matcher import Candidate
from rshell.completion.meta import join, short_count

FORMAT = 1
MAX_MODELS = 50_000
MAX_SCHEMAS = 300
MAX_RECENT = 50
LOCAL_CACHE_URL = "http://local-sandbox/v1"  # `--local`: one cache, whatever port the sandbox has


@dataclass(frozen=True)
class ModelInfo:
    name: str  # owner/name
    description: str = ""
    run_count: int = 0


@dataclass(frozen=True)
class VersionInfo:
    id: str
    created_at: str = ""


def default_path(base_url: str | None = None) -> Path:
    """The cache file in the user cache dir, one per API host (sandbox ≠ production)."""
    from platformdirs import user_cache_dir

    host = urlsplit(base_url).netloc if base_url else ""
    name = "completion.json"
    if host and host != "api.replicate.com":
        safe = "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in host)
        name = f"completion-{safe}.json"
    return Path(user_cache_dir("rshell")) / name


class CompletionCache:
    """Models, schemas, versions, ids and names that completion offers."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.models: dict[str, ModelInfo] = {}
        self.model_pool: tuple[Candidate, ...] = ()  # every cached model, most run first
        self.searches: dict[str, tuple[str, ...]] = {}  # query → model names found
        self.schemas: dict[str, dict[str, Any]] = {}  # owner/name → latest openapi_schema
        self.version_schemas: dict[str, dict[str, Any]] = {}  # version id → openapi_schema
        self.versions: dict[str, tuple[VersionInfo, ...]] = {}  # owner/name → newest first
        self.deployment_versions: dict[str, str] = {}  # deployment owner/name → its release's version id
        self.lists: dict[str, tuple[Candidate, ...]] = {}  # kind → ids or names (completion/sources.py)
        self.recent_models: tuple[str, ...] = ()
        self.username: str | None = None
        self.fetched: dict[str, float] = {}  # "kind:key" → time.time() of the last fetch
        self._generation = 0  # bumped whenever the model pool changes
        self._own: tuple[tuple[int, str | None], tuple[Candidate, ...]] = ((-1, None), ())

    # freshness ----------------------------------------------------------------------
    def age(self, kind: str, key: str = "") -> float | None:
        """Seconds since kind:key was fetched, None if never."""
        at = self.fetched.get(f"{kind}:{key}")
        return None if at is None else max(0.0, time.time() - at)

    def mark(self, kind: str, key: str = "", at: float | None = None) -> None:
        with self._lock:
            self.fetched = {**self.fetched, f"{kind}:{key}": time.time() if at is None else at}

    # writers --------------------------------------------------------------------------
    def put_models(self, models: Iterable[ModelInfo], query: str | None = None) -> None:
        """Merge models (a listing or a search's results); remember a search's names."""
        models = list(models)
        with self._lock:
            merged = dict(self.models)
            for m in models:
                merged[m.name] = m
            if len(merged) > MAX_MODELS:
                keep = sorted(merged.values(), key=lambda m: -m.run_count)[:MAX_MODELS]
                merged = {m.name: m for m in keep}
            if query is not None:
                self.searches = {**self.searches, query: tuple(m.name for m in models)}
            self._set_models(merged)

    def _set_models(self, models: dict[str, ModelInfo]) -> None:
        """Swap in a new model dict and its ranked pool (caller holds the lock)."""
        pool = _pool(models)
        self.models = models
        self.model_pool = pool
        self._generation += 1

    def put_schema(
        self, model: str, schema: dict[str, Any] | None, version: str | None = None, info: ModelInfo | None = None
    ) -> None:
        """Store a model's latest schema (and under its version id when known)."""
        with self._lock:
            if schema is not None:
                self.schemas = _capped({**self.schemas, model: schema})
                if version:
                    self.version_schemas = _capped({**self.version_schemas, version: schema})
            if info is not None and info.name not in self.models:
                self._set_models({**self.models, info.name: info})

    def put_version_schema(self, version: str, schema: dict[str, Any] | None) -> None:
        if schema is None:
            return
        with self._lock:
            self.version_schemas = _capped({**self.version_schemas, version: schema})

    def put_versions(self, model: str, versions: Iterable[VersionInfo]) -> None:
        with self._lock:
            self.versions = {**self.versions, model: tuple(versions)}

    def put_deployment(self, name: str, version: str, schema: dict[str, Any] | None) -> None:
        """A deployment's current version and that version's schema (its inputs)."""
        with self._lock:
            self.deployment_versions = {**self.deployment_versions, name: version}
            if schema is not None:
                self.version_schemas = _capped({**self.version_schemas, version: schema})

    def put_list(self, kind: str, items: Iterable[Candidate]) -> None:
        """Replace one of the id/name lists (hardware, predictions, …)."""
        with self._lock:
            self.lists = {**self.lists, kind: tuple(items)}

    def add_recent_models(self, names: Iterable[str]) -> None:
        """Put models the user ran first in the recent list (deduplicated, capped)."""
        with self._lock:
            fresh = [n for n in names if n]
            rest = [n for n in self.recent_models if n not in fresh]
            self.recent_models = tuple(dict.fromkeys(fresh + rest))[:MAX_RECENT]

    def set_username(self, username: str | None) -> None:
        with self._lock:
            self.username = username

    # readers --------------------------------------------------------------------------
    def schema_for(self, model: str, version: str | None = None) -> dict[str, Any] | None:
        """The openapi_schema for owner/name (latest) or a version id."""
        if version:
            return self.version_schemas.get(version)
        return self.schemas.get(model)

    def own_models(self) -> tuple[Candidate, ...]:
        """Cached models owned by the signed-in account, memoised per pool and user."""
        stamp = (self._generation, self.username)
        memo = self._own
        if memo[0] == stamp:
            return memo[1]
        owner = f"{self.username}/" if self.username else None
        own = tuple(c for c in self.model_pool if owner and c.text.startswith(owner))
        self._own = (stamp, own)
        return own

    # persistence --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "models": [[m.name, m.description, m.run_count] for m in self.models.values()],
            "searches": {q: list(names) for q, names in self.searches.items()},
            "schemas": self.schemas,
            "version_schemas": self.version_schemas,
            "versions": {k: [[v.id, v.created_at] for v in vs] for k, vs in self.versions.items()},
            "deployment_versions": self.deployment_versions,
            "lists": {k: [[c.text, c.meta] for c in items] for k, items in self.lists.items()},
            "recent_models": list(self.recent_models),
            "username": self.username,
            "fetched": self.fetched,
        }

    def from_json(self, data: dict[str, Any]) -> None:
        """Replace the contents with a saved copy; a wrong format leaves the cache empty."""
        if data.get("format") != FORMAT:
            return
        models = {row[0]: ModelInfo(row[0], row[1] or "", int(row[2] or 0)) for row in data.get("models", [])}
        with self._lock:
            self._set_models(models)
            self.searches = {q: tuple(n) for q, n in data.get("searches", {}).items()}
            self.schemas = dict(data.get("schemas", {}))
            self.version_schemas = dict(data.get("version_schemas", {}))
            self.versions = {k: tuple(VersionInfo(*v) for v in vs) for k, vs in data.get("versions", {}).items()}
            self.lists = {
                str(kind): tuple(Candidate(text, meta) for text, meta in rows)
                for kind, rows in data.get("lists", {}).items()
            }
            self.recent_models = tuple(data.get("recent_models", []))
            self.username = data.get("username")
            self.fetched = {k: float(v) for k, v in data.get("fetched", {}).items()}

    def load(self) -> bool:
        """Read the disk copy; False (and an empty cache) when missing or unreadable.

        A damaged copy (not UTF-8 or JSON, nested too deep, wrong shapes) is set aside
        as `….bad-<time>` with a one-line notice; the cache starts empty.
        """
        if self.path is None:
            return False
        try:
            raw = self.path.read_bytes()
        except OSError:
            return False
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            self.from_json(data)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            self._clear()
            set_aside(self.path, _why(exc))
            return False
        return True

    def _clear(self) -> None:
        """Back to empty after a half-applied damaged copy."""
        fresh = CompletionCache(self.path)
        with self._lock:
            for name, value in vars(fresh).items():
                if name != "_lock":
                    setattr(self, name, value)

    def save(self) -> None:
        """Write the disk copy atomically (temp file + rename), readable only by the user."""
        if self.path is None:
            return
        write_text(self.path, json.dumps(self.to_json(), separators=(",", ":")), mode=0o600)


def _why(exc: BaseException) -> str:
    """A few words on what was wrong with a damaged cache file."""
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return "not JSON"
    return "unexpected contents"


def _pool(models: dict[str, ModelInfo]) -> tuple[Candidate, ...]:
    """Every model as a candidate, most run first (ties by name, so order is stable)."""
    ordered = sorted(models.values(), key=lambda m: (-m.run_count, m.name))
    return tuple(Candidate(m.name, _model_meta(m)) for m in ordered)


def _model_meta(m: ModelInfo) -> str:
    """`1.2M runs · A text-to-image model`, safe for one menu line."""
    return join(f"{short_count(m.run_count)} runs" if m.run_count else "", m.description)


def _capped(d: dict[str, Any]) -> dict[str, Any]:
    """Keep the newest MAX_SCHEMAS entries (dicts keep insertion order)."""
    if len(d) <= MAX_SCHEMAS:
        return d
    return dict(list(d.items())[-MAX_SCHEMAS:])
