"""The one drawing model: boxes, edges and groups placed in layers, top to bottom.

Layers are longest paths from the inputs over the IR's topological order; within
a layer, boxes are ordered by the mean position of their parents (barycenter),
which removes most crossings in a single downward sweep. Box sizes come from the
length of their text, so every renderer draws the same picture. A block use is laid
out as one unit: a box, or (expanded) a group with its own layout inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..ir import Call, GraphIR, KerasObject, Program, TensorRef, tensor_refs
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
    kind: str  # input, new_layer, shared_layer, model, op, block
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
    """The drawing of ``program``'s main graph; with ``expand``, each sub-model as a group.

    Each top-level block use is one box; with ``expand``, a group holding its nodes.
    """
    colours = {layer.name: PALETTE[i % len(PALETTE)] for i, layer in enumerate(program.layers)}
    kinds = {layer.name: layer.type for layer in program.layers}
    shapes = inference.graphs if inference else {}
    style = Style(colours, kinds, expand)
    main, main_edges, main_groups = place(program.main, None, inference and inference.main, style)
    width, height = extent(main, main_edges)
    boxes = [moved(b, MARGIN, MARGIN) for b in main]
    edges = [shifted(e, MARGIN, MARGIN) for e in main_edges]
    groups = [framed(g, MARGIN, MARGIN) for g in main_groups]
    x, bottom = MARGIN + width, MARGIN + height
    for sub in program.submodels if expand else ():
        x += GAP_X * 2
        inner, inner_edges, inner_groups = place(sub, sub.name, shapes.get(sub.name), style)
        w, h = extent(inner, inner_edges)
        top = MARGIN + TITLE_H + GROUP_PAD
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
        boxes += [moved(b, x + GROUP_PAD, top) for b in inner]
        edges += [shifted(e, x + GROUP_PAD, top) for e in inner_edges]
        groups += [framed(g, x + GROUP_PAD, top) for g in inner_groups]
        x, bottom = x + w + 2 * GROUP_PAD, max(bottom, top + h + GROUP_PAD)
    width, height = x + MARGIN, bottom + MARGIN
    return Drawing(program.name, tuple(boxes), tuple(edges), tuple(groups), width, height)


@dataclass(frozen=True)
class Style:
    colours: Mapping[str, str]  # shared layer -> fill
    kinds: Mapping[str, str]  # shared layer -> its class
    expand: bool


@dataclass(frozen=True)
class Use:
    """A top-level block use, from the structured use-site notes of its nodes' locations."""

    id: str
    block: str
    repeat: int | None


def block_uses(graph: GraphIR) -> dict[str, Use]:
    """Each node that a top-level block use expanded, with that use (the outermost one)."""
    found: dict[str, Use] = {}
    for call in graph.calls:
        notes = [n for n in call.location.via if n.block is not None and n.use is not None]
        if notes:  # innermost first: the last is the use written in the graph itself
            found[call.id] = Use(notes[-1].use or "", notes[-1].block or "", notes[-1].repeat)
    return found


def place(
    graph: GraphIR, group: str | None, shapes: Any, style: Style
) -> tuple[list[Box], list[Edge], list[Group]]:
    """Boxes and groups at their places (from the origin) and the edges between them."""
    prefix = f"{group}/" if group else ""
    parents: dict[str, list[TensorRef]] = {i.id: [] for i in graph.inputs}
    parents |= {c.id: tensor_refs(c.args, c.kwargs) for c in graph.calls}
    sizes: dict[str, tuple[tuple[str, ...], str, str]] = {}
    for decl in graph.inputs:
        sizes[decl.id] = (clip((decl.id, "Input", *shape_of(shapes, decl.id))), "input", "#ffffff")
    for call in graph.calls:
        lines = (call.id, what(call, style.kinds), arguments(call), *shape_of(shapes, call.id))
        fill = (
            style.colours.get(call.target, "#ffffff")
            if call.kind == "shared_layer"
            else FILLS[call.kind]
        )
        sizes[call.id] = (clip(lines), call.kind, fill)
    uses = block_uses(graph)
    if not uses:
        return (*plain(parents, sizes, prefix, group), [])
    return grouped(parents, sizes, uses, prefix, group, style.expand)


def plain(
    parents: dict[str, list[TensorRef]],
    sizes: Mapping[str, tuple[tuple[str, ...], str, str]],
    prefix: str,
    group: str | None,
) -> tuple[list[Box], list[Edge]]:
    """One box per node, one edge per reference."""
    size = {v: box_size(sizes[v][0]) for v in parents}
    place_of, bends = arrange({v: [r.node for r in refs] for v, refs in parents.items()}, size)
    boxes = [Box(prefix + v, *sizes[v], group, *place_of[v], *size[v]) for v in parents]
    links = [(ref, node) for node, refs in parents.items() for ref in refs]
    edges = [
        Edge(prefix + ref.node, prefix + node, None if ref.index is None else str(ref.index), bend)
        for (ref, node), bend in zip(links, bends, strict=True)
    ]
    return boxes, edges


Bends = tuple[tuple[float, float], ...]
ENTRY, EXIT = "\0entry", "\0exit"  # where edges come into and leave an expanded block use


@dataclass
class Units:
    """A graph seen with each top-level block use as one unit."""

    unit: dict[str, str]  # node -> its unit: itself, or its block use
    blocks: dict[str, Use]  # unit id -> the block use
    # Per unit, the units it reads: one link per reference between plain nodes (as
    # without blocks), one per pair of units otherwise; a block's inner output index
    # means nothing outside it, so links out of a block carry none.
    incoming: dict[str, list[tuple[str, str | None]]]


def units(parents: Mapping[str, list[TensorRef]], uses: Mapping[str, Use]) -> Units:
    unit_id = {u.id: u.id if u.id not in parents else f"{u.id} (block)" for u in uses.values()}
    unit = {v: unit_id[uses[v].id] if v in uses else v for v in parents}
    blocks = {unit_id[u.id]: u for u in uses.values()}
    incoming: dict[str, list[tuple[str, str | None]]] = {
        v: [] for v in units_in_order(unit, parents)
    }
    for node, refs in parents.items():
        for ref in refs:
            source, target = unit[ref.node], unit[node]
            label = None if ref.index is None or source in blocks else str(ref.index)
            seen = (source, label) in incoming[target]
            if source != target and not (seen and (source in blocks or target in blocks)):
                incoming[target].append((source, label))
    return Units(unit, blocks, incoming)


def grouped(
    parents: dict[str, list[TensorRef]],
    sizes: Mapping[str, tuple[tuple[str, ...], str, str]],
    uses: Mapping[str, Use],
    prefix: str,
    group: str | None,
    expand: bool,
) -> tuple[list[Box], list[Edge], list[Group]]:
    """Each block use as one box (or, expanded, a group laid out as one), among the others."""
    seen = units(parents, uses)
    inside: dict[str, Inside] = {}
    size: dict[str, tuple[float, float]] = {}
    for v in seen.incoming:
        if v not in seen.blocks:
            size[v] = box_size(sizes[v][0])
        elif expand:
            inside[v] = inner(v, parents, seen.unit, sizes, prefix)
            w, h = inside[v].extent()
            size[v] = (w + 2 * GROUP_PAD, h + TITLE_H + 2 * GROUP_PAD)
        else:
            size[v] = box_size(block_lines(seen.blocks[v]))
    above = {v: [source for source, _ in links] for v, links in seen.incoming.items()}
    place_of, bends = arrange(above, size)
    boxes, groups, edges = [], [], []
    for v, (x, y) in place_of.items():
        if v in inside:
            label = ": ".join(block_lines(seen.blocks[v]))
            groups.append(Group(prefix + v, label, x, y, *size[v]))
            inside[v] = inside[v].moved(x + GROUP_PAD, y + TITLE_H + GROUP_PAD)
            boxes += inside[v].boxes
            edges += inside[v].edges
        elif v in seen.blocks:
            lines = block_lines(seen.blocks[v])
            boxes.append(Box(prefix + v, lines, "block", BLOCK_FILL, group, x, y, *size[v]))
        else:
            boxes.append(Box(prefix + v, *sizes[v], group, x, y, *size[v]))
    links = [(s, t, label) for t, ls in seen.incoming.items() for s, label in ls]
    if not expand:
        edges += [
            Edge(prefix + s, prefix + t, label, bend)
            for (s, t, label), bend in zip(links, bends, strict=True)
        ]
        return boxes, edges, groups
    bend_of = {(s, t): bend for (s, t, _), bend in zip(links, bends, strict=True)}
    for node, refs in parents.items():
        for ref in refs:
            source, target = seen.unit[ref.node], seen.unit[node]
            if source == target:
                continue
            leaving = inside[source].exits.get(ref.node, ()) if source in inside else ()
            entering = inside[target].entries.get(node, ()) if target in inside else ()
            label = None if ref.index is None else str(ref.index)
            path = leaving + bend_of[source, target] + entering
            edges.append(Edge(prefix + ref.node, prefix + node, label, path))
    return boxes, edges, groups


@dataclass
class Inside:
    """An expanded block use's boxes and edges, and how edges from outside pass among them."""

    boxes: list[Box]
    edges: list[Edge]
    entries: dict[str, Bends]  # node read from outside -> bends from the group's top
    exits: dict[str, Bends]  # node read outside -> bends to the group's bottom

    def extent(self) -> tuple[float, float]:
        ports = [*self.entries.values(), *self.exits.values()]
        return extent(self.boxes, [*self.edges, *(Edge("", "", None, b) for b in ports)])

    def moved(self, dx: float, dy: float) -> Inside:
        def by(bends: Bends) -> Bends:
            return tuple((x + dx, y + dy) for x, y in bends)

        return Inside(
            [moved(b, dx, dy) for b in self.boxes],
            [shifted(e, dx, dy) for e in self.edges],
            {v: by(b) for v, b in self.entries.items()},
            {v: by(b) for v, b in self.exits.items()},
        )


def inner(
    use: str,
    parents: Mapping[str, list[TensorRef]],
    unit: Mapping[str, str],
    sizes: Mapping[str, tuple[tuple[str, ...], str, str]],
    prefix: str,
) -> Inside:
    """The layout of one block use's nodes, above a point that every edge to outside
    leaves through (so a node read outside sinks to the bottom row, and edges bend
    around the boxes in between) and, when a node below the top is read from outside,
    below a point that those edges come in through."""
    members = {m: [r for r in refs if unit[r.node] == use] for m, refs in parents.items()}
    members = {m: refs for m, refs in members.items() if unit[m] == use}
    above = {m: [r.node for r in refs] for m, refs in members.items()}
    entering = [m for m in members if len(members[m]) < len(parents[m])]
    outside = [refs for v, refs in parents.items() if unit[v] != use]
    leaving = [m for m in members if any(r.node == m for refs in outside for r in refs)]
    size = {m: box_size(sizes[m][0]) for m in members}
    if any(above[m] for m in entering):  # else they are all on top already
        above = {ENTRY: [], **{m: [*ps, ENTRY] if m in entering else ps for m, ps in above.items()}}
        size[ENTRY] = (DUMMY_W, 0.0)
    if leaving:
        above[EXIT], size[EXIT] = list(leaving), (DUMMY_W, 0.0)
    place_of, bends = arrange(above, size)
    per: dict[str, list[Bends]] = {v: [] for v in above}  # each vertex's links, in order
    for (_, v), bend in zip([(p, v) for v, ps in above.items() for p in ps], bends, strict=True):
        per[v].append(bend)
    group = prefix + use
    boxes = [Box(prefix + m, *sizes[m], group, *place_of[m], *size[m]) for m in members]
    edges = [
        Edge(prefix + r.node, prefix + m, None if r.index is None else str(r.index), bend)
        for m, refs in members.items()
        for r, bend in zip(refs, per[m], strict=False)  # ENTRY's link comes after them
    ]
    entries = {m: per[m][-1] if ENTRY in above else () for m in entering}
    exits = dict(zip(leaving, per[EXIT] if EXIT in above else [()] * len(leaving), strict=True))
    top = min((b.y for b in boxes), default=0.0)  # ENTRY's row holds no box
    return Inside(boxes, edges, entries, exits).moved(0, -top)


def arrange(
    above: Mapping[str, list[str]], size: Mapping[str, tuple[float, float]]
) -> tuple[dict[str, tuple[float, float]], list[tuple[tuple[float, float], ...]]]:
    """Where each vertex goes (``above``: its parents, a link each, in topological order),
    and the bends of each link, in the order of ``above``."""
    links = [(parent, node) for node, parents in above.items() for parent in parents]
    depth = layers(above)
    # An edge across several layers passes through a thin dummy in each, so it bends
    # around the boxes in between instead of crossing them.
    graph: dict[str, list[str]] = {node: list(parents) for node, parents in above.items()}
    sized = dict(size)
    chains: list[list[str]] = []
    for k, (parent, node) in enumerate(links):
        chain = [f"\0{k}:{d}" for d in range(depth[parent] + 1, depth[node])]
        for v, previous in zip(chain, [parent, *chain], strict=False):
            graph[v], depth[v], sized[v] = [previous], depth[previous] + 1, (DUMMY_W, 0.0)
        chains.append(chain)
    rows = ordered(graph, depth)
    place_of, centre, band = {}, {}, {}
    widest = max((row_width(row, sized) for row in rows), default=0)
    y = 0.0
    for row in rows:
        x, tallest = (widest - row_width(row, sized)) / 2, max(sized[v][1] for v in row)
        for v in row:
            if v in above:
                place_of[v] = (x, y)
            centre[v], band[v] = x + sized[v][0] / 2, (y, y + tallest)
            x += sized[v][0] + GAP_X
        y += tallest + GAP_Y
    for chain in chains:
        straighten(chain, rows, centre)
    bends = [tuple((centre[v], end) for v in chain for end in band[v]) for chain in chains]
    return place_of, bends


def units_in_order(unit: Mapping[str, str], parents: Mapping[str, list[TensorRef]]) -> list[str]:
    """The units (nodes, block uses) in a topological order, each as early as its first node."""
    first: dict[str, int] = {}
    needs: dict[str, set[str]] = {}
    for i, (node, refs) in enumerate(parents.items()):
        first.setdefault(unit[node], i)
        needs.setdefault(unit[node], set()).update(unit[r.node] for r in refs)
    for v, deps in needs.items():
        deps.discard(v)
    done: list[str] = []
    waiting = sorted(first, key=first.__getitem__)
    while waiting:  # a cycle (a name inside a use read back into it) keeps the written order
        ready = next((v for v in waiting if needs[v] <= set(done)), waiting[0])
        done.append(ready)
        waiting.remove(ready)
    return done


def block_lines(use: Use) -> tuple[str, ...]:
    times = "" if use.repeat is None else f" \u00d7{use.repeat}"
    return clip((use.id, f"block {use.block}{times}"))


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


BLOCK_FILL = "#e8f0dc"
FILLS = {"new_layer": "#ffffff", "op": "#eef6ff", "model": "#f0f0f0", "input": "#ffffff"}


def layers(parents: Mapping[str, list[str]]) -> dict[str, int]:
    """Longest-path layering: each node one below its lowest parent (inputs on top)."""
    depth: dict[str, int] = {}
    for node, above in parents.items():  # topological order: parents come first
        depth[node] = 1 + max((depth.get(p, -1) for p in above), default=-1)
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


def framed(group: Group, dx: float, dy: float) -> Group:
    return Group(group.id, group.label, group.x + dx, group.y + dy, group.w, group.h)


def moved(box: Box, dx: float, dy: float) -> Box:
    return Box(
        box.id, box.lines, box.kind, box.fill, box.group, box.x + dx, box.y + dy, box.w, box.h
    )
