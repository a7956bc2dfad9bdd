"""A drawing as PNG, with Pillow (a runtime dependency, installed from wheels)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from .geometry import Point, polylines
from .layout import LINE_H, PAD, Drawing

# Drawn at twice the SVG's size so the text stays sharp, unless that makes it huge.
SCALE, LARGE = 2, 12000


def render_png(drawing: Drawing) -> bytes:
    k = SCALE if max(drawing.width, drawing.height) <= LARGE else 1

    def s(*values: float) -> list[float]:
        return [v * k for v in values]

    image = Image.new("RGB", (round(drawing.width * k), round(drawing.height * k)), "white")
    pen = ImageDraw.Draw(image)
    font, bold = ImageFont.load_default(size=11 * k), ImageFont.load_default(size=12 * k)
    for g in drawing.groups:
        pen.rounded_rectangle(s(g.x, g.y, g.x + g.w, g.y + g.h), 6 * k, "#f7f7fb", "#8888aa", k)
        pen.text(s(g.x + 8, g.y + 4), g.label, "black", bold)
    for edge, points in polylines(drawing):
        pen.line([v for point in points for v in s(*point)], "#555555", k, joint="curve")
        arrow(pen, points[-2], points[-1], k)
        if edge.label is not None:
            x, y = points[0]
            pen.text(s(x + 4, y + 2), edge.label, "#b03030", bold)
    for b in drawing.boxes:
        width = 3 if b.kind in ("shared_layer", "model") else 1
        pen.rounded_rectangle(
            s(b.x, b.y, b.x + b.w, b.y + b.h), 4 * k, b.fill, "#333333", width * k
        )
        for i, line in enumerate(b.lines):
            pen.text(s(b.x + PAD, b.y + PAD + i * LINE_H), line, "black", bold if i == 0 else font)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def arrow(pen: ImageDraw.ImageDraw, start: Point, end: Point, k: int) -> None:
    """An arrowhead at ``end``, pointing along the last segment."""
    (x1, y1), (x2, y2) = start, end
    length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-9)
    ux, uy, size = (x2 - x1) / length, (y2 - y1) / length, 7
    bx, by = x2 - ux * size, y2 - uy * size
    corners = [
        (x2, y2),
        (bx - uy * size / 2, by + ux * size / 2),
        (bx + uy * size / 2, by - ux * size / 2),
    ]
    pen.polygon([(x * k, y * k) for x, y in corners], "#555555")
