"""The official Replicate API description, as rshell carries it.

`rshell/openapi.json` is derived from the official file by
`scripts/derive_openapi.py` (facts only: paths, operations, parameters, schemas,
statuses, content types). The sandbox and the tests read it from here, so a clone
needs nothing beside it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("openapi.json")


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    """The parsed description (cached: it never changes while a process runs)."""
    return json.loads(PATH.read_text("utf-8"))


def operations() -> dict[str, tuple[str, str]]:
    """operationId → (METHOD, path template) for every operation of the spec."""
    found: dict[str, tuple[str, str]] = {}
    for template, item in spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = (method.upper(), template)
    return found
