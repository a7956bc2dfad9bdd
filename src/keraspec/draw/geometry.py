"""The polyline of each edge, shared by the SVG and PNG renderers."""

from __future__ import annotations

from .layout import Box, Drawing, Edge

Point = tuple[float, float]


def polylines(drawing: Drawing) -> list[tuple[Edge, list[Point]]]:
    """Each edge from the bottom of its source, through its bends, to the top of its target.

    Edges leaving (or entering) one box are spread along its side in the order of
    where they go (or come from), so parallel edges do not sit on each other.
    """
    boxes = {b.id: b for b in drawing.boxes}
    out: dict[str, list[Edge]] = {}
    into: dict[str, list[Edge]] = {}
    for edge in drawing.edges:
        out.setdefault(edge.source, []).append(edge)
        into.setdefault(edge.target, []).append(edge)
    for edges in out.values():
        edges.sort(key=lambda e: e.bends[0][0] if e.bends else centre(boxes[e.target]))
    for edges in into.values():
        edges.sort(key=lambda e: e.bends[-1][0] if e.bends else centre(boxes[e.source]))
    # By identity: `x` used twice by one node gives two equal edges, drawn apart.
    slot = {(id(e), "out"): i for edges in out.values() for i, e in enumerate(edges)}
    slot |= {(id(e), "in"): i for edges in into.values() for i, e in enumerate(edges)}
    found = []
    for edge in drawing.edges:
        source, target = boxes[edge.source], boxes[edge.target]
        start = along(source, slot[id(edge), "out"], len(out[edge.source])), source.y + source.h
        end = along(target, slot[id(edge), "in"], len(into[edge.target])), target.y
        found.append((edge, [start, *edge.bends, end]))
    return found


def centre(box: Box) -> float:
    return box.x + box.w / 2


def along(box: Box, i: int, n: int) -> float:
    return box.x + box.w * (i + 1) / (n + 1)
