"""Human summaries of the account and the hardware list, from their JSON."""

from __future__ import annotations

from typing import Any

from rshell.rendering.tables import fields, table


def account_fields(account: dict[str, Any]) -> str:
    return fields(
        [
            ("username", account.get("username")),
            ("name", account.get("name")),
            ("type", account.get("type")),
            ("github", account.get("github_url")),
        ]
    )


def hardware_table(hardware: list[dict[str, Any]]) -> str:
    """SKU and name: the values --hardware takes."""
    if not hardware:
        return "no hardware listed"
    return table(("sku", "name"), [(h.get("sku"), h.get("name")) for h in hardware])
