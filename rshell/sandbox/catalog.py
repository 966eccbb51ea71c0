"""Fixed facts of the sandbox world: the caller's account, hardware SKUs, collections."""

from __future__ import annotations

from typing import Any

OWNER = "sandbox"
BUILTIN_OWNER = "rshell"
TOKEN = "rshell-sandbox"
BUILTIN_CREATED_AT = "2025-01-01T00:00:00.000000Z"  # fixed, so built-in records never change

ACCOUNT: dict[str, Any] = {
    "type": "user",
    "username": OWNER,
    "name": "Sandbox User",
    "github_url": "https://github.com/sandbox",
}

# Replicate's SKUs, so deployment and model commands accept what real docs show;
# the sandbox runs every one of them on the local CPU.
HARDWARE: list[dict[str, str]] = [
    {"name": "CPU", "sku": "cpu"},
    {"name": "Nvidia T4 GPU", "sku": "gpu-t4"},
    {"name": "Nvidia L40S GPU", "sku": "gpu-l40s"},
    {"name": "2x Nvidia L40S GPU", "sku": "gpu-l40s-2x"},
    {"name": "Nvidia A100 (80GB) GPU", "sku": "gpu-a100-large"},
    {"name": "2x Nvidia A100 (80GB) GPU", "sku": "gpu-a100-large-2x"},
    {"name": "Nvidia H100 GPU", "sku": "gpu-h100"},
]
HARDWARE_SKUS = frozenset(h["sku"] for h in HARDWARE)

# Collections group the built-in models; a model missing from the registry is left out.
COLLECTIONS: list[dict[str, Any]] = [
    {
        "slug": "sandbox-models",
        "name": "Sandbox models",
        "description": "Every small CPU model the local sandbox hosts.",
        "models": None,  # None: all built-in models
    },
    {
        "slug": "text-to-image",
        "name": "Text to image",
        "description": "Models that turn a prompt into a picture.",
        "models": ["rshell/pixels"],
    },
    {
        "slug": "image-to-image",
        "name": "Image to image",
        "description": "Models that transform an input image.",
        "models": ["rshell/upscale"],
    },
    {
        "slug": "language-models",
        "name": "Language models",
        "description": "Models that generate text, streamed token by token.",
        "models": ["rshell/tinylm", "rshell/echo"],
    },
    {
        "slug": "trainable-models",
        "name": "Trainable models",
        "description": "Models you can fine-tune into a new version of your own model.",
        "models": ["rshell/palette-trainer"],
    },
]


def readme_for(owner: str, name: str, description: str | None, schema: dict[str, Any] | None) -> str:
    """A generated README for built-in models: what it does and its inputs."""
    lines = [f"# {owner}/{name}", "", description or "", "", "## Inputs", ""]
    props = (schema or {}).get("components", {}).get("schemas", {}).get("Input", {}).get("properties", {})
    ordered = sorted(props.items(), key=lambda kv: kv[1].get("x-order", 0))
    for key, prop in ordered:
        kind = prop.get("type") or "enum"
        default = f" (default: {prop['default']!r})" if "default" in prop else ""
        lines.append(f"- `{key}` {kind}{default}: {prop.get('description', '')}".rstrip())
    if not ordered:
        lines.append("(none)")
    lines += ["", "## Run it", "", f"    rshell run {owner}/{name}", ""]
    return "\n".join(lines)
