"""The shape of a command declaration, and look-up of a command from typed words.

Declarations are plain data (no handler is imported until a command runs), so help,
completion and the one-shot start-up read them without loading httpx.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rshell.errors import UsageError


class Flag(msgspec.Struct, frozen=True):
    """A `--name` option. With `const`, it is a switch that stores `const` in `dest`;
    without, it takes a value (`--name VALUE` or `--name=VALUE`) converted by `type`.

    `short` is the one-letter spelling of the official Go CLI (`-w`, `-d`, `-t`).
    `synonyms` are other accepted spellings of `choices`.
    `optional` makes a switch that may also take a number within `bounds`
    (`--wait`, `--wait=30`, `--wait 30`): the number is stored instead of `const`.
    """

    name: str
    dest: str
    help: str
    type: str = "str"  # str | int | float | list (comma-separated choices) | json (object) | duration
    const: Any = None
    metavar: str = ""
    choices: tuple[str, ...] = ()
    complete: str | None = None  # a completion source: a name in rshell/completion/sources.py
    required: bool = False
    short: str = ""
    optional: bool = False
    bounds: tuple[int, int] | None = None
    synonyms: tuple[tuple[str, str], ...] = ()  # other spellings of choices: ("nodejs", "node")
    reads: bool = False  # its value is a local file read (`-` is stdin; `@FILE` too): precheck checks it first

    @property
    def takes_value(self) -> bool:
        return self.const is None

    @property
    def label(self) -> str:
        """How usage lines show it: `--stream`, `--template node|python`, `--hardware SKU`,
        `--wait[=SECONDS]`."""
        if self.optional:
            return f"{self.name}[={self.metavar or 'VALUE'}]"
        if not self.takes_value:
            return self.name
        return f"{self.name} {'|'.join(self.choices) if self.choices else self.metavar or 'VALUE'}"

    @property
    def names(self) -> str:
        """The help table's spelling: `-w, --wait[=SECONDS]`."""
        return f"{self.short}, {self.label}" if self.short else self.label


class Arg(msgspec.Struct, frozen=True):
    """A positional argument. `inputs` collects every remaining `key=value` word;
    `many` (the last positional) collects every remaining word into a list."""

    name: str
    help: str
    required: bool = True
    complete: str | None = None
    inputs: bool = False
    many: bool = False
    partial_inputs: bool = False  # with `inputs`: more keys come from elsewhere (batch's rows, a run each)
    sweeps: bool = False  # with `inputs`: `seed=1..4` is a sweep axis, a run per value (grammar/sweeps.py)
    files: bool = True  # with `inputs`: `key=@path` is a file to send (False: refused as the line is read)
    names_variable: bool = False  # the value is `name[.path]`: the name must be defined (precheck)
    reads: bool = False  # a local file read (`-` is stdin): precheck checks it can be read


class Save(msgspec.Struct, frozen=True):
    """How `save` treats a statement of the command: `replays` keeps it; `reads` and
    `never` leave it out, and `reason` is what save's report says of it; `shows` (a
    view of the shell: `help`, `vars`) is not even kept in the session's statements."""

    kind: str = "replays"  # replays | reads | shows | never
    reason: str = ""
    adds: str = ""  # a switch the kept line gains so it replays (`--exist-ok` of a create)


REPLAYS = Save()
READS = Save("reads", "only reads")
SHOWS = Save("shows", "only shows something")


def never(reason: str) -> Save:
    """Left out of scripts whatever it did, for `reason`."""
    return Save("never", reason)


class Command(msgspec.Struct, frozen=True):
    """One command: its words (`("prediction", "create")`), arguments, flags, handler.

    `handler` is "module:function", imported only when the command runs; the function
    is `async def handler(ctx: Context, args: ParsedArgs) -> Result`.
    `network` says whether it needs the API (and so a token).
    `aliases` are other spellings of the whole command, each written as it is typed:
    `"run"`, `"prediction new"`, `"model run"`, or `"stream --stream"` (an alias that
    also gives flags); a bare group name (`"account"`) makes it the group's command
    when no subcommand follows. `exclusive` lists flags that contradict each other.
    `builtin` marks a shell builtin (`set`, `vars`, …): help lists those apart from
    the API's commands and the official CLI's offline ones (`completion`).

    What it means beyond its grammar is declared here too, and read everywhere:
    `save` (how `save` treats it), `scope` (what it changes in a script's scope:
    alias, unalias, set, unset, source) and `kind` (the kind of run it starts or
    works on: prediction, training; with an `inputs` argument, those are checked
    against the model's or the trainer's schema before a script's first create).
    """

    path: tuple[str, ...]
    help: str
    handler: str
    args: tuple[Arg, ...] = ()
    flags: tuple[Flag, ...] = ()
    network: bool = True
    defaults: dict[str, Any] = msgspec.field(default_factory=dict)
    examples: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    exclusive: tuple[tuple[str, ...], ...] = ()
    builtin: bool = False
    save: Save = REPLAYS
    scope: str | None = None  # alias | unalias | set | unset | source
    kind: str | None = None  # prediction | training

    @property
    def writes(self) -> bool:
        """Whether it may send a write (a create, an upload): anything on the API but a read."""
        return self.network and self.save.kind not in ("reads", "shows")

    @property
    def inputs_arg(self) -> Arg | None:
        """The argument holding a run's `key=value` inputs, if it starts a run."""
        return next((a for a in self.args if a.inputs), None) if self.kind else None

    @property
    def starts_run(self) -> bool:
        """Whether its result is one run (of `kind`) of the model it names, with its inputs."""
        return self.inputs_arg is not None and not self.inputs_arg.partial_inputs

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def flag(self, name: str) -> Flag | None:
        """The flag spelled `name`, long (`--wait`) or short (`-w`)."""
        return next((f for f in self.all_flags if name in (f.name, f.short)), None)

    @property
    def all_flags(self) -> tuple[Flag, ...]:
        return self.flags + GLOBAL_FLAGS


GLOBAL_FLAGS: tuple[Flag, ...] = (
    Flag("--json", "json", "Print the API's JSON instead of a summary.", const=True),
    Flag("--help", "help", "Show help for this command.", const=True, short="-h"),
)
HELP_WORDS = frozenset({"--help", "-h"})


def suggest(word: str, candidates: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """The closest candidate to `word`, for a "did you mean" hint."""
    import difflib  # only when a word is wrong: a one-shot that runs never pays for it

    found = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown(kind: str, word: str, candidates: list[str] | tuple[str, ...] | set[str], where: str = "") -> UsageError:
    """The standard "unknown X 'word' [where]" error, with a did-you-mean when one is close."""
    guess = suggest(word, candidates)
    hint = f"did you mean '{guess}'?" if guess else f"valid: {', '.join(sorted(candidates))}"
    return UsageError(f"unknown {kind} '{word}'" + (f" {where}" if where else ""), hint)
