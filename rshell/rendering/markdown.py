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


def inline(text: str) -> str:
    """Links, images, emphasis, inline code and tags of one line, made plain."""
    text = _TAG.sub("", text)
    text = _IMAGE.sub(lambda m: f"[image: {m.group(1) or m.group(2)}]", text)
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} <{m.group(2)}>", text)
    text = _EMPHASIS.sub(lambda m: m.group(2), text)
    return text.replace("`", "")


def render_markdown(source: str, width: int | None = None) -> str:
    """The README as a person reads it in a terminal."""
    width = min(width or terminal_width(), 100)
    out: list[str] = []
    paragraph: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if paragraph:
            out.extend(textwrap.wrap(inline(" ".join(paragraph)), width) or [""])
            paragraph.clear()

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
        heading = _HEADING.match(stripped)
        bullet = _BULLET.match(line)
        if not stripped:
            flush()
            if out and out[-1] != "":
                out.append("")
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
            out += textwrap.wrap(inline(bullet.group(3)), width, initial_indent=lead, subsequent_indent=" " * len(lead))
        elif stripped.startswith(">"):
            flush()
            out.append("│ " + inline(stripped.lstrip("> ")))
        else:
            paragraph.append(stripped)
    flush()
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)
