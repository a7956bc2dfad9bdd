"""A structural diff of two checked specs: what a change does to the model, for review.

Both sides are compared after expansion and lowering, so how a spec is written (key
order, flow or block style, ``repeat`` or written-out nodes) makes no difference; what
it builds does. Each graph (the model, then its sub-models) is compared entry by
entry, by id; an entry whose id alone changed is a rename. Parameter counts come
from static inference: nothing here imports Keras.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from .ir import Call, CompileIR, GraphIR, InputDecl, KerasObject, SharedLayer, TensorRef
from .scalars import needs_quotes
from .shapes import GraphShapes, Inference

ADDED, REMOVED, CHANGED, RENAMED = "added", "removed", "changed", "renamed"
KINDS = (CHANGED, RENAMED, ADDED, REMOVED)  # the order the summary line counts them in
STYLES = {ADDED: "green", REMOVED: "red", CHANGED: "yellow", RENAMED: "cyan"}
Entry = InputDecl | Call | SharedLayer  # what a graph (or the shared layers) holds, by id
Renames = Mapping[str, str]  # old id → new id


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # the side of a change that does not write the value (or lacks the node)


@dataclass(frozen=True)
class ValueChange:
    """One value, old → new; ``UNSET`` on the side that does not have it."""

    name: str
    old: Any
    new: Any

    @property
    def kind(self) -> str:
        return ADDED if self.old is UNSET else REMOVED if self.new is UNSET else CHANGED


@dataclass(frozen=True)
class Params:
    """Parameter counts before and after: 0 where a node is absent, None where unknown."""

    old: int | None
    new: int | None

    @property
    def delta(self) -> int | None:
        return None if self.old is None or self.new is None else self.new - self.old


@dataclass(frozen=True)
class NodeChange:
    """An input, node or shared layer added, removed, changed or renamed.

    ``old``/``new`` are its ids on each side (None where it is absent). ``layer`` says
    what it is (``Dense``, ``ops.add``, ``model encoder``, ``shared embed``, ``Input``),
    on the new side when it has one. An added or removed entry lists all of its
    arguments and inputs as added or removed.
    """

    kind: str
    old: str | None
    new: str | None
    layer: str
    target: ValueChange | None  # what it calls, when that changed
    arguments: tuple[ValueChange, ...]
    inputs: ValueChange | None  # its tensor inputs, as text, when they were rewired
    # None for an input (no weights) and a shared layer (its weights count at its first call)
    params: Params | None


@dataclass(frozen=True)
class GraphDiff:
    """The changes to one graph: the model itself (``main``) or a sub-model.

    ``old``/``new`` are its names on each side (None where it is absent).
    """

    kind: str  # added, removed, changed or renamed
    old: str | None
    new: str | None
    main: bool
    nodes: tuple[NodeChange, ...]  # inputs and nodes, in graph order
    interface: tuple[ValueChange, ...]  # the order of its inputs, its outputs
    params: Params


@dataclass(frozen=True)
class SpecDiff:
    """Everything two specs' models differ in; ``equal`` when nothing."""

    old: str  # how the two sides are named in the output: their paths
    new: str
    name: ValueChange | None
    layers: tuple[NodeChange, ...]
    graphs: tuple[GraphDiff, ...]  # the model first, then sub-models by name
    compile: tuple[ValueChange, ...]
    params: Params  # the whole model's

    @property
    def equal(self) -> bool:
        return not (self.name or self.layers or self.graphs or self.compile)

    def counts(self) -> dict[str, int]:
        """How many entries (and renamed sub-models) changed, were renamed, added, removed."""
        changes = [*self.layers, *(n for g in self.graphs for n in g.nodes)]
        changes += [g for g in self.graphs if g.kind == RENAMED]
        return {kind: sum(c.kind == kind for c in changes) for kind in KINDS}


def diff(old: Inference, new: Inference, old_label: str = "a", new_label: str = "b") -> SpecDiff:
    """What changes from ``old`` to ``new``: two inferred programs (``api.check_file``)."""
    layers = _Graph.of_layers(old), _Graph.of_layers(new)
    layer_renames = match(layers[0].entries, layers[1].entries, Keys())
    models = _submodels(old), _submodels(new)
    model_renames = match(models[0], models[1], Keys(layer_renames))
    # Shared layers and sub-models are called by name, and names are unique in a spec.
    keys = Keys({**layer_renames, **model_renames})
    name = ValueChange("name", old.program.name, new.program.name)
    return SpecDiff(
        old=old_label,
        new=new_label,
        name=name if old.program.name != new.program.name else None,
        layers=_changes(*layers, layer_renames, keys),
        graphs=(*_graph_diff(_main(old), _main(new), keys), *_submodel_diffs(*models, keys)),
        compile=tuple(
            _mapping_changes(_compile(old.program.compile), _compile(new.program.compile))
        ),
        params=Params(old.main.params, new.main.params),
    )


# Matching entries: same ids, then renames.


@dataclass(frozen=True)
class Keys:
    """What an entry is, but for its id: entries with equal keys are the same.

    ``callees`` maps the old side's shared layers and sub-models to their new names;
    the new side's entries are keyed with ``Keys()``, which maps nothing.
    """

    callees: Renames = field(default_factory=dict)

    def strict(self, entry: Any, renames: Renames) -> Hashable:
        """Everything it is, with references to renamed entries (``renames``) mapped."""
        if isinstance(entry, _Graph):
            return self._graph(entry, renames)
        if isinstance(entry, Call):
            return (self.loose(entry, renames), _key(entry.config), _key(entry.call))
        return (self.target(entry), _key(_arguments(entry)))

    def loose(self, entry: Any, renames: Renames) -> Hashable | None:
        """What a node calls and on what: a node that changed only arguments keeps it."""
        if not isinstance(entry, Call):
            return None
        return (self.target(entry), _key(_with_renames(_inputs(entry), renames)))

    def target(self, entry: Any) -> Hashable:
        """What a node calls, or what an input or shared layer is."""
        if isinstance(entry, SharedLayer):
            return ("shared", entry.type)
        if not isinstance(entry, Call):
            return type(entry).__name__
        by_name = entry.kind in ("shared_layer", "model")
        return (
            entry.kind,
            self.callees.get(entry.target, entry.target) if by_name else entry.target,
        )

    def _graph(self, graph: _Graph, renames: Renames) -> Hashable:
        """A sub-model's contents, ids included: a renamed sub-model is the same inside.

        ``renames`` are the sub-models renamed so far: callees come first.
        """
        inner = Keys({**self.callees, **renames})
        entries = frozenset((i, inner.strict(e, {})) for i, e in graph.entries.items())
        return (entries, tuple(_input_names(graph)), graph.outputs, graph.named_outputs)


NEW_SIDE = Keys()


def match(old: Mapping[str, Any], new: Mapping[str, Any], keys: Keys) -> dict[str, str]:
    """Old id → new id for each entry both sides have, renamed or not.

    An entry only the old side has and one only the new side has are a rename when
    their keys are equal once references to renamed entries are mapped; of several
    candidates, the first in graph order. Failing that, nodes that call the same layer
    on the same inputs are a rename with changes, when each is the other's only
    candidate. ``old`` is in graph order, so one pass renames a chain from the top;
    passes repeat until nothing more pairs up, since a loose pair can make the nodes it
    feeds the same.
    """
    renames = {i: i for i in old if i in new}
    while found := _renamed(old, new, renames, keys) or _alike(old, new, renames, keys):
        renames.update(found)
    return renames


def _renamed(old, new, renames: dict[str, str], keys: Keys) -> dict[str, str]:
    candidates = _by_key(new, renames, lambda entry: NEW_SIDE.strict(entry, {}))
    found: dict[str, str] = {}
    current = dict(renames)  # with this pass's renames, for the nodes they feed
    for i in _unmatched(old, renames):
        if options := candidates.get(keys.strict(old[i], current)):
            found[i] = current[i] = options.pop(0)
    return found


def _alike(old, new, renames: dict[str, str], keys: Keys) -> dict[str, str]:
    unmatched = {i: old[i] for i in _unmatched(old, renames)}
    # Which old nodes share a loose key does not change as renames are found: renames
    # are one-to-one. So the old side's crowded keys are known before the pass.
    ours = _by_key(unmatched, {}, lambda entry: keys.loose(entry, renames))
    crowded = {i for group in ours.values() if len(group) > 1 for i in group}
    theirs = _by_key(new, renames, lambda entry: NEW_SIDE.loose(entry, {}))
    found: dict[str, str] = {}
    current = dict(renames)
    for i in unmatched:
        key = keys.loose(old[i], current)
        if i not in crowded and key is not None and len(options := theirs.get(key, [])) == 1:
            found[i] = current[i] = options.pop()
    return found


def _unmatched(entries: Iterable[str], renames: Renames) -> list[str]:
    return [i for i in entries if i not in renames]


def _by_key(
    entries: Mapping[str, Any], renames: Renames, key: Callable[[Any], Hashable]
) -> dict[Hashable, list[str]]:
    """Entries not yet matched (on the new side: not a rename's target), grouped by key."""
    taken = set(renames.values())
    groups: dict[Hashable, list[str]] = {}
    for i, entry in entries.items():
        if i not in taken:
            groups.setdefault(key(entry), []).append(i)
    return groups


def _key(value: Any) -> Hashable:
    """A hashable form of a lowered value in which `true` and `1` differ (as they do to Keras)."""
    if isinstance(value, bool):
        return (bool, value)
    if isinstance(value, float) and math.isnan(value):
        return (float, "nan")  # equal to itself, unlike nan
    if isinstance(value, KerasObject):
        return (KerasObject, value.kind, value.type, _key(value.config))
    if isinstance(value, Mapping):
        return (dict, frozenset((k, _key(v)) for k, v in value.items()))  # in any order
    if isinstance(value, (tuple, list)):
        return (tuple, tuple(_key(v) for v in value))
    return value


def _same(a: Any, b: Any) -> bool:
    return _key(a) == _key(b)


def _with_renames(value: Any, renames: Renames) -> Any:
    """``value`` with its tensor references to renamed entries under their new ids."""
    if isinstance(value, TensorRef):
        return TensorRef(renames.get(value.node, value.node), value.index)
    if isinstance(value, tuple):
        return tuple(_with_renames(v, renames) for v in value)
    if isinstance(value, Mapping):
        return {k: _with_renames(v, renames) for k, v in value.items()}
    return value


# One graph's entries, and how they changed.


@dataclass(frozen=True)
class _Graph:
    """What a side has of one graph: its entries in order, their parameters, its outputs."""

    name: str
    entries: Mapping[str, Entry]  # inputs, then nodes in topological order
    params: Mapping[str, int | None]  # each node's; not inputs'
    outputs: tuple[tuple[str, TensorRef], ...] = ()
    named_outputs: bool = False
    total: int | None = 0

    @classmethod
    def of(cls, graph: GraphIR, shapes: GraphShapes) -> _Graph:
        entries: dict[str, Entry] = {d.id: d for d in graph.inputs}
        entries.update((call.id, call) for call in graph.calls)
        params = {i: node.params for i, node in shapes.nodes.items()}
        return cls(graph.name, entries, params, graph.outputs, graph.named_outputs, shapes.params)

    @classmethod
    def of_layers(cls, inference: Inference) -> _Graph:
        layers = {layer.name: layer for layer in inference.program.layers}
        return cls("layers", layers, {})


EMPTY_GRAPH = _Graph("", {}, {})


def _main(inference: Inference) -> _Graph:
    return _Graph.of(inference.program.main, inference.main)


def _submodels(inference: Inference) -> dict[str, _Graph]:
    """Sub-models by name, callees before callers."""
    graphs = inference.program.submodels
    return {g.name: _Graph.of(g, inference.graphs[g.name]) for g in graphs}


def _submodel_diffs(
    old: Mapping[str, _Graph], new: Mapping[str, _Graph], keys: Keys
) -> Iterable[GraphDiff]:
    """Each sub-model's changes, by name (the new one, when renamed)."""
    pairs = [(a, keys.callees.get(a)) for a in old]
    pairs += [(None, b) for b in new if b not in keys.callees.values()]
    for a, b in sorted(pairs, key=lambda pair: pair[1] or pair[0] or ""):
        before, after = old.get(a or "", EMPTY_GRAPH), new.get(b or "", EMPTY_GRAPH)
        kind = ADDED if a is None else REMOVED if b is None else RENAMED if a != b else CHANGED
        yield from _graph_diff(before, after, keys, kind, main=False)


def _graph_diff(
    old: _Graph, new: _Graph, keys: Keys, kind: str = CHANGED, main: bool = True
) -> Iterable[GraphDiff]:
    renames = match(old.entries, new.entries, keys)
    nodes = _changes(old, new, renames, keys)
    interface = _interface(old, new, renames)
    if nodes or interface or kind != CHANGED:
        names = old.name if kind != ADDED else None, new.name if kind != REMOVED else None
        yield GraphDiff(kind, *names, main, nodes, interface, Params(old.total, new.total))


def _changes(old: _Graph, new: _Graph, renames: Renames, keys: Keys) -> tuple[NodeChange, ...]:
    changes = (
        _change(a, b, old, new, renames, keys)
        for a, b in _in_order(old.entries, new.entries, renames)
    )
    return tuple(c for c in changes if c is not None)


def _in_order(
    old: Sequence[str], new: Sequence[str], renames: Renames
) -> list[tuple[str | None, str | None]]:
    """(old id, new id) pairs in the new side's order, each removed entry after the
    entry that came before it on the old side, so a deletion shows where it was."""
    position = {b: i for i, b in enumerate(new)}
    renamed_from = {b: a for a, b in renames.items()}
    keyed = [((position[b], 0, 0), renamed_from.get(b), b) for b in new]
    anchor = -1
    for i, a in enumerate(old):
        if a in renames:
            anchor = position[renames[a]]
        else:
            keyed.append(((anchor, 1, i), a, None))
    return [(a, b) for _, a, b in sorted(keyed, key=lambda k: k[0])]


def _change(
    a: str | None, b: str | None, old: _Graph, new: _Graph, renames: Renames, keys: Keys
) -> NodeChange | None:
    if a is None or b is None:
        return _one_sided(a, b, old, new)
    before, after = old.entries[a], new.entries[b]
    target = None
    if keys.target(before) != NEW_SIDE.target(after):
        target = ValueChange("layer", label(before), label(after))
    arguments = tuple(_mapping_changes(_arguments(before), _arguments(after)))
    inputs = None
    if not _same(_with_renames(_inputs(before), renames), _inputs(after)):
        inputs = ValueChange("inputs", inputs_text(before), inputs_text(after))
    params = None
    if a in old.params and b in new.params:
        params = Params(old.params[a], new.params[b])
    weights_changed = params is not None and params.old != params.new
    if a == b and not (target or arguments or inputs or weights_changed):
        return None
    kind = RENAMED if a != b else CHANGED
    return NodeChange(kind, a, b, label(after), target, arguments, inputs, params)


def _one_sided(a: str | None, b: str | None, old: _Graph, new: _Graph) -> NodeChange:
    """An added (``a`` is None) or removed entry, with everything it has."""
    graph, i = (new, b) if a is None else (old, a)
    entry = graph.entries[i]

    def side(value: Any) -> ValueChange:
        return (
            ValueChange(value[0], UNSET, value[1])
            if a is None
            else ValueChange(value[0], value[1], UNSET)
        )

    arguments = tuple(side(item) for item in _arguments(entry).items())
    text = inputs_text(entry)
    inputs = side(("inputs", text)) if text else None
    count = graph.params.get(i, UNSET)
    params = None if count is UNSET else Params(0, count) if a is None else Params(count, 0)
    return NodeChange(
        ADDED if a is None else REMOVED, a, b, label(entry), None, arguments, inputs, params
    )


def label(entry: Entry) -> str:
    """What an entry is, as `keraspec summary` writes it."""
    if isinstance(entry, InputDecl):
        return "Input"
    if isinstance(entry, SharedLayer):
        return entry.type
    labels = {
        "new_layer": entry.target,
        "op": f"ops.{entry.target}",
        "model": f"model {entry.target}",
    }
    return labels.get(entry.kind, f"shared {entry.target}")


def _arguments(entry: Entry) -> dict[str, Any]:
    """An entry's arguments as a spec writes them; call arguments as ``call.NAME``."""
    if isinstance(entry, InputDecl):
        declared = {"shape": entry.shape, "dtype": entry.dtype, "batch_size": entry.batch_size}
        declared = {k: v for k, v in declared.items() if v is not None}
        return declared | ({"sparse": True} if entry.sparse else {})
    if isinstance(entry, SharedLayer):
        return dict(entry.config)
    return dict(entry.config) | {f"call.{k}": v for k, v in entry.call.items()}


def _inputs(entry: Entry) -> Any:
    return (entry.args, entry.kwargs) if isinstance(entry, Call) else None


def inputs_text(entry: Entry) -> str:
    """A node's tensor inputs as one line: `x`, `[a, b]`, `query, value=context`."""
    if not isinstance(entry, Call):
        return ""
    parts = [shown(v) for v in entry.args] + [f"{k}={shown(v)}" for k, v in entry.kwargs.items()]
    return ", ".join(parts)


def _mapping_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = ""
) -> list[ValueChange]:
    """Each entry that differs, in the new side's order, then those only the old side has.

    Nested objects of the same type (an initializer, an optimizer, a loss per output)
    are compared entry by entry: `optimizer.learning_rate: 0.001 → 0.0001`.
    """
    changes: list[ValueChange] = []
    for name in [*new, *(k for k in old if k not in new)]:
        before, after = old.get(name, UNSET), new.get(name, UNSET)
        if _same(before, after):
            continue
        nested = _nested(before), _nested(after)
        if nested[0] is not None and nested[1] is not None:
            changes += _mapping_changes(*nested, prefix=f"{prefix}{name}.")
        else:
            changes.append(ValueChange(prefix + name, before, after))
    return changes


def _nested(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, KerasObject):
        return {"type": value.type, **value.config}
    return value if isinstance(value, Mapping) else None


def _interface(old: _Graph, new: _Graph, renames: Renames) -> tuple[ValueChange, ...]:
    """Changes to what a graph takes and returns: the order of its inputs, its outputs."""
    changes = []
    order = [
        renames[i] for i, e in old.entries.items() if isinstance(e, InputDecl) and i in renames
    ]
    new_order = [
        i for i, e in new.entries.items() if isinstance(e, InputDecl) and i in renames.values()
    ]
    if order != new_order:
        changes.append(ValueChange("input order", _input_names(old), _input_names(new)))
    outputs = _outputs(old.outputs, old.named_outputs, renames)
    if old.entries and new.entries and outputs != _outputs(new.outputs, new.named_outputs, {}):
        before = _outputs(old.outputs, old.named_outputs, {})
        changes.append(ValueChange("outputs", before, _outputs(new.outputs, new.named_outputs, {})))
    return tuple(changes)


def _input_names(graph: _Graph) -> list[str]:
    return [i for i, e in graph.entries.items() if isinstance(e, InputDecl)]


def _outputs(outputs: tuple[tuple[str, TensorRef], ...], named: bool, renames: Renames) -> Any:
    refs = [(key, str(_with_renames(ref, renames))) for key, ref in outputs]
    return dict(refs) if named else [ref for _, ref in refs]


def _compile(c: CompileIR | None) -> dict[str, Any]:
    """The compile section as arguments; {} without one, so each becomes added or removed."""
    if c is None:
        return {}
    fields = {
        "optimizer": c.optimizer,
        "loss": c.loss,
        "loss_weights": c.loss_weights,
        "metrics": c.metrics,
        "run_eagerly": c.run_eagerly,
        "jit_compile": c.jit_compile,
    }
    return {k: v for k, v in fields.items() if v is not None}


# Rendering: text for people, plain data for `--format json`.


def shown(value: Any) -> str:
    """A value as a spec writes it, in flow style: `[3, 3]`, `{type: L2, l2: 0.01}`, `'1e3'`."""
    if value is UNSET:
        return "(unset)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'" if not value or needs_quotes(value) else value
    if isinstance(value, KerasObject):
        return shown({"type": value.type, **value.config})
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def count(params: int | None) -> str:
    return "?" if params is None else f"{params:,}"


def params_text(params: Params, kind: str = CHANGED) -> str:
    """`50,240 → 100,480 (+50,240)`; the present side only for an added or removed node."""
    if kind == ADDED:
        return count(params.new)
    if kind == REMOVED:
        return count(params.old)
    if params.old == params.new:
        return f"{count(params.new)} (unchanged)"
    delta = "?" if params.delta is None else f"{params.delta:+,}"
    return f"{count(params.old)} → {count(params.new)} ({delta})"


def to_text(d: SpecDiff) -> Text:
    """The diff for people: `--- A`/`+++ B`, then each section's changes, then a tally."""
    if d.equal:
        return Text("no differences")
    text = Text()
    text.append(f"--- {d.old}\n+++ {d.new}\n", style="bold")
    if d.name:
        text.append(f"name: {shown(d.name.old)} → {shown(d.name.new)}\n")
    if d.layers:
        text.append("shared layers\n", style="bold")
        for change in d.layers:
            _node_text(text, change)
    for graph in d.graphs:
        _graph_text(text, graph)
    if d.compile:
        text.append("compile\n", style="bold")
        for change in d.compile:
            text.append(f"  {_value_text(change)}\n")
    tally = ", ".join(f"{n} {kind}" for kind, n in d.counts().items())
    text.append(f"total params: {params_text(d.params)}\n{tally}")
    return text


def _graph_text(text: Text, graph: GraphDiff) -> None:
    name = f"{graph.old} → {graph.new}" if graph.kind == RENAMED else graph.new or graph.old
    title = f"model {name}" if graph.main else f"sub-model {name}"
    text.append(title + ("" if graph.kind == CHANGED else f" ({graph.kind})") + "\n", style="bold")
    for change in graph.nodes:
        _node_text(text, change)
    for change in graph.interface:
        text.append(f"  {_value_text(change)}\n")
    if not graph.main and graph.params.old != graph.params.new:
        text.append(f"  params: {params_text(graph.params, graph.kind)}\n")


def _node_text(text: Text, change: NodeChange) -> None:
    name = f"{change.old} → {change.new}" if change.kind == RENAMED else change.old or change.new
    text.append(f"  {change.kind:<8}", style=STYLES[change.kind])
    text.append(f" {name} ({change.layer})\n")
    one_sided = change.kind in (ADDED, REMOVED)
    lines = [
        _value_text(v, one_sided) for v in (change.target, *change.arguments, change.inputs) if v
    ]
    if change.params is not None and (one_sided or change.params.old != change.params.new):
        lines.append(f"params: {params_text(change.params, change.kind)}")
    for line in lines:
        text.append(f"{'':11}{line}\n")


def _value_text(change: ValueChange, one_sided: bool = False) -> str:
    if one_sided:
        return f"{change.name}: {shown(change.old if change.new is UNSET else change.new)}"
    return f"{change.name}: {shown(change.old)} → {shown(change.new)}"


def plain(value: Any) -> Any:
    """A lowered value as JSON data: objects as `{"type": ..., ...}`, `UNSET` as null."""
    if value is UNSET:
        return None
    if isinstance(value, KerasObject):
        return plain({"type": value.type, **value.config})
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, TensorRef):
        return str(value)
    return value


def to_json(d: SpecDiff) -> dict[str, Any]:
    """The diff as data, with the same keys whatever changed (docs/import-and-export.md)."""
    return {
        "old": d.old,
        "new": d.new,
        "equal": d.equal,
        "counts": d.counts(),
        "name": _value_json(d.name),
        "layers": [_node_json(c) for c in d.layers],
        "graphs": [_graph_json(g) for g in d.graphs],
        "compile": [_value_json(c) for c in d.compile],
        "params": _params_json(d.params),
    }


def _graph_json(graph: GraphDiff) -> dict[str, Any]:
    return {
        "kind": graph.kind,
        "old": graph.old,
        "new": graph.new,
        "main": graph.main,
        "nodes": [_node_json(c) for c in graph.nodes],
        "interface": [_value_json(c) for c in graph.interface],
        "params": _params_json(graph.params),
    }


def _node_json(change: NodeChange) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "old": change.old,
        "new": change.new,
        "layer": change.layer,
        "target": _value_json(change.target),
        "arguments": [_value_json(c) for c in change.arguments],
        "inputs": _value_json(change.inputs),
        "params": _params_json(change.params),
    }


def _value_json(change: ValueChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "name": change.name,
        "kind": change.kind,
        "old": plain(change.old),
        "new": plain(change.new),
    }


def _params_json(params: Params | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {"old": params.old, "new": params.new, "delta": params.delta}
