"""Human summaries of deployments: the list and `deployments show`, from their JSON."""

from __future__ import annotations

from typing import Any

from rshell.rendering.tables import fields, short_id, short_time, table


def _release(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment.get("current_release") or {}


def _config(deployment: dict[str, Any]) -> dict[str, Any]:
    return _release(deployment).get("configuration") or {}


def _instances(config: dict[str, Any]) -> str:
    low, high = config.get("min_instances"), config.get("max_instances")
    return "" if low is None and high is None else f"{low}-{high}"


def _model_version(release: dict[str, Any], length: int = 12) -> str:
    model, version = release.get("model") or "", release.get("version") or ""
    return f"{model}:{short_id(version, length)}" if version else model


def deployment_table(deployments: list[dict[str, Any]]) -> str:
    if not deployments:
        return "no deployments"
    rows = [
        (
            f"{d.get('owner')}/{d.get('name')}",
            _release(d).get("number"),
            _model_version(_release(d)),
            _config(d).get("hardware"),
            _instances(_config(d)),
        )
        for d in deployments
    ]
    return table(("deployment", "release", "model", "hardware", "instances"), rows)


def deployment_fields(deployment: dict[str, Any]) -> str:
    release, config = _release(deployment), _config(deployment)
    creator = (release.get("created_by") or {}).get("username")
    return fields(
        [
            ("deployment", f"{deployment.get('owner')}/{deployment.get('name')}"),
            ("release", release.get("number")),
            ("model", release.get("model")),
            ("version", release.get("version")),
            ("hardware", config.get("hardware")),
            ("instances", _instances(config)),
            ("released", " by ".join(x for x in (short_time(release.get("created_at")), creator) if x)),
        ]
    )
