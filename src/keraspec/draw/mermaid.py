"""A drawing as a Mermaid flowchart that GitHub renders.

Mermaid ids are letters, digits and underscores (prefixed, so no id is a keyword
such as `end`); labels are quoted, with entity codes (`#quot;`, `#91;` ...) for the characters
Mermaid could read as syntax, and `<br/>` between lines.
"""

from __future__ import annotations

import re

from .layout import Box, Drawing

ESCAPES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;", "[": "#91;", "]": "#93;"}


def label(lines: tuple[str, ...]) -> str:
    escaped = ("".join(ESCAPES.get(c, c) for c in line) for line in lines)
    return '"' + "<br/>".join(escaped) + '"'


def mermaid_ids(boxes: tuple[Box, ...]) -> dict[str, str]:
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for box in boxes:
        base = "n_" + re.sub(r"\W", "_", box.id, flags=re.ASCII)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        ids[box.id] = name
        taken.add(name)
    return ids


def render_mermaid(drawing: Drawing) -> str:
    ids = mermaid_ids(drawing.boxes)
    lines = ["flowchart TD"]
    lines += [node_line(b, ids, "    ") for b in drawing.boxes if b.group is None]
    for i, g in enumerate(drawing.groups):
        lines.append(f"    subgraph group_{i}[{label((g.label,))}]")
        lines += [node_line(b, ids, "        ") for b in drawing.boxes if b.group == g.id]
        lines.append("    end")
    for e in drawing.edges:
        arrow = "-->" if e.label is None else f"-->|{label((e.label,))}|"
        lines.append(f"    {ids[e.source]} {arrow} {ids[e.target]}")
    shared = sorted({b.fill for b in drawing.boxes if b.kind == "shared_layer"})
    for i, fill in enumerate(shared):
        members = ",".join(
            ids[b.id] for b in drawing.boxes if b.kind == "shared_layer" and b.fill == fill
        )
        lines.append(f"    classDef shared{i} fill:{fill},stroke:#333,stroke-width:3px")
        lines.append(f"    class {members} shared{i}")
    return "\n".join(lines) + "\n"


def node_line(box: Box, ids: dict[str, str], indent: str) -> str:
    return f"{indent}{ids[box.id]}[{label(box.lines)}]"
