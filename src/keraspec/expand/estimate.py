"""How many nodes a spec expands to, at least, read before anything is expanded.

Nested repeats multiply: a block repeated 10,000 times whose nodes repeat 10,000
times is 10^8 nodes. The estimate finds that before expanding one node. It counts
only what is sure: literal `repeat` counts (or, outside blocks, ``${name}`` of a
top-level parameter with a literal value), blocks of the same file, and no node
with a `when`, which may drop it. It never exceeds the real count, so it never
refuses a spec that fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DataPath = tuple[Any, ...]
PARAM = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


@dataclass(frozen=True)
class Estimate:
    nodes: int  # at least this many
    largest: DataPath | None  # the top-level entry that contributes most


def smallest_expansion(data: dict[Any, Any], overrides: dict[str, Any]) -> Estimate:
    """A lower bound on the nodes ``data`` expands to, over its graph and its models."""
    counter = _Counter(data, overrides)
    graphs: list[tuple[DataPath, Any]] = [((), data)]
    models = data.get("models")
    if isinstance(models, dict):
        graphs += [(("models", name), model) for name, model in models.items()]
    total, largest, most = 0, None, -1
    for prefix, graph in graphs:
        nodes = graph.get("nodes") if isinstance(graph, dict) else None
        for name, entry in nodes.items() if isinstance(nodes, dict) else ():
            size = counter.entry(entry, frozenset())
            total += size
            if size > most:
                largest, most = (*prefix, "nodes", name), size
    return Estimate(total, largest)


class _Counter:
    def __init__(self, data: dict[Any, Any], overrides: dict[str, Any]):
        blocks = data.get("blocks")
        self.blocks = blocks if isinstance(blocks, dict) else {}
        params = data.get("params")
        self.params = {**(params if isinstance(params, dict) else {}), **overrides}
        self.sizes: dict[str, int] = {}

    def entry(self, entry: Any, active: frozenset[str]) -> int:
        if not isinstance(entry, dict) or "when" in entry or "use" in entry:
            return 0
        repeat = self.repeat(entry.get("repeat", 1), in_block=bool(active))
        block = entry.get("block")
        if block is None:
            return repeat
        return repeat * self.block(block, active) if isinstance(block, str) else 0

    def repeat(self, value: Any, in_block: bool) -> int:
        # In a block, `${n}` may be the block's own parameter, set by each use.
        if isinstance(value, str) and not in_block and (match := PARAM.fullmatch(value)):
            value = self.params.get(match.group(1))
        if isinstance(value, bool) or not isinstance(value, int):
            return 0  # an expression: it could be 0
        return max(value, 0)

    def block(self, name: str, active: frozenset[str]) -> int:
        if name in self.sizes:
            return self.sizes[name]
        body = self.blocks.get(name)
        if name in active or not isinstance(body, dict):  # reported while expanding
            return 0
        nodes = body.get("nodes")
        entries = nodes.values() if isinstance(nodes, dict) else ()
        size = sum(self.entry(e, active | {name}) for e in entries)
        self.sizes[name] = size
        return size
