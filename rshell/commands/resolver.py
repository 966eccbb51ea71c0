"""What the first words of a stage name: the one reading of a command line's head.

A leading `replicate` (the official CLI's name) goes first, then user aliases expand,
then the catalog's command aliases, then the catalog finds the command. The executor,
completion, the REPL's highlighter and `save` all read a line's head here, so
`replicate e x` (with `alias e='run rshell/echo'`) means one thing everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from rshell.commands import catalog
from rshell.commands.arguments import ParsedArgs, parse_args
from rshell.commands.registry import Command
from rshell.errors import ParseError, RshellError, UsageError
from rshell.grammar.aliases import check_alias_name, expand_aliases, naming_alias
from rshell.grammar.inputs import Input, read_input_json
from rshell.grammar.lexer import Word
from rshell.grammar.templates import Ref, parse_ref, references
from rshell.session.state import Session, is_numbered

if TYPE_CHECKING:
    from rshell.grammar.sweeps import Axis


class Head(msgspec.Struct, frozen=True):
    """The tolerant reading of a stage's words: the command found (or None), the words
    after it, and `group` when the words so far name only a group (`model`)."""

    command: Command | None
    rest: list[Word]
    group: str | None = None
    empty: bool = False  # nothing is left once aliases expand: a command name goes next


def expand(words: list[Word], aliases: Mapping[str, str]) -> list[Word]:
    """`replicate`, user aliases, command aliases: the words the catalog reads.

    New words point at the word they replace, so errors still refer to what was typed.
    Raises UsageError for an alias that holds `;` or `|`.
    """
    if words and words[0].value == catalog.PREFIX:
        words = words[1:]
    words = expand_aliases(words, dict(aliases))
    if words and words[0].value == catalog.PREFIX:  # an alias may say `replicate run …`
        words = words[1:]
    found = catalog.command_alias([w.value for w in words[:2]])
    if found is None:
        return words
    target, taken = found
    first = words[0]
    return [_word(value, first) for value in target] + words[taken:]


def resolve(words: list[Word], aliases: Mapping[str, str]) -> tuple[Command, list[Word]]:
    """The command the words name and the words after it; UsageError when none."""
    return find_command(expand(words, aliases))


def parse_line(command: Command, values: list[str], options: Mapping[str, Any] | None) -> tuple[Command, ParsedArgs]:
    """The command's arguments from the words after it (templates expanded or not);
    `… --help` anywhere on the line is `help COMMAND`."""
    args = parse_args(command, values, options)
    if args.values.get("help"):
        model = (
            parse_args(command, values, options, tolerant=True).values.get("model")
            if command.path in MODEL_HELP
            else None
        )
        command = catalog.TOP_LEVEL["help"]
        args = parse_args(command, list(args.command.path))
        if isinstance(model, str):
            args.values["model"] = model  # `run MODEL --help` also lists MODEL's inputs
    return command, args


MODEL_HELP = (("prediction", "create"),)  # whose `MODEL --help` lists the model's inputs


def command_line(
    words: list[Word], aliases: Mapping[str, str], options: Mapping[str, Any] | None
) -> tuple[Command, ParsedArgs]:
    """`resolve` then `parse_line`, for a stage read without running it (precheck, save)."""
    command, rest = resolve(words, aliases)
    return parse_line(command, [w.value for w in rest], options)


class Plan(msgspec.Struct, frozen=True):
    """A stage read once: the command its head names, the words after it, and what
    they say. Precheck checks it, the executor runs it, and nothing reads it again.

    `args` is the reading of the words as typed (None when it fails and a template's
    value may be what makes it right: the run reads it then). Only the words holding
    templates (`templated`, by index into `words`) are expanded at run time, and the
    line is read again only when there are any.
    """

    head: Command  # what the words name (before `--help` makes it `help COMMAND`)
    words: tuple[Word, ...]
    command: Command | None
    args: ParsedArgs | None
    refs: tuple[Ref, ...]
    templated: frozenset[int]

    @property
    def given(self) -> list[tuple[Input, bool]]:
        """The line's inputs as split when it was read, each with whether a template
        gives its value (known only when it runs)."""
        if self.args is None:
            return []
        templated = self._templated_values()
        return [(given, word in templated) for word, given in zip(self.args.inputs, self.args.split, strict=True)]

    def named(self) -> list[Ref]:
        """The names the line's `names_variable` arguments refer to (`show x.output`,
        `wait a b`), as typed: not a template's value, nor text that is no name (`show`
        prints such text as it is)."""
        if self.command is None or self.args is None:
            return []
        templated = self._templated_values()
        found = []
        for arg in (arg for arg in self.command.args if arg.names_variable):
            value = self.args.values.get(arg.name)
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str) and text not in templated:
                    try:
                        found.append(parse_ref(text.strip()))
                    except ParseError:
                        continue
        return found

    def files_read(self) -> list[str]:
        """The local files the line reads (`Arg`/`Flag` `reads`), as typed: not stdin's
        `-` nor a path a template gives."""
        if self.command is None or self.args is None:
            return []
        values = self.args.values
        given = [values.get(a.name) for a in self.command.args if a.reads]
        given += [values.get(f.dest) for f in self.command.flags if f.reads]
        paths = [str(text).removeprefix("@") for text in given if isinstance(text, str) and text != "-"]
        templated = self._templated_values()
        return [path for path in paths if not any(path in word for word in templated)]

    def input_json(self) -> dict[str, Any] | None:
        """`--input-json`'s object, read as the run reads it ({} without one); None when
        only the run can read it (stdin, a template)."""
        given = self.args.values.get("input_json") if self.args else None
        if given is None:
            return {}
        if given == "-" or any(str(given) in word for word in self._templated_values()):
            return None  # `--input-json {{x}}`, `--input-json={{x}}`
        return read_input_json(str(given), None)

    def sweep_axes(self) -> list[Axis]:
        """The line's sweep axes (`seed=1..4`), as its run reads them; none for a
        command whose inputs do not sweep."""
        declared = self.command.inputs_arg if self.command else None
        if declared is None or not declared.sweeps or self.args is None:
            return []
        from rshell.grammar.sweeps import line_axes  # only for a line that may sweep

        return line_axes(self.words, self.args.inputs, self.args.separator)

    def _templated_values(self) -> set[str]:
        return {self.words[i].value for i in self.templated}

    def run_args(self, values: list[str], options: Mapping[str, Any] | None) -> tuple[Command, ParsedArgs]:
        """The command and its arguments, with the templated words' values at run time:
        a template in an input's value fills that value in (the input was split when
        the line was read); one anywhere else decides what the line says, so the line
        is read again with the values."""
        if self.command is None or self.args is None:
            return parse_line(self.head, values, options)
        if not self.templated:
            return self.command, self.args
        filled = {self.words[i].value: values[i] for i in self.templated}
        if not set(filled) <= set(self.args.inputs):
            return parse_line(self.head, values, options)
        args, separator = self.args, self.args.separator
        split = [
            given.expanded(filled[word], separator) if word in filled else given
            for word, given in zip(args.inputs, args.split, strict=True)
        ]
        return self.command, msgspec.structs.replace(
            args, inputs=[filled.get(word, word) for word in args.inputs], split=split
        )


def read_plan(words: list[Word], aliases: Mapping[str, str], options: Mapping[str, Any] | None) -> Plan:
    """A stage's plan; UsageError for an unknown command, a bad alias, a bad template
    or (with no template on the line) bad arguments."""
    head, rest = resolve(words, aliases)
    found = [references(word) for word in rest]
    templated = frozenset(i for i, refs in enumerate(found) if refs)
    refs = tuple(ref for refs in found for ref in refs)
    try:
        command, args = parse_line(head, [w.value for w in rest], options)
    except RshellError:
        if templated:
            return Plan(head, tuple(rest), None, None, refs, templated)
        raise
    return Plan(head, tuple(rest), command, args, refs, templated)


def nothing_piped() -> UsageError:
    """The error of `{{.…}}` with no piped result."""
    return UsageError(
        "'{{.…}}' refers to a piped result, but nothing was piped in",
        "pipe a command into this one (`a | b`), or name a result: {{x.output[0]}}",
    )


class Scope(msgspec.Struct):
    """What a script's statement means and can refer to, as the lines before it left
    it: names bound, aliases and options in force. `read` reads a stage into its plan
    and follows what the command does to the scope (its `Command.scope`); `refer`
    checks what a reference names."""

    session: Session  # as it was before the text
    names: set[str]
    aliases: dict[str, str]
    options: dict[str, Any]
    has_last: bool
    opaque: bool = False  # after `source FILE`: what it defines is unknown, so reading stops
    plans: dict[int, Plan] = msgspec.field(default_factory=dict)  # by id(node), for the executor
    rebound: set[str] = msgspec.field(default_factory=set)  # names (and `_`) the text has bound so far

    @classmethod
    def of(cls, session: Session) -> Scope:
        return cls(
            session, set(session.variables), dict(session.aliases), dict(session.options), session.last is not None
        )

    def refer(self, ref: Ref, piped: bool) -> None:
        """UsageError unless `ref`'s name is defined here (`{{.…}}`: something is piped
        in); a path into a value the session held before the text must exist too (one
        into a result the text makes is known only when it runs)."""
        from rshell.grammar.templates import resolve

        if ref.name is None:
            if not piped:
                raise nothing_piped()
            return
        if is_numbered(ref.name):
            return  # `_3`, `__`: numbered as the statements run, so known only then
        probe = Session(variables=dict.fromkeys(self.names, True), last=True if self.has_last else None)
        probe.lookup(ref.name)  # the session's own message for an undefined name
        if ref.path and ref.name not in self.rebound:
            resolve(ref, lambda name: self.session.lookup(str(name)), self.session.joins)

    def read(self, words: list[Word], key: int) -> Plan:
        with naming_alias(words, self.aliases):
            plan = read_plan(words, self.aliases, self.options)
        self.plans[key] = plan
        self._follow(plan)
        return plan

    def bound(self, target: str | None) -> None:
        """A statement ran: `_` is set, and `NAME =` binds its name."""
        if target:
            self.names.add(target)
        self.has_last = True
        self.rebound.update({"_", target or "_"})

    def _follow(self, plan: Plan) -> None:
        if plan.command is None or plan.args is None:
            return
        effect, args = plan.command.scope, plan.args
        if effect == "alias" and args.get("definition"):
            name, eq, text = str(args.get("definition")).partition("=")
            if eq:
                check_alias_name(name)
                self.aliases[name] = text
        elif effect == "unalias":
            self.aliases.pop(str(args.get("name")), None)
        elif effect == "unset":
            self.names.discard(str(args.get("name")))
        elif effect == "set" and args.get("option") and args.get("value") is not None and not plan.templated:
            probe = Session(options=dict(self.options))
            probe.set_option(str(args.get("option")), str(args.get("value")))  # `set`'s own check and value
            self.options = probe.options
        elif effect == "source":
            self.opaque = True


def find_command(words: list[Word]) -> tuple[Command, list[Word]]:
    """The catalog's look-up over words already expanded."""
    command, rest = catalog.resolve([w.value for w in words])
    tail = words[len(words) - len(rest) :] if rest else []
    if [w.value for w in tail] != rest:  # `model --help` is `help model`: new words
        like = words[0] if words else Word("", 0, 0)
        tail = [_word(value, like) for value in rest]
    return command, tail


def read_head(words: list[Word], aliases: Mapping[str, str]) -> Head:
    """`resolve` for a line still being typed (completion, highlighting); never raises."""
    try:
        words = expand(words, aliases)
    except RshellError:
        return Head(None, [])
    if not words:
        return Head(None, [], empty=True)
    if len(words) == 1 and words[0].value in catalog.GROUP_ALIASES:
        return Head(None, [], group=catalog.GROUP_ALIASES[words[0].value])
    try:
        command, rest = find_command(words)
    except RshellError:
        return Head(None, words)
    return Head(command, rest)


def _word(value: str, like: Word) -> Word:
    """A word an alias put in place of `like`: same position, nothing substituted in it."""
    return msgspec.structs.replace(like, value=value, literal=((0, len(value)),), open_quote=None)
