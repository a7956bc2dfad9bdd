"""A drawing as Graphviz DOT: one node line per box, one edge line per edge."""

from __future__ import annotations

from .layout import Box, Drawing


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(drawing: Drawing) -> str:
    lines = [
        f"digraph {quote(drawing.title)} {{",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=11];',
    ]
    lines += [node_line(b, "  ") for b in drawing.boxes if b.group is None]
    for g in drawing.groups:
        lines.append(f"  subgraph {quote('cluster_' + g.id)} {{")
        lines.append(f"    label={quote(g.label)}; style=dashed;")
        lines += [node_line(b, "    ") for b in drawing.boxes if b.group == g.id]
        lines.append("  }")
    for e in drawing.edges:
        label = "" if e.label is None else f" [label={quote(e.label)}]"
        lines.append(f"  {quote(e.source)} -> {quote(e.target)}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def node_line(box: Box, indent: str) -> str:
    label = quote("\n".join(box.lines)).replace("\n", "\\n")
    extra = ', style="rounded,filled,dashed"' if box.kind == "input" else ""
    extra += ", penwidth=2.5" if box.kind in ("shared_layer", "model") else ""
    return f'{indent}{quote(box.id)} [label={label}, fillcolor="{box.fill}"{extra}];'
