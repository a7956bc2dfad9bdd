"""A drawing as SVG text: no dependency, escaped with xml.sax.saxutils."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .geometry import polylines
from .layout import LINE_H, PAD, Drawing

FONT = "font-family='monospace' font-size='12'"
BOLD = " font-weight='bold'"


def render_svg(drawing: Drawing) -> str:
    w, h = f"{drawing.width:.0f}", f"{drawing.height:.0f}"
    lines = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' viewBox='0 0 {w} {h}'>",
        f"<title>{escape(drawing.title)}</title>",
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
        "markerHeight='7' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#555'/></marker></defs>",
        f"<rect width='{w}' height='{h}' fill='#ffffff'/>",
    ]
    for g in drawing.groups:
        lines.append(
            f"<g class='group' id={quoteattr('group-' + g.id)}>"
            f"<rect x='{g.x:.1f}' y='{g.y:.1f}' width='{g.w:.1f}' height='{g.h:.1f}' rx='6' "
            "fill='#f7f7fb' stroke='#8888aa' stroke-dasharray='5,3'/>"
            f"<text x='{g.x + 8:.1f}' y='{g.y + 16:.1f}' {FONT} font-weight='bold'>"
            f"{escape(g.label)}</text></g>"
        )
    for edge, points in polylines(drawing):
        label = ""
        if edge.label is not None:
            x, y = points[0]
            label = (
                f"<text x='{x + 4:.1f}' y='{y + 13:.1f}' {FONT} fill='#b03030' font-weight='bold'>"
                f"{escape(edge.label)}</text>"
            )
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        lines.append(
            f"<g class='edge'><polyline points='{path}' fill='none' stroke='#555' "
            f"marker-end='url(#arrow)'/>{label}</g>"
        )
    for b in drawing.boxes:
        dash = " stroke-dasharray='4,2'" if b.kind == "input" else ""
        width = 2.5 if b.kind in ("shared_layer", "model") else 1
        texts = "".join(
            f"<text x='{b.x + PAD:.1f}' y='{b.y + PAD + 12 + i * LINE_H:.1f}' {FONT}"
            f"{BOLD if i == 0 else ''}>{escape(line)}</text>"
            for i, line in enumerate(b.lines)
        )
        lines.append(
            f"<g class='node {b.kind}' id={quoteattr('node-' + b.id)}>"
            f"<rect x='{b.x:.1f}' y='{b.y:.1f}' width='{b.w:.1f}' height='{b.h:.1f}' rx='4' "
            f"fill='{b.fill}' stroke='#333' stroke-width='{width}'{dash}/>{texts}</g>"
        )
    lines.append("</svg>")
    return "\n".join(lines) + "\n"
