"""The project's copy of the official API description (`rshell/openapi.json`).

The copy is the contract every other test checks against. Where the official file
is laid beside the repository (where `scripts/derive_openapi.py` reads it, as on the
developers' machines and in CI), the copy must be exactly what `scripts/derive_openapi.py` derives from it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from rshell import openapi

ROOT = Path(__file__).resolve().parents[1]


def _derive_module():
    spec = importlib.util.spec_from_file_location("derive_openapi", ROOT / "scripts" / "derive_openapi.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


OFFICIAL: Path = _derive_module().SOURCE  # where the official file is, as the derive script alone knows


@pytest.mark.skipif(
    not OFFICIAL.exists(), reason="no ../shared/replicate-openapi.json beside this clone to compare with"
)
def test_the_copy_is_current_with_the_official_description() -> None:
    derived = _derive_module().derive(json.loads(OFFICIAL.read_text("utf-8")))
    assert openapi.PATH.read_text("utf-8") == derived, "run: python scripts/derive_openapi.py"


def test_the_copy_keeps_facts_and_drops_prose() -> None:
    derive = _derive_module()
    source = {
        "info": {"title": "T", "description": "prose", "contact": {"email": "x"}},
        "paths": {
            "/a": {
                "get": {
                    "operationId": "a.get",
                    "summary": "prose",
                    "description": "prose",
                    "parameters": [{"name": "limit", "in": "query", "description": "prose"}],
                    "responses": {"200": {"description": "prose", "content": {"application/json": {}}}},
                }
            }
        },
        "components": {
            "schemas": {
                "m": {
                    "type": "object",
                    "description": "prose",
                    "example": {"x": 1},
                    "properties": {"description": {"type": "string", "description": "prose"}},
                }
            }
        },
    }
    out = json.loads(derive.derive(source))
    assert out["info"] == {"title": "T"}
    op = out["paths"]["/a"]["get"]
    assert op == {
        "operationId": "a.get",
        "parameters": [{"name": "limit", "in": "query"}],
        "responses": {"200": {"content": {"application/json": {}}}},
    }
    # a property *named* description is a fact and stays; its prose goes
    assert out["components"]["schemas"]["m"] == {"type": "object", "properties": {"description": {"type": "string"}}}


def test_the_copy_describes_every_operation() -> None:
    ops = openapi.operations()
    assert len(ops) == 37
    assert ops["models.predictions.create"] == ("POST", "/models/{model_owner}/{model_name}/predictions")
    assert ops["predictions.create"] == ("POST", "/predictions")
