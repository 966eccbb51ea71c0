"""Read a field of an API object, whether a pydantic model or a plain dict.

Unknown API fields stay dicts inside the models, and handlers also work on the JSON
they bind, so one reader serves both. No pydantic import: completion uses it too.
"""

from __future__ import annotations

from typing import Any


def attr(obj: Any, name: str, default: Any = None) -> Any:
    """`obj.name` for a model, `obj[name]` for a dict, `default` when absent."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)
