"""Derive rshell's copy of the official Replicate OpenAPI description.

The official file lives beside the repository (`../shared/replicate-openapi.json`),
which a clone does not have. This script keeps only the facts the code and tests
use — paths, operation ids, parameters, request and response schemas, status codes,
content types — and strips prose (descriptions, summaries, examples, contact and
terms), so the committed copy is the contract and nothing else.

    python scripts/derive_openapi.py            # rewrite rshell/openapi.json
    python scripts/derive_openapi.py --check    # exit 1 if the copy is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "replicate-openapi.json"
TARGET = ROOT / "rshell" / "openapi.json"

# Annotation keywords: prose for people, not facts for code.
PROSE = {"description", "summary", "example", "examples", "externalDocs", "termsOfService", "contact"}
# Maps whose keys are names chosen by the spec's authors (a property called
# "description" is a fact), so their keys are kept and only their values cleaned.
NAME_MAPS = {"properties", "paths", "schemas", "parameters", "responses", "content", "securitySchemes"}


def strip(node: Any, names: bool = False) -> Any:
    """The node without prose; `names` says the node's keys are names, not keywords."""
    if isinstance(node, list):
        return [strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if not names and key in PROSE:
            continue
        # `parameters` is a name map under components, a list under an operation.
        out[key] = strip(value, names=not names and key in NAME_MAPS and isinstance(value, dict))
    return out


def derive(source: dict[str, Any]) -> str:
    """The derived copy's text: stable key order, one trailing newline."""
    return json.dumps(strip(source), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if rshell/openapi.json is not current")
    args = parser.parse_args(argv)
    text = derive(json.loads(SOURCE.read_text("utf-8")))
    if args.check:
        if TARGET.read_text("utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run python scripts/derive_openapi.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, "utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
