"""Human summaries of predictions and trainings, built from their JSON.

Handlers return the API's JSON as `Result.data`; these functions turn that same JSON
into the text a person reads on a terminal, so the summary shows what `NAME =` binds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rshell.downloads import is_file_url
from rshell.rendering.tables import fields, short_id, short_time, table

LOG_TAIL_LINES = 10


def render_output(output: Any, *, concatenate: bool = False) -> str:
    """A prediction's output as a person reads it.

    A text iterator joined into its text, a string as-is, file URLs one per line,
    anything else as indented JSON.
    """
    if output is None:
        return ""
    if isinstance(output, str):
        return output
    if isinstance(output, list) and all(isinstance(v, str) for v in output):
        if output and all(is_file_url(v) for v in output):
            return "\n".join(output)
        if concatenate:
            return "".join(output)
    return json.dumps(output, indent=2, ensure_ascii=False)


def _parse_time(stamp: Any) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None


def elapsed_seconds(obj: dict[str, Any]) -> float | None:
    """How long it ran: the API's metrics.total_time, else completed - created."""
    total = (obj.get("metrics") or {}).get("total_time")
    if isinstance(total, (int, float)):
        return float(total)
    start, end = _parse_time(obj.get("created_at")), _parse_time(obj.get("completed_at"))
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def format_seconds(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.1f}s"


def finished_line(kind: str, obj: dict[str, Any]) -> str:
    """`prediction abc succeeded in 1.2s`: the stderr line after a run ends."""
    took = elapsed_seconds(obj)
    suffix = f" in {format_seconds(took)}" if took is not None else ""
    return f"{kind} {obj.get('id')} {obj.get('status')}{suffix}"


def failure_message(kind: str, obj: dict[str, Any]) -> str:
    """`prediction abc failed: CUDA out of memory`: why the statement failed, one line."""
    error = obj.get("error")
    detail = f": {' '.join(str(error).split())}" if error else ""
    return f"{kind} {obj.get('id')} {obj.get('status')}{detail}"


def logs_tail(logs: Any, lines: int = LOG_TAIL_LINES) -> str:
    """The last few log lines: where a failure usually explains itself."""
    if not logs:
        return ""
    kept = str(logs).replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
    return "\n".join(kept[-lines:])


def _model_of(obj: dict[str, Any]) -> str:
    model = obj.get("model") or ""
    version = obj.get("version")
    if version and version != "hidden" and not model:
        return short_id(version)
    return str(model)


def prediction_summary(obj: dict[str, Any], *, concatenate: bool = False, logs: bool = True) -> str:
    """`prediction show`: the fields that matter, then output, error and a logs tail
    (left out with logs=False when the logs were already printed while waiting)."""
    head = fields(
        [
            ("id", obj.get("id")),
            ("model", obj.get("model")),
            ("version", obj.get("version")),
            ("deployment", obj.get("deployment")),
            ("status", obj.get("status")),
            ("created", short_time(obj.get("created_at"))),
            ("elapsed", format_seconds(elapsed_seconds(obj))),
            ("web", (obj.get("urls") or {}).get("web")),
        ]
    )
    return _with_sections(head, obj, concatenate, logs)


def _with_sections(head: str, obj: dict[str, Any], concatenate: bool, logs: bool) -> str:
    output = render_output(obj.get("output"), concatenate=concatenate)
    return "\n".join([head] + (["output:\n" + _indent(output)] if output else []) + _error_and_logs(obj, logs))


def _error_and_logs(obj: dict[str, Any], logs: bool) -> list[str]:
    """The sections under a prediction's or training's fields: its error, its last log lines."""
    parts = [f"error: {obj['error']}"] if obj.get("error") else []
    tail = logs_tail(obj.get("logs")) if logs else ""
    if tail:
        parts.append("logs (last lines):\n" + _indent(tail))
    return parts


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.split("\n"))


def run_table(rows: Iterable[dict[str, Any]], plural: str) -> str:
    """`prediction list` / `training list`: one line per run (`plural` names them when none)."""
    body = [(r.get("id"), _model_of(r), r.get("status"), short_time(r.get("created_at"))) for r in rows]
    if not body:
        return f"no {plural}"
    return table(("id", "model", "status", "created_at"), body, flex=1)


def training_version(obj: dict[str, Any]) -> str | None:
    """The version a succeeded training created (`output.version`)."""
    output = obj.get("output")
    return output.get("version") if isinstance(output, dict) else None


def training_summary(obj: dict[str, Any], destination: str | None = None, *, logs: bool = True) -> str:
    """`training show` / `train`: id, status, destination, then the new version.

    The API's training object does not always echo the destination, so the handler
    that knows it (from --destination) passes it in.
    """
    head = fields(
        [
            ("id", obj.get("id")),
            ("model", obj.get("model")),
            ("version", obj.get("version")),
            ("status", obj.get("status")),
            ("destination", destination or obj.get("destination")),
            ("new version", training_version(obj)),
            ("created", short_time(obj.get("created_at"))),
            ("elapsed", format_seconds(elapsed_seconds(obj))),
        ]
    )
    return "\n".join([head] + _error_and_logs(obj, logs))
