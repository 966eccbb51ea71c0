"""Human summaries of models, their versions and examples, built from their JSON.

Handlers return the API's JSON as `Result.data` and show these, so the summary
shows what `NAME =` binds (as `rendering/predictions.py` does for runs).
"""

from __future__ import annotations

from typing import Any

from rshell.rendering.tables import fields, human_count, short_time, table


def model_table(models: list[dict[str, Any]]) -> str:
    """owner/name, run count and description, the description cut to fit the terminal."""
    if not models:
        return "no models"
    rows = [
        (f"{m.get('owner')}/{m.get('name')}", human_count(m.get("run_count")), m.get("description")) for m in models
    ]
    return table(("model", "runs", "description"), rows, flex=2)


def model_fields(model: dict[str, Any]) -> str:
    """`model show`: the metadata a person checks, one labelled line each."""
    latest = model.get("latest_version") or {}
    latest_text = f"{latest.get('id')} ({short_time(latest.get('created_at'))})" if latest.get("id") else "none"
    return fields(
        [
            ("model", f"{model.get('owner')}/{model.get('name')}"),
            ("description", model.get("description")),
            ("visibility", model.get("visibility")),
            ("official", "yes" if model.get("is_official") else None),
            ("runs", f"{model['run_count']:,}" if isinstance(model.get("run_count"), int) else None),
            ("latest version", latest_text),
            ("url", model.get("url")),
            ("github", model.get("github_url")),
            ("paper", model.get("paper_url")),
            ("license", model.get("license_url")),
            ("cover image", model.get("cover_image_url")),
        ]
    )


def version_table(model: str, versions: list[dict[str, Any]], hint: str = "") -> str:
    """`model versions`: id, date and Cog version, then `hint` (the next page); a model
    without any says so, with no hint."""
    if not versions:
        return f"{model} has no versions"
    rows = [(v.get("id"), short_time(v.get("created_at")), v.get("cog_version")) for v in versions]
    return table(("version", "created", "cog"), rows) + hint


def version_fields(model: str, version: dict[str, Any]) -> str:
    """`model versions show`: the version's labelled lines, then its inputs and output."""
    from rshell.rendering.schema import schema_text

    head = fields(
        [
            ("model", model),
            ("version", version.get("id")),
            ("created", short_time(version.get("created_at"))),
            ("cog", version.get("cog_version")),
        ]
    )
    schema = version.get("openapi_schema")
    if not isinstance(schema, dict) or not schema:
        return head + "\nno schema"
    return head + "\n\n" + schema_text(schema, f"{model}:{version.get('id')}")


def example_table(model: str, examples: list[dict[str, Any]], hint: str = "") -> str:
    """`model examples`: the example predictions as a prediction list, then `hint`."""
    from rshell.rendering.predictions import run_table

    if not examples:
        return f"{model} has no examples"
    return run_table(examples, "predictions") + hint
