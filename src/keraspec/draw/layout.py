"""The one drawing model: boxes, edges and groups placed in layers, top to bottom.

Layers are longest paths from the inputs over the IR's topological order; within
a layer, boxes are ordered by the mean position of their parents (barycenter),
which removes most crossings in a single downward sweep. Box sizes come from the
length of their text, so every renderer draws the same picture.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..ir import Call, GraphIR, KerasObject, Program, TensorRef
from ..shapes import Inference
from ..shapes.tensor import Tensor, show

# Arguments worth a glance, in the order they are shown (at most ``MAX_ARGS``).
KEY_ARGS = (
    "units", "filters", "kernel_size", "strides", "pool_size", "rate", "axis",
    "num_heads", "key_dim", "output_dim", "target_shape", "size", "activation", "padding",
)  # fmt: skip
MAX_ARGS, MAX_CHARS = 3, 44
CHAR_W, LINE_H, PAD = 7.2, 16, 8  # a 12px monospace character, a line, the inner margin
DUMMY_W, GAP_X, GAP_Y, MARGIN, GROUP_PAD, TITLE_H = 8, 24, 44, 20, 14, 22
# Shared layers: one colour each, by their order in the spec (sorted names would do too).
PALETTE = (
    "#fde2b5", "#c9e7c4", "#cfe0f7", "#f5cfe0", "#e3d5f5",
    "#fff3a8", "#c7efea", "#f9d0c4", "#dfe6b8", "#e0e0e0",
)  # fmt: skip


@dataclass(frozen=True)
class Box:
    id: str  # unique in the drawing: `node`, or `model/node` inside an expanded sub-model
    lines: tuple[str, ...]  # node id, what it is, key arguments, output shape
    kind: str  # input, new_layer, shared_layer, model, op
    fill: str
    group: str | None
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str | None  # the output index of a multi-output node
    bends: tuple[tuple[float, float], ...] = ()  # where it passes the layers it spans


@dataclass(frozen=True)
class Group:
    id: str
    label: str
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Drawing:
    title: str
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    groups: tuple[Group, ...]
    width: float
    height: float


def layout(program: Program, inference: Inference | None = None, expand: bool = False) -> Drawing:
    """The drawing of ``program``'s main graph; with ``expand``, each sub-model as a group."""
    colours = {layer.name: PALETTE[i % len(PALETTE)] for i, layer in enumerate(program.layers)}
    kinds = {layer.name: layer.type for layer in program.layers}
    shapes = inference.graphs if inference else {}
    main, main_edges = place(program.main, None, inference and inference.main, colours, kinds)
    width, height = extent(main, main_edges)
    boxes = [moved(b, MARGIN, MARGIN) for b in main]
    edges = [shifted(e, MARGIN, MARGIN) for e in main_edges]
    x, bottom = MARGIN + width, MARGIN + height
    groups: list[Group] = []
    for sub in program.submodels if expand else ():
        x += GAP_X * 2
        inner, inner_edges = place(sub, sub.name, shapes.get(sub.name), colours, kinds)
        w, h = extent(inner, inner_edges)
        top = MARGIN + TITLE_H + GROUP_PAD
        boxes += [moved(b, x + GROUP_PAD, top) for b in inner]
        edges += [shifted(e, x + GROUP_PAD, top) for e in inner_edges]
        groups.append(
            Group(
                sub.name,
                f"model {sub.name}",
                x,
                MARGIN,
                w + 2 * GROUP_PAD,
                h + TITLE_H + 2 * GROUP_PAD,
            )
        )
        x, bottom = x + w + 2 * GROUP_PAD, max(bottom, top + h + GROUP_PAD)
    width, height = x + MARGIN, bottom + MARGIN
    return Drawing(program.name, tuple(boxes), tuple(edges), tuple(groups), width, height)


def place(
    graph: GraphIR,
    group: str | None,
    shapes: Any,
    colours: Mapping[str, str],
    kinds: Mapping[str, str],
) -> tuple[list[Box], list[Edge]]:
    """Boxes at their places (from the origin) and the edges between them."""
    prefix = f"{group}/" if group else ""
    parents: dict[str, list[TensorRef]] = {i.id: [] for i in graph.inputs}
    parents |= {c.id: list(tensor_refs(c.args, c.kwargs)) for c in graph.calls}
    sizes: dict[str, tuple[tuple[str, ...], str, str]] = {}
    for decl in graph.inputs:
        sizes[decl.id] = (clip((decl.id, "Input", *shape_of(shapes, decl.id))), "input", "#ffffff")
    for call in graph.calls:
        lines = (call.id, what(call, kinds), arguments(call), *shape_of(shapes, call.id))
        fill = (
            colours.get(call.target, "#ffffff") if call.kind == "shared_layer" else FILLS[call.kind]
        )
        sizes[call.id] = (clip(lines), call.kind, fill)
    links = [(ref, node) for node, refs in parents.items() for ref in refs]
    depth = layers({node: [r.node for r in refs] for node, refs in parents.items()})
    # An edge across several layers passes through a thin dummy in each, so it bends
    # around the boxes in between instead of crossing them.
    above: dict[str, list[str]] = {node: [r.node for r in refs] for node, refs in parents.items()}
    chains: list[list[str]] = []
    for k, (ref, node) in enumerate(links):
        chain = [f"\0{k}:{d}" for d in range(depth[ref.node] + 1, depth[node])]
        for v, previous in zip(chain, [ref.node, *chain], strict=False):
            above[v], depth[v] = [previous], depth[previous] + 1
        chains.append(chain)
    rows = ordered(above, depth)
    size = {v: box_size(sizes[v][0]) if v in sizes else (DUMMY_W, 0.0) for v in above}
    boxes, centre, band = [], {}, {}
    widest = max((row_width(row, size) for row in rows), default=0)
    y = 0.0
    for row in rows:
        x, tallest = (widest - row_width(row, size)) / 2, max(size[v][1] for v in row)
        for v in row:
            w, h = size[v]
            if v in sizes:
                lines, kind, fill = sizes[v]
                boxes.append(Box(prefix + v, lines, kind, fill, group, x, y, w, h))
            centre[v], band[v] = x + w / 2, (y, y + tallest)
            x += w + GAP_X
        y += tallest + GAP_Y
    for chain in chains:
        straighten(chain, rows, centre)
    edges = [
        Edge(
            prefix + ref.node,
            prefix + node,
            None if ref.index is None else str(ref.index),
            tuple((centre[v], end) for v in chain for end in band[v]),
        )
        for (ref, node), chain in zip(links, chains, strict=True)
    ]
    return boxes, edges


def straighten(chain: list[str], rows: list[list[str]], centre: dict[str, float]) -> None:
    """A long edge on the outside of every layer it passes goes straight down that side."""
    ends = {row[0] for row in rows if row} | {row[-1] for row in rows if row}
    if len(chain) > 1 and all(v in ends for v in chain):
        side = max if all(v == row[-1] for row in rows for v in chain if v in row) else min
        if side is max or all(v == row[0] for row in rows for v in chain if v in row):
            x = side(centre[v] for v in chain)
            centre.update(dict.fromkeys(chain, x))


def row_width(row: list[str], size: Mapping[str, tuple[float, float]]) -> float:
    return sum(size[v][0] for v in row) + GAP_X * (len(row) - 1)


FILLS = {"new_layer": "#ffffff", "op": "#eef6ff", "model": "#f0f0f0", "input": "#ffffff"}


def layers(parents: Mapping[str, list[str]]) -> dict[str, int]:
    """Longest-path layering: each node one below its lowest parent (inputs on top)."""
    depth: dict[str, int] = {}
    for node, above in parents.items():  # topological order: parents come first
        depth[node] = 1 + max((depth[p] for p in above), default=-1)
    # Then a node with parents sinks to just above its first child: a shortcut branch
    # (ResNet's projection) sits beside the block it joins, not at the block's top.
    below: dict[str, list[str]] = {node: [] for node in parents}
    for node, above in parents.items():
        for p in above:
            below[p].append(node)
    for node in reversed(list(parents)):
        if parents[node] and below[node]:
            depth[node] = min(depth[c] for c in below[node]) - 1
    return depth


def ordered(parents: Mapping[str, list[str]], depth: Mapping[str, int]) -> list[list[str]]:
    """The layers, top down, each ordered by its parents' mean place (declaration breaks ties)."""
    rows: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in parents:
        rows[depth[node]].append(node)
    place_of: dict[str, float] = {}
    for row in rows:
        declared = {node: i / len(row) for i, node in enumerate(row)}
        row.sort(
            key=lambda node: (barycenter(parents[node], place_of, declared[node]), declared[node])
        )
        place_of |= {node: (i + 0.5) / len(row) for i, node in enumerate(row)}
    return rows


def barycenter(above: list[str], place_of: Mapping[str, float], own: float) -> float:
    """The mean place of a node's parents (0 to 1 across their layers); its own without them."""
    return sum(place_of[p] for p in above) / len(above) if above else own


def tensor_refs(*values: Any) -> Iterator[TensorRef]:
    """Every tensor reference in call arguments, in the order they are written."""
    for value in values:
        if isinstance(value, TensorRef):
            yield value
        elif isinstance(value, (tuple, list)):
            yield from tensor_refs(*value)
        elif isinstance(value, Mapping):
            yield from tensor_refs(*value.values())


def what(call: Call, kinds: Mapping[str, str]) -> str:
    if call.kind == "op":
        return f"ops.{call.target}"
    if call.kind == "model":
        return f"model {call.target}"
    if call.kind == "shared_layer":
        return f"{kinds[call.target]} (shared {call.target})"
    return call.target


def arguments(call: Call) -> str:
    shown = [f"{k}={short(call.config[k])}" for k in KEY_ARGS if k in call.config]
    return ", ".join(shown[:MAX_ARGS])


def short(value: Any) -> str:
    if isinstance(value, KerasObject):
        return value.type
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(short(v) for v in value) + ")"
    if isinstance(value, Mapping):
        return "{...}"
    return str(value)


def shape_of(shapes: Any, node: str) -> tuple[str, ...]:
    """The inferred output shapes, a line each, or none when inference does not know them."""
    if shapes is None:
        return ()
    if node in shapes.inputs:
        tensors: tuple[Tensor, ...] = (shapes.inputs[node],)
    elif node in shapes.nodes:
        tensors = shapes.nodes[node].tensors
    else:
        return ()
    if not all(isinstance(t, Tensor) and t.known for t in tensors):
        return ()
    if len(tensors) == 1:
        return (show(tensors[0].shape),)
    return tuple(f"[{i}] {show(t.shape)}" for i, t in enumerate(tensors))  # as `lstm[1]` reads


def clip(lines: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 3] + "..." for line in lines if line
    )


def box_size(lines: tuple[str, ...]) -> tuple[float, float]:
    return max(len(line) for line in lines) * CHAR_W + 2 * PAD, len(lines) * LINE_H + 2 * PAD - 4


def extent(boxes: list[Box], edges: list[Edge]) -> tuple[float, float]:
    """The width and height the boxes and the bends of the edges take from the origin."""
    right = max([b.x + b.w for b in boxes] + [x + DUMMY_W / 2 for e in edges for x, _ in e.bends])
    return right, max((b.y + b.h for b in boxes), default=0)


def shifted(edge: Edge, dx: float, dy: float) -> Edge:
    bends = tuple((x + dx, y + dy) for x, y in edge.bends)
    return Edge(edge.source, edge.target, edge.label, bends)


def moved(box: Box, dx: float, dy: float) -> Box:
    return Box(
        box.id, box.lines, box.kind, box.fill, box.group, box.x + dx, box.y + dy, box.w, box.h
    )
