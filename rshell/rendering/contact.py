"""A contact sheet: a sweep's images side by side, each with its varied inputs
written under it (`preview s` of a sweep's result). Pure Pillow: images in, one image out."""

from __future__ import annotations

from typing import Any, TypeGuard

CELL = 160  # pixels of each thumbnail's longer side
LABEL = 16  # pixels of text under each thumbnail (per line)
GAP = 8
COLUMNS = 4


def contact_sheet(cells: list[tuple[Any, list[str]]], columns: int = COLUMNS) -> Any:
    """One image: each cell's picture (None: a grey square, the run made none) over its label lines."""
    from PIL import Image, ImageDraw, ImageFont

    lines = max((len(label) for _, label in cells), default=1)
    columns = max(1, min(columns, len(cells)))
    rows = (len(cells) + columns - 1) // columns
    cell_h = CELL + LABEL * lines
    sheet = Image.new("RGB", (columns * (CELL + GAP) + GAP, rows * (cell_h + GAP) + GAP), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for index, (picture, label) in enumerate(cells):
        x = GAP + (index % columns) * (CELL + GAP)
        y = GAP + (index // columns) * (cell_h + GAP)
        if picture is None:
            sheet.paste(Image.new("RGB", (CELL, CELL), (200, 200, 200)), (x, y))
        else:
            thumb = picture.convert("RGB")
            thumb.thumbnail((CELL, CELL))
            sheet.paste(thumb, (x + (CELL - thumb.width) // 2, y + (CELL - thumb.height) // 2))
        for n, text in enumerate(label):
            draw.text((x, y + CELL + n * LABEL), text, fill="black", font=font)
    return sheet


def is_sweep(value: Any) -> TypeGuard[list[dict[str, Any]]]:
    """A sweep's bound result: a list of runs, each with the inputs it varied."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(r, dict) and isinstance(r.get("input"), dict) and "status" in r for r in value)
    )
