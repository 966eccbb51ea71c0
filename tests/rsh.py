"""`rsh(line)`: run rshell text through the real path (`Executor.run_text`) and see
what a user sees, like httpie's `http()` test helper.

One call is one fresh run: captured stdout and stderr, the exit code, and the
stdout parsed as JSON when it is JSON. Pass a `Session` to keep state (aliases,
options, variables) between calls, and `api=(base_url, token)` for a server
(the `sandbox` fixture, a respx router's base URL, `hostile`).
"""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass
from typing import Any

from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.session.state import Session


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        """The stdout as JSON (raises when it is not: a test asking for JSON wants it)."""
        return json.loads(self.stdout)


def rsh(
    text: str,
    *,
    session: Session | None = None,
    api: tuple[str, str] | None = None,
    json_mode: bool = True,
    source: str = "-c",
) -> Outcome:
    """Run `text` as `rshell -c` would; nothing is sent unless `api` names a server."""
    stdout, stderr = io.StringIO(), io.StringIO()
    base_url, token = api or ("", "")

    def client() -> Any:
        from rshell.client.api import ReplicateClient

        return ReplicateClient(token, base_url, max_retries=0)

    executor = Executor(
        session if session is not None else Session(),
        Output(stdout, stderr, json_mode=json_mode),
        client if api else None,
        base_url=base_url,
    )

    async def go() -> int:
        try:
            return await executor.run_text(text, source=source)
        finally:
            await executor.aclose()

    code = asyncio.run(go())
    return Outcome(code, stdout.getvalue(), stderr.getvalue())
