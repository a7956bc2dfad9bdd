"""Drawings of a spec's DAG without Keras: one layout (``layout.py``), four renderers."""

from __future__ import annotations

from .layout import Drawing, layout

FORMATS = ("svg", "png", "dot", "mermaid")
SUFFIXES = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid"}


def render(drawing: Drawing, fmt: str) -> bytes:
    """``drawing`` in ``fmt`` (one of ``FORMATS``), as bytes; the same drawing, the same bytes."""
    if fmt == "png":
        from .png import render_png  # Pillow only when a PNG is asked for

        return render_png(drawing)
    from .dot import render_dot
    from .mermaid import render_mermaid
    from .svg import render_svg

    text = {"svg": render_svg, "dot": render_dot, "mermaid": render_mermaid}[fmt](drawing)
    return text.encode("utf-8")


__all__ = ["FORMATS", "SUFFIXES", "Drawing", "layout", "render"]
