"""The completion engine: a partial line in, ranked completions out, from the cache.

`complete` must never make a keystroke wait: it reads only memory, asks the refresher
for whatever it lacks (which returns at once), and answers with what it has now. The
REPL's prompt-toolkit adapter and `rshell --complete` both call it, so the system
shells and the REPL complete exactly alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rshell.commands import catalog
from rshell.commands.arguments import parse_args
from rshell.commands.modelref import MODEL_RE, VERSION_ID_RE
from rshell.commands.registry import Command
from rshell.commands.resolver import read_head
from rshell.completion import context as ctx
from rshell.completion import inputs, paths, sources, variables
from rshell.completion.cache import CompletionCache
from rshell.completion.context import (
    CommandName,
    FlagName,
    FlagValue,
    InputKey,
    InputValue,
    LocalPath,
    Site,
    SourceValue,
    Subcommand,
    Suggestion,
    Variable,
    Version,
)
from rshell.completion.matcher import Candidate, rank
from rshell.completion.meta import join, one_line
from rshell.completion.refresher import Refresher
from rshell.errors import RshellError
from rshell.grammar.lexer import quote
from rshell.session.state import OPTIONS, Session, shown

log = logging.getLogger(__name__)

MODEL_LIMIT = 100  # a menu of more models helps nobody and costs time to draw
MIN_SEARCH = 2  # shorter prefixes are not worth a search request


@dataclass(frozen=True)
class Completion:
    """One completion: insert `text` in place of the `-start` characters before the cursor."""

    text: str
    start: int
    display: str | None = None
    meta: str | None = None


def by_length(pool: list[Candidate]) -> list[Candidate]:
    """Command words: the groups first, then the shortest, then alphabetically (`r`
    offers `run` before `rerun`, `pre` `prediction` first); the order never changes
    from one keystroke to the next."""
    return sorted(pool, key=lambda c: (c.text not in catalog.GROUPS, len(c.text), c.text))


def _command_pool() -> tuple[Candidate, ...]:
    """Groups, top-level commands and the catalog's aliases, with a line of help each."""
    found: list[Candidate] = []
    for group, commands in sorted(catalog.GROUPS.items()):
        found.append(Candidate(group, one_line("group: " + ", ".join(c.path[1] for c in commands))))
    for name, command in sorted(catalog.TOP_LEVEL.items()):
        found.append(Candidate(name, one_line(command.help)))
    for alias, words in sorted(catalog.COMMAND_ALIASES.items()):
        found.append(Candidate(alias, "= " + " ".join(words)))
    for alias, group in sorted(catalog.GROUP_ALIASES.items()):
        if alias != group:
            found.append(Candidate(alias, f"= {group}"))
    return tuple(by_length(found))


COMMAND_POOL = _command_pool()


class CompletionEngine:
    """Completions for the text before the cursor, from `cache` and `session`."""

    def __init__(
        self,
        cache: CompletionCache,
        session: Session,
        refresher: Refresher | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.cache = cache
        self.session = session
        self.refresher = refresher
        self.cwd = cwd  # where relative paths are listed (None: the process's cwd)
        self._recent_memo: tuple[tuple[int, int], list[str]] = ((-1, -1), [])
        self._answers: dict[type[Suggestion], Callable[[Any], list[Candidate]]] = {
            CommandName: self._commands,
            Subcommand: self._subcommands,
            FlagName: self._flags,
            FlagValue: self._flag_values,
            SourceValue: self._source,
            Version: self._versions,
            InputKey: self._input_keys,
            InputValue: self._input_values,
            LocalPath: self._paths,
            Variable: self._variables,
        }

    def complete(self, text_before_cursor: str) -> list[Completion]:
        """What may replace the end of the line; never raises, never waits."""
        try:
            wants = ctx.analyse(text_before_cursor, self.session)
        except Exception:
            log.debug("completion context failed for %r", text_before_cursor, exc_info=True)
            return []
        found: list[Completion] = []
        seen: set[tuple[str, int]] = set()
        for want in wants:
            try:
                answer = self._answers[type(want)](want)
            except Exception:
                log.debug("completion of %s failed", want.kind, exc_info=True)
                continue
            for c in answer:
                item = Completion(self._insert(want, c.text), want.start, c.display, c.meta or None)
                if (item.text, item.start) not in seen:
                    seen.add((item.text, item.start))
                    found.append(item)
        return found

    def _want(self, kind: str, key: str = "") -> None:
        if self.refresher is not None:
            self.refresher.want(kind, key)

    @staticmethod
    def _insert(want: Suggestion, text: str) -> str:
        """The text as typed into the line: values quoted, `$` kept."""
        if isinstance(want, Variable):
            return want.sigil + text if want.sigil == "$" else text
        if isinstance(want, LocalPath):
            return paths.insertable(text)
        if isinstance(want, InputValue | FlagValue):
            return quote(text)
        return text

    # commands and flags ------------------------------------------------------------
    def _commands(self, want: CommandName) -> list[Candidate]:
        user = [Candidate(name, one_line("alias: " + text)) for name, text in sorted(self.session.aliases.items())]
        return rank(want.prefix, by_length(user + list(COMMAND_POOL)))

    def _subcommands(self, want: Subcommand) -> list[Candidate]:
        group = want.group
        return rank(want.prefix, [Candidate(c.path[1], one_line(c.help)) for c in catalog.GROUPS.get(group, [])])

    def _flags(self, want: FlagName) -> list[Candidate]:
        command = want.command
        if command is None:
            return []
        pool = [
            Candidate(f.name, one_line(f.help), display=f.label) for f in command.all_flags if f.dest not in want.given
        ]
        return rank(want.prefix, pool, fuzzy=False)

    def _flag_values(self, want: FlagValue) -> list[Candidate]:
        flag, command = want.flag, want.command
        if flag is None:
            return []
        if flag.choices:
            default = command.defaults.get(flag.dest) if command else None
            return rank(want.prefix, [Candidate(c, "default" if c == default else None) for c in flag.choices])
        if flag.complete:
            return self._source(SourceValue(want.prefix, want.start, source=flag.complete, site=Site(command)))
        return []

    # positional sources ---------------------------------------------------------------
    def _source(self, want: SourceValue) -> list[Candidate]:
        source = want.source
        if source == "model":
            return self._models(want.prefix)
        if source in sources.LISTED:
            return self._listed(source, want.prefix)
        if source == "command":
            return self._help_topics(want)
        if source == "option":
            return rank(want.prefix, [Candidate(name, one_line(o.help)) for name, o in OPTIONS.items()])
        if source == "option_value":
            return self._option_values(want)
        if source == "path":
            return self._paths(LocalPath(want.prefix, want.start))
        if source == "alias":
            return rank(want.prefix, [Candidate(n, one_line(t)) for n, t in sorted(self.session.aliases.items())])
        if source in ("api_method", "api_path"):
            return self._api(want)
        return []

    def _api(self, want: SourceValue) -> list[Candidate]:
        """`api METHOD PATH`: the methods, then the spec's paths (those of METHOD first)."""
        from rshell.commands.rawapi import METHODS, spec_paths

        if want.source == "api_method":
            return rank(want.prefix, [Candidate(m) for m in METHODS], fuzzy=False)
        method = want.site.words[0].upper() if want.site.words else ""
        return rank(want.prefix, [Candidate(path, summary) for path, summary in spec_paths(method)], fuzzy=False)

    def _listed(self, source: str, prefix: str) -> list[Candidate]:
        """Ids and names from the API's lists; predictions in flight come first."""
        kind = sources.LISTED[source]
        self._want(kind)
        pool = list(self.cache.lists.get(kind, ()))
        running = [
            Candidate(rid, "in flight") for rid, of in self.session.in_flight.items() if sources.LISTED.get(of) == kind
        ]
        pool = running + pool
        return rank(prefix, pool)

    def _help_topics(self, want: SourceValue) -> list[Candidate]:
        """`help <command>` then `help <group> <subcommand>`."""
        words = want.site.words
        if not words:
            return rank(want.prefix, list(COMMAND_POOL))
        group = catalog.GROUP_ALIASES.get(words[0])
        if group is None:
            return []
        return self._subcommands(Subcommand(want.prefix, want.start, group=group))

    def _option_values(self, want: SourceValue) -> list[Candidate]:
        """`set OPTION <value>`: every value the option declares (on/off for a switch),
        else its current and default values; the current one is marked."""
        option = OPTIONS.get(want.site.words[0] if want.site.words else "")
        if option is None:
            return []
        current = shown(self.session.options.get(option.name, option.default))
        default = shown(option.default)
        values = option.values or tuple(dict.fromkeys((current, default)))
        marks = {default: "default", current: "current"}
        return rank(want.prefix, [Candidate(v, marks.get(v)) for v in values])

    # models ------------------------------------------------------------------------------
    def _models(self, prefix: str) -> list[Candidate]:
        """Recent and own models first, then every cached one; a search runs behind."""
        query = prefix.strip()
        self._want("models", query if len(query) >= MIN_SEARCH else "")
        self._want("predictions")
        self._want("account")
        cache = self.cache
        recent = [Candidate(name, join("recent", _meta_of(cache, name))) for name in self._recent_models()]
        pool = recent + list(cache.own_models()) + list(cache.model_pool)
        ranked = rank(prefix, pool, limit=MODEL_LIMIT + len(recent))
        return _unique(ranked)[:MODEL_LIMIT]

    def _recent_models(self) -> list[str]:
        """Models named in this session's statements and runs, newest first, then the API's."""
        session = self.session
        stamp = (len(session.statements), len(session.aliases))
        if self._recent_memo[0] != stamp:
            names: list[str] = []
            for statement in reversed(session.statements):
                names.extend(models_named(statement, session))
            self._recent_memo = (stamp, list(dict.fromkeys(n for n in names if n)))
        return list(dict.fromkeys(self._recent_memo[1] + list(self.cache.recent_models)))

    def _versions(self, want: Version) -> list[Candidate]:
        model = want.model or ""
        if not MODEL_RE.match(model):
            return []
        known = self.cache.versions.get(model)
        self._want("versions", model)
        pool = [Candidate(v.id, v.created_at[:16].replace("T", " ") or None) for v in known or ()]
        return rank(want.prefix, pool, fuzzy=False)

    # inputs ----------------------------------------------------------------------------------
    def _fields(self, site: Site) -> list[inputs.InputField]:
        """The inputs of the model in the line, asking for its schema when unknown."""
        ref = (site.model or "").strip()
        if not ref and site.deployment:
            return self._deployment_fields(site.deployment, site.command)
        pinned = VERSION_ID_RE.match(ref) is not None
        if not pinned and not MODEL_RE.match(ref):
            return []
        schema = self._schema_of(ref)
        if schema is None and not pinned:
            self._want("schema", ref)
        return inputs.fields(schema, training=_trains(site.command))

    def _schema_of(self, ref: str) -> dict | None:
        """The cached schema of `owner/name`, `owner/name:version` or a version id."""
        model, _, version = ref.partition(":")
        if VERSION_ID_RE.match(ref):
            model, version = "", ref
        return self.cache.schema_for(model, version or None)

    def _deployment_fields(self, name: str, command: Command | None) -> list[inputs.InputField]:
        """The inputs of a deployment's current version, asking for it when unknown."""
        version = self.cache.deployment_versions.get(name)
        if version is None or self.cache.schema_for("", version) is None:
            self._want("deployment", name)
        return inputs.fields(self.cache.schema_for("", version) if version else None, training=_trains(command))

    def _input_keys(self, want: InputKey) -> list[Candidate]:
        pool = inputs.key_candidates(self._fields(want.site), want.given, want.site.separator)
        return rank(want.prefix, pool)

    def _input_values(self, want: InputValue) -> list[Candidate]:
        field = next((f for f in self._fields(want.site) if f.name == want.key), None)
        if field is None:
            return []
        return rank(want.prefix, inputs.value_candidates(field), fuzzy=False)

    # paths and variables ----------------------------------------------------------------
    def _paths(self, want: LocalPath) -> list[Candidate]:
        return paths.path_candidates(want.prefix, self.cwd)

    def _variables(self, want: Variable) -> list[Candidate]:
        if want.prefix.startswith("."):
            return rank(want.prefix, variables.piped(want.prefix, self._piped(want.site)), fuzzy=False)
        return rank(want.prefix, variables.candidates(want.prefix, self.session), fuzzy=False)

    def _piped(self, site: Site) -> object:
        """The result a `{{.…}}` will read: a run of the model piped in (shaped by its
        schema), else the last result."""
        command = site.command
        if command is not None and command.starts_run and site.model:
            self._fields(site)  # asks for the schema when unknown
            schema = self._schema_of(site.model)
            if schema is not None:
                return inputs.predicted(schema, training=_trains(command))
        return self.session.last


def models_named(statement: str, session: Session) -> list[str]:
    """The `owner/name` models a past statement ran or named (for "recent" models).

    Each stage is read as the executor reads it, so only words in a model-sourced
    argument or flag count: `files upload a/b.zip` does not make `a/b.zip` a model.
    """
    from rshell.grammar.parser import parse_script

    try:
        statements = parse_script(statement)
    except RshellError:
        return []
    found: list[str] = []
    for node in (node for s in statements for node in s.pipeline if node.system is None):
        head = read_head(node.words, session.aliases)
        if head.command is not None:
            parsed = parse_args(head.command, [w.value for w in head.rest], session.options, tolerant=True)
            found.extend(parsed.sourced("model"))
    return [f"{m['owner']}/{m['name']}" for m in map(MODEL_RE.match, found) if m]


def _trains(command: Command | None) -> bool:
    """Whether the command's inputs are a trainer's (Cog's TrainingInput), not Input."""
    return command is not None and command.kind == "training"


def _meta_of(cache: CompletionCache, name: str) -> str:
    info = cache.models.get(name)
    return info.description if info else ""


def _unique(items: list[Candidate]) -> list[Candidate]:
    seen: set[str] = set()
    out = []
    for c in items:
        if c.text not in seen:
            seen.add(c.text)
            out.append(c)
    return out
