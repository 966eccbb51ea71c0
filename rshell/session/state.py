"""The live state of one shell session: named results, `_`, aliases and options.

Pure data and look-ups; persistence lives in `store`, the token in `credentials`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rshell.client.fields import TERMINAL_STATUSES, run_kind
from rshell.commands.registry import suggest
from rshell.errors import UsageError

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# `set OPTION VALUE` options, with their defaults and a line of help each.
OPTIONS: dict[str, tuple[Any, str]] = {
    "separator": ("=", "separator between input key and value"),
    "json": (False, "print results as JSON even on a terminal"),
    "stream": ("auto", "stream text outputs: auto (on a terminal), on, off"),
    "file_encoding": ("url", "how @file inputs are sent: url or data"),
    "editing_mode": ("emacs", "line editing keys in the shell: emacs or vi"),
    "pager": (True, "page results taller than the terminal through $PAGER or less -R"),
    "preview": ("hint", "after a run of an image model: hint (one line), auto (draw it), off"),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "stream": ("auto", "on", "off"),
    "file_encoding": ("url", "data"),
    "editing_mode": ("emacs", "vi"),
    "preview": ("hint", "auto", "off"),
}


@dataclass
class Session:
    name: str = "default"
    variables: dict[str, Any] = field(default_factory=dict)
    last: Any = None
    aliases: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=lambda: {k: v for k, (v, _) in OPTIONS.items()})
    statements: list[str] = field(default_factory=list)  # successful ones, for `save`
    in_flight: dict[str, str] = field(default_factory=dict)  # id -> "prediction" | "training"
    last_status: str | None = None

    def bind(self, name: str | None, data: Any) -> None:
        """Make `data` the last result, and NAME's value when a name is given.

        A prediction or training also sets the last status, and is in flight until
        a bound copy of it shows a terminal status.
        """
        self.last = data
        if name:
            self.variables[name] = data
        kind = run_kind(data)
        if kind is not None:
            self._track(kind, data)

    def _track(self, kind: str, run: dict[str, Any]) -> None:
        self.last_status = run["status"]
        if run["status"] in TERMINAL_STATUSES:
            self.in_flight.pop(run["id"], None)
        else:
            self.in_flight[run["id"]] = kind

    def lookup(self, name: str) -> Any:
        """The value of `_` or a named result; an undefined name is a usage error."""
        if name == "_":
            if self.last is None:
                raise UsageError("'_' is not set yet", "run a command first; `_` is its result")
            return self.last
        if name in self.variables:
            return self.variables[name]
        guess = suggest(name, list(self.variables))
        hint = f"did you mean '{guess}'?" if guess else "`vars` lists the defined names"
        raise UsageError(f"undefined variable '{name}'", hint)

    def unset(self, name: str) -> None:
        if name not in self.variables:
            self.lookup(name)  # raises the undefined-variable error
        del self.variables[name]

    def set_option(self, name: str, value: str) -> None:
        if name not in OPTIONS:
            guess = suggest(name, list(OPTIONS))
            raise UsageError(
                f"unknown option '{name}'", f"did you mean '{guess}'?" if guess else f"options: {', '.join(OPTIONS)}"
            )
        default = OPTIONS[name][0]
        if isinstance(default, bool):
            if value.lower() not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
                raise UsageError(f"option '{name}' is on or off, got '{value}'")
            self.options[name] = value.lower() in ("on", "true", "1", "yes")
        elif name in CHOICES and value not in CHOICES[name]:
            raise UsageError(f"option '{name}' is one of {', '.join(CHOICES[name])}; got '{value}'")
        else:
            self.options[name] = value
