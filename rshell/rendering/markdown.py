"""Markdown laid out as plain terminal text (a model's README).

No colours or escape codes (Output neutralises those anyway): headings are
underlined, emphasis markers and HTML tags dropped, links shown as `text <url>`,
lists get bullets, paragraphs are wrapped to the terminal, code blocks are kept
verbatim and indented. Anything unusual passes through as written.
"""

from __future__ import annotations

import re
import textwrap

from rshell.rendering.tables import terminal_width

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|(\d+)[.)])\s+(.*)$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_CELL_BAR = re.compile(r"(?<!\\)\|")


def inline(text: str) -> str:
    """Links, images, emphasis, inline code and tags of one line, made plain. Inside
    `code` nothing is read as emphasis or a tag (`_.output`, `<id>` stay as written)."""
    shown: list[str] = []
    start = 0
    for code in _CODE.finditer(text):
        shown += [_plain(text[start : code.start()]), code.group(2).strip() or code.group(2)]
        start = code.end()
    return "".join([*shown, _plain(text[start:])])


def _plain(text: str) -> str:
    text = _TAG.sub("", text)
    text = _IMAGE.sub(lambda m: f"[image: {m.group(1) or m.group(2)}]", text)
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} <{m.group(2)}>", text)
    text = _EMPHASIS.sub(lambda m: m.group(2), text)
    return _ESCAPED.sub(r"\1", text).replace("`", "")


def render_markdown(source: str, width: int | None = None) -> str:
    """The README as a person reads it in a terminal."""
    width = min(width or terminal_width(), 100)
    out: list[str] = []
    paragraph: list[str] = []
    lead = ""  # a list item's bullet: its paragraph hangs under the item's text
    grid: list[str] = []
    fence: str | None = None

    def flush() -> None:
        nonlocal lead
        if paragraph:
            hang = " " * len(lead)
            out.extend(textwrap.wrap(inline(" ".join(paragraph)), width, initial_indent=lead, subsequent_indent=hang))
            paragraph.clear()
        lead = ""
        if grid:
            out.extend(_table(grid, width).splitlines())
            grid.clear()

    for line in source.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
                out.append("")
            else:
                out.append("    " + line)
            continue
        if stripped.startswith(("```", "~~~")):
            flush()
            fence = stripped[:3]
            continue
        if stripped.startswith("|") and (grid or not paragraph):
            grid.append(stripped)
            continue
        heading = _HEADING.match(stripped)
        bullet = _BULLET.match(line)
        if not stripped:
            flush()
            if out and out[-1] != "":
                out.append("")
        elif line.startswith(("    ", "\t")) and not paragraph and (not out or out[-1] == ""):
            out.append("    " + line.strip())  # an indented code block: kept as written
        elif heading:
            flush()
            title = inline(heading.group(2))
            out += [title, ("=" if len(heading.group(1)) == 1 else "-") * min(len(title), width), ""]
        elif _RULE.match(line):
            flush()
            out += ["-" * min(width, 40), ""]
        elif bullet:
            flush()
            indent = " " * (len(bullet.group(1)) // 2 * 2)
            mark = f"{bullet.group(2)}." if bullet.group(2) else "•"
            lead = f"{indent}{mark} "
            paragraph.append(bullet.group(3))
        elif stripped.startswith(">"):
            flush()
            out.append("│ " + inline(stripped.lstrip("> ")))
        else:
            paragraph.append(stripped)
    flush()
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def _table(rows: list[str], width: int) -> str:
    """A pipe table as aligned columns, its last column wrapped (stacked when even that
    does not fit); the `|---|` rule and the bars are gone, `\\|` is a bar in a cell."""
    from rshell.rendering.tables import table

    cells = [[inline(c.strip().replace("\\|", "|")) for c in _CELL_BAR.split(row.strip().strip("|"))] for row in rows]
    if len(rows) > 1 and _TABLE_RULE.match(rows[1]):
        head, body = cells[0], cells[2:]
    else:
        head, body = [""] * len(cells[0]), cells
    count = max(len(r) for r in [head, *body])
    body = [r + [""] * (count - len(r)) for r in body]
    head = head + [""] * (count - len(head))
    return table(head, body, flex=count - 1, width=width, lines=None)
