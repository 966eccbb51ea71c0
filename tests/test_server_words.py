"""API errors say what the server said (issue 19 item 2): rshell may add a hint but
never puts its own guess in place of the server's `detail`. Against the live sandbox."""

from __future__ import annotations

from pathlib import Path

import httpx
from rsh import rsh

from rshell.errors import ApiError

ROOT = Path(__file__).resolve().parents[1]


def _versions(sandbox, model: str) -> list[str]:
    reply = httpx.get(f"{sandbox.url}/models/{model}/versions", headers={"Authorization": f"Bearer {sandbox.token}"})
    return [v["id"] for v in reply.json()["results"]]


def test_a_missing_destination_is_named_as_the_server_names_it(sandbox) -> None:
    zipped = ROOT / "examples" / "data" / "palette.zip"
    ran = rsh(
        f"train rshell/palette-trainer --destination sandbox/nope input_images=@{zipped}",
        api=(sandbox.url, sandbox.token),
    )
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    assert ran.error.status == 404
    message = ran.error.message
    assert "destination model sandbox/nope" in message and "create it first" in message
    assert "version" not in message  # the version exists: naming it would be a guess


def test_a_version_of_another_model_is_named_as_the_server_names_it(sandbox) -> None:
    api = (sandbox.url, sandbox.token)
    pixels = _versions(sandbox, "rshell/pixels")[0]
    other = _versions(sandbox, "rshell/palette-trainer")[0]
    made = rsh(f"deployments create pixels-prod --model rshell/pixels --version {pixels} --hardware cpu", api=api)
    assert made.code == 0, made.stderr
    ran = rsh(f"deployments update pixels-prod --version {other}", api=api)
    assert ran.code == 1 and isinstance(ran.error, ApiError)
    message = ran.error.message
    assert other in message and "deployment sandbox/pixels-prod not found" not in message
    assert "\n" not in message
