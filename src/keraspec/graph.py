"""Stage 3, graph: resolve references and check each model's DAG with networkx.

Each model (the spec itself and each sub-model) is its own scope of inputs and
nodes; shared layers and sub-models are global. ``check`` reports every problem
at once; ``lower.lower`` then turns a spec without errors into an ``ir.Program``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from . import catalog
from .diagnostics import Diagnostic, did_you_mean
from .ir import TensorRef
from .parse import DataPath, Reporter, Unresolved, describe, leaves, source_of
from .schema import REFERENCE_PATTERN, Graph, Node, ObjectSpec, Spec

# States returned by recurrent layers with ``return_state: true``.
RNN_STATES = {
    "LSTM": 2,
    "GRU": 1,
    "SimpleRNN": 1,
    "ConvLSTM1D": 2,
    "ConvLSTM2D": 2,
    "ConvLSTM3D": 2,
}
ATTENTION_LAYERS = {"MultiHeadAttention", "Attention", "AdditiveAttention", "GroupQueryAttention"}


def parse_reference(text: str) -> TensorRef:
    match = REFERENCE_PATTERN.fullmatch(text)
    index = match["index"]
    return TensorRef(match["name"], None if index is None else int(index))


def tensor_references(value: Any, path: DataPath) -> Iterator[tuple[TensorRef, DataPath]]:
    """Every reference in a node's ``inputs`` (or an output list) with its data path."""
    for where, leaf in leaves(value, path):
        if isinstance(leaf, str):  # numbers are an op's constant operands
            yield parse_reference(leaf), where


@dataclass(kw_only=True)
class Scope(Reporter):
    """One model's graph under check: where it is in the spec, and its DiGraph."""

    spec: Spec
    graph: Graph
    prefix: DataPath
    # The model's DAG as each name's inputs (an ordered set of names): plain dicts are
    # much faster to build and walk than a networkx DiGraph, which is made only to name
    # the nodes of a cycle.
    inputs_of: dict[str, dict[str, None]] = field(default_factory=dict)
    # Definitions dropped for schema errors (already reported; see parse.parse_partial):
    # references to them are not reported again, and reachability is not judged.
    unresolved: Unresolved = frozenset()

    @property
    def names(self) -> list[str]:
        return [*self.graph.inputs, *self.graph.nodes]

    def where(self) -> str:
        return f" of model `{self.prefix[1]}`" if self.prefix else ""

    def is_unresolved(self, name: str) -> bool:
        return (self.prefix, name) in self.unresolved


def check(spec: Spec, unresolved: Unresolved = frozenset()) -> list[Diagnostic]:
    """Every reference, naming and structure problem in ``spec``."""
    report = Reporter(source_of(spec))
    _check_names(spec, report)
    for scope in scopes(spec, unresolved):
        _check_scope(scope)
        report.diagnostics += scope.diagnostics
    _check_model_calls(spec, report)
    if not unresolved:
        _check_unused_definitions(spec, report)
    return report.diagnostics


def scopes(spec: Spec, unresolved: Unresolved = frozenset()) -> list[Scope]:
    source = source_of(spec)
    return [
        Scope(source, spec=spec, graph=g, prefix=prefix, unresolved=unresolved)
        for prefix, g in spec.graphs()
    ]


def _check_names(spec: Spec, report: Reporter) -> None:
    """Keras layer names must be unique within a model: its inputs, nodes, and the
    shared layers and sub-models it may use (which are global)."""
    global_names = {name: ("layers", name) for name in spec.layers}
    for name in spec.models:
        _once(report, global_names, ("models", name))
    for prefix, g in spec.graphs():
        seen = dict(global_names)
        for section in ("inputs", "nodes"):
            for name in getattr(g, section):
                _once(report, seen, (*prefix, section, name))


def _once(report: Reporter, seen: dict[str, DataPath], path: DataPath) -> None:
    """Record a definition; a second one of the same name is reported where it comes later."""
    name = path[-1]
    if name not in seen:
        seen[name] = path
        return
    first, second = sorted((seen[name], path), key=lambda p: report.source.key(p).line)
    line = report.source.key(first).line
    message = (
        f"`{name}` is defined twice: as {describe(first)} (line {line}) and as {describe(second)}"
    )
    report.key_error(second, "E301", message)


def _check_scope(scope: Scope) -> None:
    scope.inputs_of = {name: {} for name in scope.names}
    for name, node in scope.graph.nodes.items():
        _check_node(scope, name, node)
    _check_outputs(scope)
    if not _check_cycles(scope) and not scope.unresolved:
        _check_reachability(scope)


def _check_node(scope: Scope, name: str, node: Node) -> None:
    path = (*scope.prefix, "nodes", name)
    who = f"node `{name}`{scope.where()}"
    spec = scope.spec
    if node.kind == "layer" and not _defined(spec.layers, "layers", node.layer, scope):
        hint = did_you_mean(node.layer, spec.layers) or "shared layers are defined under `layers:`"
        message = f"{who} uses unknown shared layer `{node.layer}`"
        scope.error((*path, "layer"), "E310", message, hint)
    if node.kind == "model" and not _defined(spec.models, "models", node.model, scope):
        hint = did_you_mean(node.model, spec.models) or "sub-models are defined under `models:`"
        scope.error((*path, "model"), "E311", f"{who} calls unknown model `{node.model}`", hint)
    refs = list(tensor_references(node.inputs, (*path, "inputs")))
    if not refs:
        scope.error((*path, "inputs"), "E305", f"{who} has no tensor inputs")
    for ref, ref_path in refs:
        if _check_reference(scope, who, ref, ref_path):
            scope.inputs_of[name][ref.node] = None


def _defined(entries: dict[str, Any], section: str, name: str, scope: Scope) -> bool:
    return name in entries or (section, name) in scope.unresolved


def _check_reference(scope: Scope, who: str, ref: TensorRef, path: DataPath) -> bool:
    """Report an unknown name or an out-of-range output index; True when ``ref`` resolves."""
    if scope.is_unresolved(ref.node):
        return False
    if ref.node not in scope.inputs_of:
        hint = did_you_mean(ref.node, scope.names)
        if hint is None and scope.prefix and ref.node in scope.spec.nodes | scope.spec.inputs:
            hint = "a sub-model sees only its own inputs and nodes; add an input to it instead"
        message = f"{who} refers to unknown `{ref.node}`: not a declared input or node"
        scope.error(path, "E300", message, hint)
        return False
    count = output_count(scope, ref.node)
    if ref.index is None and count is not None and count > 1:
        message = f"`{ref.node}` has {count} outputs; without an index all of them are passed"
        scope.error(path, "W323", message, f"write `{ref.node}[0]` for the first")
    if ref.index is not None:
        if count == 1:
            message = f"`{ref}`: `{ref.node}` has a single output"
            scope.error(path, "E303", message, f"write `{ref.node}`")
        elif count is not None and ref.index >= count:
            message = f"`{ref}` is out of range: `{ref.node}` has {count} outputs"
            message += f" (0 to {count - 1})"
            scope.error(path, "E303", message)
    return True


def _check_outputs(scope: Scope) -> None:
    outputs = scope.graph.outputs
    entries = outputs.items() if isinstance(outputs, dict) else enumerate(outputs)
    first_named: dict[str, str] = {}
    for key, text in entries:
        path = (*scope.prefix, "outputs", key)
        ref = parse_reference(text)
        _check_reference(scope, f"output{scope.where()}", ref, path)
        if scope.is_unresolved(ref.node):
            continue
        if isinstance(outputs, list) and ref.node in first_named:
            # Keras names list outputs after their layers: losses and history would clash.
            message = f"outputs `{first_named[ref.node]}` and `{text}` share the name `{ref.node}`"
            hint = f'name them: outputs: {{first: "{first_named[ref.node]}", second: "{text}"}}'
            scope.error(path, "W324", message, hint)
        first_named.setdefault(ref.node, text)


def _check_cycles(scope: Scope) -> bool:
    """Report each cycle once, naming its nodes in order; True when there was one."""
    if _acyclic(scope.inputs_of):  # nearly always: a cycle is looked for only when not
        return False
    dag = _digraph(scope)
    order = {name: i for i, name in enumerate(scope.names)}
    found = False
    for component in nx.strongly_connected_components(dag):
        first = min(component, key=order.get)
        if len(component) == 1 and not dag.has_edge(first, first):
            continue
        found = True
        cycle = [first] + [t for _, t in nx.find_cycle(dag.subgraph(component), first)]
        chain = " → ".join(f"`{n}`" for n in cycle)
        path = (*scope.prefix, "nodes", first, "inputs")
        hint = "a node cannot depend on its own output"
        scope.error(path, "E302", f"cycle{scope.where()}: {chain}", hint)
    return found


def _acyclic(inputs_of: dict[str, dict[str, None]]) -> bool:
    """Whether the DAG has no cycle: at once when every input is declared before its
    user (the usual order), else by whether a topological order reaches every name."""
    position = {name: i for i, name in enumerate(inputs_of)}
    if all(position[s] < position[n] for n, sources in inputs_of.items() for s in sources):
        return True
    return len(topological_order(inputs_of)) == len(inputs_of)


def topological_order(inputs_of: Mapping[str, Iterable[str]]) -> list[str]:
    """Names in dependency order, declaration order (the mapping's) breaking ties; the
    names on or after a cycle are left out.

    Kahn's algorithm with the ready names in a heap by position (what networkx's
    lexicographical_topological_sort does, without building a DiGraph).
    """
    names = list(inputs_of)
    position = {name: i for i, name in enumerate(names)}
    users: dict[str, list[str]] = {name: [] for name in names}
    waiting = dict.fromkeys(names, 0)  # how many of its inputs each name still waits for
    for name, sources in inputs_of.items():
        for source in sources:
            users[source].append(name)
            waiting[name] += 1
    ready = [position[name] for name in names if not waiting[name]]
    heapq.heapify(ready)
    order = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for user in users[name]:
            waiting[user] -= 1
            if not waiting[user]:
                heapq.heappush(ready, position[user])
    return order


def _digraph(scope: Scope) -> nx.DiGraph:
    """The DAG for networkx, nodes and edges added in declaration and reference order
    (which cycle find_cycle names depends on it)."""
    dag = nx.DiGraph()
    dag.add_nodes_from(scope.names)
    for name in scope.graph.nodes:
        dag.add_edges_from((source, name) for source in scope.inputs_of[name])
    return dag


def _check_reachability(scope: Scope) -> None:
    ends = {parse_reference(r).node for _, r in scope.graph.output_items()}
    used = _upstream(scope.inputs_of, [end for end in ends if end in scope.inputs_of])
    for section, code, says in (
        ("inputs", "W320", "is not used by any output"),
        ("nodes", "W321", "does not reach any output"),
    ):
        for name in getattr(scope.graph, section):
            if name not in used:
                what = "input" if section == "inputs" else "node"
                message = f"{what} `{name}`{scope.where()} {says}"
                scope.key_error((*scope.prefix, section, name), code, message)


def _upstream(inputs_of: dict[str, dict[str, None]], ends: list[str]) -> set[str]:
    """``ends`` and every name they depend on."""
    found = set(ends)
    stack = list(ends)
    while stack:
        for source in inputs_of[stack.pop()]:
            if source not in found:
                found.add(source)
                stack.append(source)
    return found


def _check_model_calls(spec: Spec, report: Reporter) -> None:
    calls = model_call_graph(spec)
    for component in nx.strongly_connected_components(calls):
        first = min(component, key=list(spec.models).index)
        if len(component) == 1 and not calls.has_edge(first, first):
            continue
        chain = [first] + [t for _, t in nx.find_cycle(calls.subgraph(component), first)]
        text = " → ".join(f"`{m}`" for m in chain)
        report.key_error(("models", first), "E312", f"model `{first}` calls itself: {text}")


def model_call_graph(spec: Spec) -> nx.DiGraph:
    """Edges from each sub-model to the sub-models it uses (called, or wrapped)."""
    calls = nx.DiGraph()
    calls.add_nodes_from(spec.models)
    for name, model in spec.models.items():
        for node in model.nodes.values():
            calls.add_edges_from((name, used) for used in definitions_used(node, spec)[1])
    return calls


def definitions_used(node: Node, spec: Spec) -> tuple[set[str], set[str]]:
    """The shared layers and the sub-models a node uses, by name."""
    named = {node.target} if node.kind in ("layer", "model") else set()
    if node.kind == "type":
        named |= layers_named(node.args)
    names = {n for n in named if isinstance(n, str)}
    return names & set(spec.layers), names & set(spec.models)


def layers_named(args: dict[str, Any]) -> set[str]:
    """Layers or models that layer arguments (`layer:`, `cell:` ...) name."""
    named: set[str] = set()
    for key, value in args.items():
        if catalog.object_kind(key) == "layers":
            values = value if isinstance(value, list) else [value]
            named |= {v for v in values if isinstance(v, str)}
    return named


def _check_unused_definitions(spec: Spec, report: Reporter) -> None:
    layers: set[str] = set()
    models: set[str] = set()
    for _, g in spec.graphs():
        for node in g.nodes.values():
            used_layers, used_models = definitions_used(node, spec)
            layers |= used_layers
            models |= used_models
    for shared in spec.layers.values():  # TimeDistributed(layer: a_model) as a shared layer
        models |= layers_named(shared.args) & set(spec.models)
    for section, used, what in (("layers", layers, "shared layer"), ("models", models, "model")):
        for name in getattr(spec, section):
            if name not in used:
                report.key_error((section, name), "W322", f"{what} `{name}` is never used")


def output_count(scope: Scope, name: str) -> int | None:
    """How many outputs node ``name`` has, when that is known without Keras."""
    node = scope.graph.nodes.get(name)
    if node is None:
        return 1
    if node.kind == "model":
        model = scope.spec.models.get(node.model)
        return len(model.output_items()) if model else None
    if node.kind == "op":
        return _op_output_count(node)
    layer_type = scope.spec.layer_type(node)
    if layer_type is None:
        return None
    args = node.args if node.kind == "type" else scope.spec.layers[node.layer].args
    return _layer_output_count(layer_type, args, node.call, scope.spec)


def _layer_output_count(type_: str, args: dict, call: dict, spec: Spec) -> int | None:
    if type_ in ATTENTION_LAYERS:
        return 2 if call.get("return_attention_scores") else 1
    if type_ == "Bidirectional":
        return _bidirectional_output_count(args, spec)
    if args.get("return_state"):
        states = RNN_STATES.get(type_)
        return None if states is None else 1 + states
    return 1


def _bidirectional_output_count(args: dict, spec: Spec) -> int | None:
    """Without ``merge_mode`` the two directions come out separately, then their states."""
    inner = _inner_layer(args.get("layer"), spec)
    if inner is None:
        return None
    directions = 2 if "merge_mode" in args and args["merge_mode"] is None else 1
    if not inner.args.get("return_state"):
        return directions
    states = RNN_STATES.get(inner.type)
    return None if states is None else directions + 2 * states


def _inner_layer(value: Any, spec: Spec) -> ObjectSpec | None:
    if isinstance(value, str):
        return spec.layers.get(value)
    try:
        return ObjectSpec.from_yaml(value)
    except ValueError:
        return None


def _op_output_count(node: Node) -> int | None:
    if node.op == "top_k":
        return 2
    if node.op == "split":
        sections = node.args.get("indices_or_sections")
        if isinstance(sections, int) and not isinstance(sections, bool):
            return sections
        return len(sections) + 1 if isinstance(sections, list) else None
    if node.op == "unstack":
        return None
    return 1
