"""Running one command's handler the way the executor does, over a respx-mocked API.

Shared by the tests of the command groups (test_cmd_*.py, test_scaffold.py): the
words go through the catalog and the argument parser, so a test also proves the
catalog points at a real handler with the arguments it expects.
"""

from __future__ import annotations

import asyncio
import io
import json
import shlex
from dataclasses import dataclass, field
from typing import Any

import api_fixtures
import respx

from rshell.client.api import ReplicateClient
from rshell.commands import catalog
from rshell.commands.arguments import ParsedArgs, parse_args
from rshell.commands.context import Context, Environment, Result
from rshell.executor import load_handler
from rshell.rendering.output import Output
from rshell.session.state import Session

BASE = api_fixtures.BASE  # mocked with respx: nothing leaves the machine
TOKEN = "r8_fake-handlertesttoken"


@dataclass
class Harness:
    """Captured stdout/stderr, a session, and the context extras a handler reads."""

    extra: dict[str, Any] = field(default_factory=dict)
    token: str | None = TOKEN
    dry_run: bool = False
    base_url: str = BASE  # a real local server's URL in end-to-end tests

    def __post_init__(self) -> None:
        self.stdout, self.stderr = io.StringIO(), io.StringIO()
        self.out = Output(stdout=self.stdout, stderr=self.stderr, json_mode=False)
        self.session = Session()
        self.clients: list[ReplicateClient] = []

    async def _client(self) -> ReplicateClient:
        if not self.clients:
            self.clients.append(ReplicateClient(self.token, self.base_url, max_retries=0))
        return self.clients[0]

    def context(self) -> Context:
        env = Environment(**{"base_url": self.base_url, **self.extra})
        return Context(self.session, self.out, self._client, dry_run=self.dry_run, env=env)

    def run(self, line: str) -> Result:
        """Parse `line` as the executor would and run its handler to completion."""
        handler, args = prepare(line)

        async def go() -> Result:
            try:
                return await handler(self.context(), args)
            finally:
                for client in self.clients:
                    await client.aclose()
                self.clients.clear()

        return asyncio.run(go())

    def printed(self, result: Result) -> str:
        """What the executor would show on a terminal for `result`."""
        self.out.result(result)
        return self.stdout.getvalue()

    @property
    def err(self) -> str:
        return self.stderr.getvalue()


def prepare(line: str) -> tuple[Any, ParsedArgs]:
    """The handler and arguments of a command line, resolved as the executor does."""
    command, rest = catalog.resolve(catalog.expand_command_alias(shlex.split(line)))
    return load_handler(command.handler), parse_args(command, rest)


def body_of(route: respx.Route, index: int = -1) -> dict:
    """The JSON body of a mocked route's call (the last one by default)."""
    return json.loads(route.calls[index].request.content)
