"""The prompt-toolkit adapter around the completion engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.shortcuts import PromptSession

from rshell.repl.completer import EngineCompleter, refresh_menu, to_prompt_toolkit


@dataclass
class Item:
    text: str
    start: int
    display: str | None = None
    meta: str | None = None


class Engine:
    """Answers from `known`, like the real engine answers from its cache."""

    def __init__(self) -> None:
        self.known: dict[str, list[Item]] = {}
        self.asked: list[str] = []

    def complete(self, text_before_cursor: str) -> list[Item]:
        self.asked.append(text_before_cursor)
        return list(self.known.get(text_before_cursor, []))


def completions(completer: EngineCompleter, text: str) -> list[Any]:
    return list(completer.get_completions(Document(text), CompleteEvent(completion_requested=True)))


def test_items_become_prompt_toolkit_completions() -> None:
    engine = Engine()
    engine.known["run rshell/e"] = [
        Item("rshell/echo", -8, "rshell/echo", "echoes its input"),
        Item("rshell/pixels", -8, None, ""),
    ]
    found = completions(EngineCompleter(engine), "run rshell/e")
    assert [(c.text, c.start_position, c.display_text, c.display_meta_text) for c in found] == [
        ("rshell/echo", -8, "rshell/echo", "echoes its input"),
        ("rshell/pixels", -8, "rshell/pixels", ""),
    ]
    assert engine.asked == ["run rshell/e"]


def test_only_text_before_the_cursor_is_given_to_the_engine() -> None:
    engine = Engine()
    completer = EngineCompleter(engine)
    list(completer.get_completions(Document("run rshell/e text=1", cursor_position=12), CompleteEvent()))
    assert engine.asked == ["run rshell/e"]
    assert completer.last_text == "run rshell/e"


def test_start_is_clamped_to_the_typed_text() -> None:
    assert to_prompt_toolkit(Item("abc", -50), "ab").start_position == -2
    assert to_prompt_toolkit(Item("abc", 3), "ab").start_position == 0


def test_an_engine_failure_offers_nothing_instead_of_breaking_typing() -> None:
    class Broken:
        def complete(self, text: str) -> list[Item]:
            raise KeyError("bug")

    assert completions(EngineCompleter(Broken()), "run ") == []


def test_refresh_menu_shows_data_that_arrived_after_the_keystroke() -> None:
    engine = Engine()
    completer = EngineCompleter(engine)

    async def scenario() -> list[str]:
        with create_pipe_input() as pipe:
            session: PromptSession[str] = PromptSession(
                completer=completer, complete_while_typing=True, input=pipe, output=DummyOutput()
            )
            task = asyncio.ensure_future(session.prompt_async())
            pipe.send_text("run rshell/e")
            await asyncio.sleep(0.3)
            buffer = session.default_buffer
            assert buffer.complete_state is None  # nothing cached yet
            engine.known["run rshell/e"] = [Item("rshell/echo", -8)]
            refresh_menu(session.app, completer)  # the refresher's on_update
            await asyncio.sleep(0.3)
            state = buffer.complete_state
            texts = [c.text for c in state.completions] if state else []
            session.app.exit(result="")
            await task
            return texts

    assert asyncio.run(scenario()) == ["rshell/echo"]


def test_a_tab_right_after_new_data_takes_the_first_entry() -> None:
    """The menu is replaced in one step: a Tab that lands the moment the refresher's
    data arrives finds the new menu and takes its first entry (it used to find no menu
    while a new completion was being computed, and only opened one: seen under load)."""
    from rshell.repl.keys import key_bindings

    engine = Engine()
    completer = EngineCompleter(engine)

    async def scenario() -> str:
        with create_pipe_input() as pipe:
            session: PromptSession[str] = PromptSession(
                completer=completer,
                complete_while_typing=True,
                input=pipe,
                output=DummyOutput(),
                key_bindings=key_bindings(),
            )
            task = asyncio.ensure_future(session.prompt_async())
            pipe.send_text("run rshell/e")
            for _ in range(100):
                await asyncio.sleep(0.01)
                if session.default_buffer.text == "run rshell/e":
                    break
            engine.known["run rshell/e"] = [Item("rshell/echo", -8), Item("rshell/pixels", -8)]
            refresh_menu(session.app, completer)  # the refresher's on_update, then at once:
            assert session.default_buffer.complete_state is not None  # no moment without a menu
            pipe.send_text("\t")
            for _ in range(100):
                await asyncio.sleep(0.01)
                if session.default_buffer.text != "run rshell/e":
                    break
            text = session.default_buffer.text
            session.app.exit(result="")
            await task
            return text

    assert asyncio.run(scenario()) == "run rshell/echo"


def test_refresh_menu_leaves_a_menu_being_navigated_alone() -> None:
    engine = Engine()
    engine.known["run "] = [Item("rshell/echo", 0), Item("rshell/pixels", 0)]
    completer = EngineCompleter(engine)

    async def scenario() -> tuple[int | None, list[str]]:
        with create_pipe_input() as pipe:
            session: PromptSession[str] = PromptSession(
                completer=completer, complete_while_typing=True, input=pipe, output=DummyOutput()
            )
            task = asyncio.ensure_future(session.prompt_async())
            pipe.send_text("run ")
            await asyncio.sleep(0.3)
            pipe.send_text("\t")  # select the first item
            await asyncio.sleep(0.3)
            engine.known["run "] = [Item("zzz/new", 0)]
            refresh_menu(session.app, completer)
            await asyncio.sleep(0.3)
            state = session.default_buffer.complete_state
            result = (state.complete_index if state else None, [c.text for c in state.completions] if state else [])
            session.app.exit(result="")
            await task
            return result

    index, texts = asyncio.run(scenario())
    assert index == 0
    assert texts == ["rshell/echo", "rshell/pixels"]


def test_refresh_menu_is_harmless_when_no_prompt_runs() -> None:
    completer = EngineCompleter(Engine())
    with create_pipe_input() as pipe:
        session: PromptSession[str] = PromptSession(completer=completer, input=pipe, output=DummyOutput())
        refresh_menu(session.app, completer)  # must not raise
        assert session.default_buffer.complete_state is None


def test_with_the_real_engine_model_names_replace_the_typed_word() -> None:
    from rshell.completion.cache import CompletionCache, ModelInfo
    from rshell.completion.engine import CompletionEngine
    from rshell.session.state import Session

    cache = CompletionCache()
    cache.put_models([ModelInfo("rshell/echo", "Echoes its text"), ModelInfo("other/model", "Something else")])
    cache.mark("models")
    completer = EngineCompleter(CompletionEngine(cache, Session()))
    found = completions(completer, "x = run rshell/ec")
    assert found and found[0].text == "rshell/echo"
    assert found[0].start_position == -len("rshell/ec")
    assert "Echoes its text" in found[0].display_meta_text
    assert all(c.text != "other/model" for c in found)
    document = Document("x = run rshell/ec")
    applied = document.text[: len(document.text) + found[0].start_position] + found[0].text
    assert applied == "x = run rshell/echo"
