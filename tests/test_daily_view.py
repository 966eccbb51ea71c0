"""The pieces behind issue 12's daily-use items, one by one: tables fitted to a width,
colour, the pager's decisions, keys typed while a statement runs, and preview's
checks of what a server sends (the pseudo-terminal tests are test_repl_daily_pty.py)."""

from __future__ import annotations

import io
import os
import re
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rsh import BASE, mocked

from rshell.errors import RshellError, UsageError
from rshell.rendering import colour, images, pager
from rshell.rendering.output import Output
from rshell.rendering.tables import table
from rshell.session.state import Session

# tables -----------------------------------------------------------------------------

SCHEMA_ROWS = [
    ("prompt*", "string", "", "", "Text the picture is derived from"),
    ("seed", "integer", "", "", "Random seed; leave blank to derive one from the prompt"),
    ("style", "string", '"a fairly long default value here"', "one of gradient, blocks, noise", "How it is drawn"),
]
HEADERS = ("input", "type", "default", "constraints", "description")


def _words(text: str) -> list[str]:
    return text.split()


def test_reading_column_is_wrapped_not_cut_at_80() -> None:
    shown = table(HEADERS, SCHEMA_ROWS, flex=4, width=80, lines=None)
    lines = shown.splitlines()
    assert all(len(line) <= 80 for line in lines)
    start = lines[0].index("DESCRIPTION")
    assert 80 - start >= 24  # the description keeps room; DEFAULT gave way instead
    assert "…" not in shown
    for row in SCHEMA_ROWS:  # every word of every cell is there, whole
        for word in _words(" ".join(row)):
            assert word in _words(shown), word


def test_too_narrow_for_columns_rows_are_stacked() -> None:
    shown = table(HEADERS, SCHEMA_ROWS, flex=4, width=40, lines=None)
    assert all(len(line) <= 40 for line in shown.splitlines())
    assert "INPUT" not in shown  # no header row: each row is its own block
    block = shown.split("\n\n")[1]
    assert block.splitlines()[0] == "seed"
    assert "  description: Random seed; leave blank" in block


def test_lists_keep_one_line_a_row_and_truncate_the_description() -> None:
    rows = [("owner/model", "1.2K", "a description that goes on and on " * 3)]
    shown = table(("model", "runs", "description"), rows, flex=2, width=50)
    assert len(shown.splitlines()) == 2 and shown.endswith("…")


def test_labelled_lines_wrap_long_values_under_themselves() -> None:
    from rshell.rendering.tables import fields

    shown = fields([("id", "abc"), ("description", "one two three four five six seven")], width=30)
    assert shown.splitlines() == [
        "id:          abc",
        "description: one two three",
        "             four five six",
        "             seven",
    ]
    url = "https://example.com/" + "x" * 40
    assert fields([("url", url)], width=30) == f"url: {url}"  # one word: kept whole, to copy


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
            st.lists(st.from_regex(r"[a-z]{1,10}", fullmatch=True), min_size=0, max_size=12).map(" ".join),
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(min_value=30, max_value=120),
)
def test_wrapped_tables_fit_and_never_split_a_word(rows: list[tuple[str, str]], width: int) -> None:
    shown = table(("key", "description"), rows, flex=1, width=width, lines=None)
    assert all(len(line) <= width for line in shown.splitlines())
    originals = {w for r in rows for w in _words(" ".join(r))}
    kept = set(_words(shown))
    assert originals <= kept  # nothing cut
    assert kept - originals <= {"KEY", "DESCRIPTION", "description:"}  # and no fragments of split words


# colour -----------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("env", "expected"), [({}, True), ({"NO_COLOR": "1"}, False), ({"TERM": "dumb"}, False)])
def test_colour_honours_no_color_and_dumb_terminals(monkeypatch, env, expected) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert colour.enabled(_Tty()) is expected
    assert colour.enabled(io.StringIO()) is False  # never off a terminal


def test_colours_read_on_dark_and_light_backgrounds() -> None:
    """Only bold and ANSI colours 1-6 over the default foreground: no black or white
    (30/37), no bright or fixed greys (90-97, 38;5;N, 38;2;…), which vanish on one of them."""
    for code in colour.ROLES.values():
        for part in code.split(";"):
            assert part == "1" or 31 <= int(part) <= 36, code


def test_coloured_json_is_the_same_json() -> None:
    text = '{\n  "a": [1, "x", true, null],\n  "b": {"c": -2.5}\n}\n'
    painted = colour.json_text(text)
    assert re.sub(r"\x1b\[[0-9;]*m", "", painted) == text
    assert '\x1b[1;34m"a"\x1b[0m' in painted and "\x1b[35mnull\x1b[0m" in painted


def test_table_headers_only_are_bold() -> None:
    text = "INPUT  TYPE  DESCRIPTION\nprompt string Text\nNOT A HEADER LINE"
    painted = colour.headers(text)
    assert painted.startswith("\x1b[1mINPUT  TYPE  DESCRIPTION\x1b[0m\n")
    assert painted.endswith("prompt string Text\nNOT A HEADER LINE")


def test_error_prefix_coloured_only_on_a_terminal(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    err = _Tty()
    out = Output(stdout=io.StringIO(), stderr=err)
    out.error(RshellError("it broke"))
    assert err.getvalue() == "\x1b[1;31merror:\x1b[0m it broke\n"
    plain = io.StringIO()
    Output(stdout=io.StringIO(), stderr=plain).error(RshellError("it broke"))
    assert plain.getvalue() == "error: it broke\n"


# the pager --------------------------------------------------------------------------


def test_too_tall_counts_wrapped_rows_and_keeps_a_row_for_the_prompt() -> None:
    size = os.terminal_size((10, 5))
    assert not pager.too_tall("a\nb\nc\nd", size)
    assert pager.too_tall("a\nb\nc\nd\ne", size)
    assert pager.too_tall("x" * 41, size)  # one line, five screen rows
    assert pager.rows_needed("", 10) == 0


def test_pager_command_is_pager_else_less_r(monkeypatch) -> None:
    monkeypatch.setenv("PAGER", "most -s")
    argv, env = pager.command() or ([], {})
    assert argv == ["/bin/sh", "-c", "most -s"] and env["LESS"]
    monkeypatch.delenv("PAGER")
    monkeypatch.setattr(pager.shutil, "which", lambda name: "/usr/bin/less" if name == "less" else None)
    assert (pager.command() or ([], {}))[0] == ["/usr/bin/less", "-R"]
    monkeypatch.setattr(pager.shutil, "which", lambda name: None)
    assert pager.command() is None


def test_output_pages_only_a_tall_result_on_a_terminal(monkeypatch) -> None:
    from rshell.commands.context import Result

    paged: list[str] = []
    monkeypatch.setattr(pager, "page", lambda text, stdout: paged.append(text) or True)
    monkeypatch.setenv("LINES", "5")
    monkeypatch.setenv("COLUMNS", "80")
    tall = Result(text="\n".join(f"line {n}" for n in range(10)))
    tty = _Tty()
    Output(stdout=tty, stderr=io.StringIO(), json_mode=False).result(tall, in_json=False, page=True)
    assert len(paged) == 1 and tty.getvalue() == ""
    Output(stdout=tty, stderr=io.StringIO(), json_mode=False).result(tall, in_json=False, page=False)  # `set pager off`
    Output(stdout=tty, stderr=io.StringIO(), json_mode=False).result(Result(text="short"), in_json=False, page=True)
    piped = io.StringIO()
    Output(stdout=piped, stderr=io.StringIO(), json_mode=False).result(tall, in_json=False, page=True)
    assert len(paged) == 1 and "line 9" in tty.getvalue() and "line 9" in piped.getvalue()


def test_pager_option_is_a_switch() -> None:
    from rshell.session.state import Session

    session = Session()
    assert session.options["pager"] is True
    session.set_option("pager", "off")
    assert session.options["pager"] is False
    with pytest.raises(UsageError, match="on or off"):
        session.set_option("pager", "sometimes")


# keys typed while a statement runs -------------------------------------------------------


def test_typeahead_is_not_echoed_while_held_and_released_for_children() -> None:
    import termios

    from rshell import typeahead

    leader, follower = os.openpty()
    try:
        echo = lambda: bool(termios.tcgetattr(follower)[3] & termios.ECHO)  # noqa: E731
        assert echo()
        with typeahead.held(follower):
            assert not echo()
            with typeahead.released():
                assert echo()  # `!cmd` talks to the person as before
            assert not echo()
        assert echo()
        with typeahead.held(None), typeahead.released():  # no terminal: nothing to do
            pass
    finally:
        os.close(leader)
        os.close(follower)


# preview: what a server sends ---------------------------------------------------------------


def _png(width: int, height: int) -> bytes:
    """A valid PNG header claiming `width`x`height` (the pixels need not be there)."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_decode_refuses_non_images_and_pixel_bombs() -> None:
    with pytest.raises(RshellError, match="x.png: not an image"):
        images.decode(b"\x1b]0;owned\x07", "x.png")
    with pytest.raises(RshellError, match=r"too large to preview \(10000x5000 pixels\)"):
        images.decode(_png(10_000, 5_000), "big.png")  # past rshell's cap, under Pillow's
    with pytest.raises(RshellError, match="bomb.png is too large to preview"):
        images.decode(_png(100_000, 100_000), "bomb.png")
    with pytest.raises(RshellError, match="not a readable image"):
        images.decode(_png(4, 4), "truncated.png")  # no pixel data behind the header


def test_preview_fetches_through_the_client_with_a_cap(api, monkeypatch) -> None:
    monkeypatch.setattr(images, "MAX_BYTES", 1000)
    api.get("/files/huge.png").respond(200, content=b"\x89PNG" + b"0" * 5000)
    ran = mocked(f"preview {BASE}/files/huge.png", stdout_tty=True)
    assert ran.code == 1 and isinstance(ran.error, RshellError)
    assert "too large" in ran.error.message
    assert ran.stdout == ""


def test_preview_off_a_terminal_is_a_usage_error_before_any_request(api) -> None:
    ran = mocked(f"preview {BASE}/files/a.png")
    assert ran.code == 2 and isinstance(ran.error, UsageError)
    assert "stdout is not one" in ran.error.message
    assert not api.calls


def test_first_file_prefers_an_image_of_the_output() -> None:
    from rshell.commands.preview import first_file

    prediction = {"output": ["https://x/a.txt", "https://x/b.webp"], "urls": {"get": "https://api/x"}}
    assert first_file(prediction) == "https://x/b.webp"
    assert first_file({"output": ["https://x/a.txt"]}) == "https://x/a.txt"
    assert first_file({"output": "just text"}) is None
    assert first_file("saved/out.png") == "saved/out.png"


def test_preview_of_a_data_url_draws_without_a_request(api) -> None:
    from rshell import dataurls
    from rshell.sandbox.predictors.png import encode

    rows = [bytes([255, 0, 0] * 8) for _ in range(8)]
    url = dataurls.encode(encode(8, 8, rows), "image/png")
    session = Session()
    session.bind(None, {"kept": True})
    ran = mocked(f"preview '{url}'", session=session, stdout_tty=True)
    assert ran.code == 0 and not api.calls
    assert ran.data == {"kept": True}  # only shown: `_` is kept
    drawn = ran.stdout
    assert len(drawn.splitlines()) >= 2 and "\x1b[" in drawn  # rows of coloured cells
    bad = mocked("preview 'data:image/png;base64,!!!'", stdout_tty=True)  # quoted: `;` ends a statement
    assert bad.code == 2 and isinstance(bad.error, UsageError)
    assert "invalid base64" in bad.error.message
