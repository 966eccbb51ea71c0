"""Human summaries of Files API records: the list and `files show`, from their JSON."""

from __future__ import annotations

from typing import Any

from rshell.rendering.tables import fields, human_size, short_time, table


def file_table(files: list[dict[str, Any]]) -> str:
    if not files:
        return "no files"
    rows = [
        (
            f.get("id"),
            f.get("name") or "",
            human_size(f.get("size")),
            f.get("content_type"),
            short_time(f.get("created_at")),
        )
        for f in files
    ]
    return table(("id", "name", "size", "type", "created"), rows, flex=1)


def file_fields(file: dict[str, Any]) -> str:
    return fields(
        [
            ("id", file.get("id")),
            ("name", file.get("name")),
            (
                "size",
                f"{human_size(file.get('size'))} ({file.get('size')} bytes)" if file.get("size") is not None else None,
            ),
            ("type", file.get("content_type")),
            ("sha256", (file.get("checksums") or {}).get("sha256")),
            ("created", short_time(file.get("created_at"))),
            ("expires", short_time(file.get("expires_at"))),
            ("url", (file.get("urls") or {}).get("get")),
        ]
    )
