"""Images in the terminal, for `preview`: checked first, then drawn by textual-image.

textual-image picks the terminal's graphics protocol itself (sixel, which iTerm2,
WezTerm, foot and xterm -ti vt340 speak; kitty's graphics protocol), and draws
Unicode half-blocks in colour everywhere else. Bytes come from a server, so
they are decoded by Pillow with a size and a pixel cap before anything is drawn:
what is not an image is an error, not a stream of escapes.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
from typing import IO, Any, Literal

from rshell.errors import RshellError

MAX_BYTES = 32 * 2**20  # a preview is for a look, not for a 200 MB TIFF
MAX_PIXELS = 40_000_000  # past this Pillow would spend seconds and gigabytes decoding
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")


def looks_like_image(url: str) -> bool:
    """An output URL that names an image (by its path's extension or a data: type)."""
    from urllib.parse import urlsplit

    if url.startswith("data:"):
        return url[5:].lower().startswith("image/")
    return urlsplit(url).path.lower().endswith(EXTENSIONS)


def decode(data: bytes, name: str) -> Any:
    """The Pillow image in `data`, fully decoded; RshellError when it is not one."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_BYTES:
        raise RshellError(f"{name} is too large to preview ({len(data)} bytes; the limit is {MAX_BYTES})")
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise RshellError(f"{name} is too large to preview ({width}x{height} pixels)")
        image.load()
    except Image.DecompressionBombError:
        raise RshellError(f"{name} is too large to preview (a decompression bomb, by Pillow's count)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        detail = "not an image" if isinstance(exc, UnidentifiedImageError) else f"not a readable image ({exc})"
        raise RshellError(f"{name}: {detail}", "`open` hands other files to the system viewer") from None
    return image


def draw(image: Any, stream: IO[str], *, columns: int | None = None, rows: int | None = None) -> None:
    """Draw `image` on the terminal behind `stream`, fitted to the screen."""
    size = shutil.get_terminal_size((80, 24))
    columns = columns or size.columns
    rows = rows or max(4, size.lines - 3)  # the prompt and the toolbar stay in view
    logging.getLogger("textual_image").setLevel(logging.CRITICAL)  # its fallbacks are not the user's business
    from rich.console import Console
    from textual_image.renderable import HalfcellImage, UnicodeImage
    from textual_image.renderable import Image as Detected

    # textual-image picks plain shading when *its* stdout is no terminal; rshell draws
    # only on one, so half-blocks in colour are the least it shows
    renderable = HalfcellImage if Detected is UnicodeImage else Detected

    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    console = Console(
        file=stream,
        force_terminal=True,
        no_color=False,  # NO_COLOR is about decoration; a picture asked for is its colours
        color_system=_colours(),
        width=columns,
        height=rows,
    )
    console.print(renderable(image, width="auto", height="auto"), crop=False)
    stream.flush()


def _colours() -> Literal["truecolor", "256"]:
    """24-bit colour where COLORTERM says so, else 256 (every terminal in use has them;
    rich would fall back to 8 on a plain TERM=xterm, too few for a picture)."""
    return "truecolor" if os.environ.get("COLORTERM", "").lower() in ("truecolor", "24bit") else "256"
