"""The live state of one shell session: named results, `_`, aliases and options.

Pure data and look-ups; persistence lives in `store`, the token in `credentials`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rshell.client.fields import TERMINAL_STATUSES, is_run_list, json_run_kind
from rshell.commands.registry import suggest
from rshell.errors import UsageError
from rshell.grammar.lexer import NUMBERED

_SWITCH_WORDS = {
    "on": True,
    "true": True,
    "1": True,
    "yes": True,
    "off": False,
    "false": False,
    "0": False,
    "no": False,
}


_WORST_FIRST = ("failed", "canceled", "aborted", "processing", "starting")


def worst_status(statuses: list[str]) -> str:
    """The status a list of runs reports in one word: a failure over a cancel over one
    still running over success (`last: succeeded` only when all did)."""
    return next((s for s in _WORST_FIRST if s in statuses), statuses[0] if statuses else "")


class Option(msgspec.Struct, frozen=True):
    """A `set OPTION VALUE` option, declared once: `set`, its help, completion and the
    flags that default from it (same name as the flag's dest) all read this."""

    name: str
    default: Any
    choices: tuple[str, ...] = ()
    help: str = ""
    display: bool = False  # it changes only the interactive display: `save` leaves `set` of it out

    @property
    def values(self) -> tuple[str, ...]:
        """What `set NAME` accepts, for completion and help: on/off for a switch."""
        return ("on", "off") if isinstance(self.default, bool) else self.choices

    def accepts(self, value: Any) -> bool:
        """Whether a stored value (a session file's, untrusted) is one `set` could give."""
        if isinstance(self.default, bool):
            return isinstance(value, bool)
        return isinstance(value, str) and value != "" and (not self.choices or value in self.choices)

    def parse(self, value: str) -> Any:
        """The option's value from what was typed; UsageError naming the choices."""
        if isinstance(self.default, bool):
            if value.lower() not in _SWITCH_WORDS:
                raise UsageError(f"option '{self.name}' is on or off, got '{value}'")
            return _SWITCH_WORDS[value.lower()]
        if self.choices and value not in self.choices:
            raise UsageError(f"option '{self.name}' is one of {', '.join(self.choices)}; got '{value}'")
        if not value:  # an empty separator splits nothing (str.partition raises)
            raise UsageError(f"option '{self.name}' cannot be empty", f"the default is {self.default!r}")
        return value


def shown(value: Any) -> str:
    """An option's value as `set` takes and shows it: a switch is on or off."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


OPTIONS: dict[str, Option] = {
    o.name: o
    for o in (
        Option("separator", "=", help="Separator between input key and value."),
        Option("json", False, help="Print results as JSON even on a terminal."),
        Option("stream", "auto", ("auto", "on", "off"), "Stream text outputs: auto (on a terminal), on, off."),
        Option(
            "file_encoding",
            "url",
            ("url", "data"),
            "How @file inputs are sent: uploaded (url) or inlined as data URLs (data).",
        ),
        Option("editing_mode", "emacs", ("emacs", "vi"), "Line editing keys in the shell: emacs or vi.", display=True),
        Option("pager", True, help="Page results taller than the terminal through $PAGER or less -R.", display=True),
        Option(
            "preview",
            "hint",
            ("hint", "auto", "off"),
            "After a run of an image model: hint (one line), auto (draw it), off.",
            display=True,
        ),
    )
}


KEPT_RESULTS = 1000  # numbered results kept (the oldest are forgotten past this)


def is_numbered(name: str) -> bool:
    """Whether NAME is a numbered result's (`_1`, `__`), which `NAME =` may not bind."""
    return NUMBERED.fullmatch(name) is not None


class NumberedResults(msgspec.Struct):
    """Every statement's result also as `_1`, `_2`, … (IPython's `Out[n]`), with the
    text of the statement that made it, for `history`; in memory, per process."""

    values: dict[int, Any] = msgspec.field(default_factory=dict)
    texts: dict[int, str] = msgspec.field(default_factory=dict)
    next: int = 1

    def add(self, value: Any, text: str) -> int:
        number = self.next
        self.values[number], self.texts[number] = value, text
        self.next += 1
        for old in [n for n in self.values if n <= number - KEPT_RESULTS]:
            del self.values[old], self.texts[old]
        return number

    def lookup(self, name: str) -> Any:
        number = self.next - 2 if name == "__" else int(name[1:])
        if number in self.values:
            return self.values[number]
        if name == "__":
            raise UsageError("'__' is not set yet", "it is the result before the last; `_` is the last")
        if number < self.next:
            raise UsageError(f"'{name}' is no longer kept", f"the last {KEPT_RESULTS} results are")
        made = f"_1 to _{self.next - 1} are set" if self.next > 1 else "no result is numbered yet"
        raise UsageError(f"'{name}' is not set yet", made)


class Session(msgspec.Struct):
    name: str = "default"
    variables: dict[str, Any] = msgspec.field(default_factory=dict)
    last: Any = None
    aliases: dict[str, str] = msgspec.field(default_factory=dict)
    options: dict[str, Any] = msgspec.field(default_factory=lambda: {k: o.default for k, o in OPTIONS.items()})
    statements: list[str] = msgspec.field(default_factory=list)  # successful ones, for `save`
    text_outputs: set[str] = msgspec.field(default_factory=set)  # ids of runs whose output is streamed text
    scope: str = ""  # the API host its results belong to ("" the real API, "local" for --local)
    in_flight: dict[str, str] = msgspec.field(default_factory=dict)  # id -> "prediction" | "training"
    last_status: str | None = None
    synced: Any = None  # what the store last saw (store's type); bookkeeping, not part of what a session holds
    numbered: NumberedResults = msgspec.field(default_factory=lambda: NumberedResults())

    def bind(self, name: str | None, data: Any) -> None:
        """Make `data` the last result, and NAME's value when a name is given.

        A prediction or training also sets the last status, and is in flight until
        a bound copy of it shows a terminal status.
        """
        self.last = data
        if name:
            self.variables[name] = data
        kind = json_run_kind(data)
        if kind is not None:
            self._track(kind, data)
        elif is_run_list(data):  # a batch, or `prediction wait A B`: each run, and the worst status last
            for run in data:
                self._track(json_run_kind(run) or "prediction", run)
            self.last_status = worst_status([run["status"] for run in data])

    def _track(self, kind: str, run: dict[str, Any]) -> None:
        self.last_status = run["status"]
        if run["status"] in TERMINAL_STATUSES:
            self.in_flight.pop(run["id"], None)
        else:
            self.in_flight[run["id"]] = kind

    def note_text_output(self, run: Any) -> None:
        """Remember that this run's output is streamed text (its schema said so)."""
        if isinstance(run, dict) and isinstance(run.get("id"), str):
            self.text_outputs.add(run["id"])

    def joins(self, run: Any) -> bool:
        """Whether templates insert this run's `output` as its joined text."""
        return isinstance(run, dict) and run.get("id") in self.text_outputs

    def lookup(self, name: str) -> Any:
        """The value of `_` or a named result; an undefined name is a usage error."""
        if name == "_":
            if self.last is None:
                raise UsageError("'_' is not set yet", "run a command first; `_` is its result")
            return self.last
        if name in self.variables:
            return self.variables[name]
        if is_numbered(name):
            return self.numbered.lookup(name)
        guess = suggest(name, list(self.variables))
        hint = f"did you mean '{guess}'?" if guess else "`vars` lists the defined names"
        raise UsageError(f"undefined variable '{name}'", hint)

    def defines(self, name: str) -> bool:
        """Whether NAME has a value: `_` once set, a named result, a numbered one kept."""
        if name == "_":
            return self.last is not None
        if name in self.variables:
            return True
        if not is_numbered(name):
            return False
        number = self.numbered.next - 2 if name == "__" else int(name[1:])
        return number in self.numbered.values

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
        self.options[name] = OPTIONS[name].parse(value)
