"""Stage 3, graph: resolve references, check the DAG with networkx, order it, lower it to IR.

Each model (the spec itself and each sub-model) is its own scope of inputs and
nodes; shared layers and sub-models are global. ``check`` reports every problem
at once; ``lower`` turns a spec without errors into an ``ir.Program``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from . import catalog
from .diagnostics import Diagnostic, did_you_mean
from .ir import Call, CompileIR, GraphIR, InputDecl, Program, SharedLayer, TensorRef, freeze
from .loader import SourceMap
from .parse import DataPath, describe, source_of
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
    if isinstance(value, str):
        yield parse_reference(value), path
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from tensor_references(item, (*path, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from tensor_references(item, (*path, key))


@dataclass
class Scope:
    """One model's graph under construction: its path in the spec and its DiGraph."""

    spec: Spec
    graph: Graph
    prefix: DataPath
    source: SourceMap
    dag: nx.DiGraph = field(default_factory=nx.DiGraph)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Names whose definitions were dropped for schema errors (already reported):
    # references to them are not errors again, and reachability is not judged.
    unresolved: frozenset[str] = frozenset()

    def error(self, path: DataPath, code: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic.at(self.source.value(path), code, message, hint))

    def key_error(self, path: DataPath, code: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic.at(self.source.key(path), code, message, hint))

    @property
    def names(self) -> list[str]:
        return [*self.graph.inputs, *self.graph.nodes]

    def where(self) -> str:
        return f" of model `{self.prefix[1]}`" if self.prefix else ""


def check(spec: Spec, unresolved: frozenset[str] = frozenset()) -> list[Diagnostic]:
    """Every reference, naming and structure problem in ``spec``, in source order.

    ``unresolved`` names definitions left out of a partial spec (see parse.parse_partial).
    """
    source = source_of(spec)
    diagnostics = _check_global_names(spec, source)
    for scope in scopes(spec):
        scope.unresolved = unresolved
        _check_scope(scope)
        diagnostics += scope.diagnostics
    diagnostics += _check_model_calls(spec, source)
    return diagnostics


def scopes(spec: Spec) -> list[Scope]:
    source = source_of(spec)
    subs = [Scope(spec, m, ("models", name), source) for name, m in spec.models.items()]
    return [Scope(spec, spec, (), source), *subs]


def _check_global_names(spec: Spec, source: SourceMap) -> list[Diagnostic]:
    """Keras layer names must be unique in a model: shared layers, sub-models and nodes."""
    seen: dict[str, DataPath] = {}
    out = []
    sections = (("inputs", spec.inputs), ("layers", spec.layers), ("models", spec.models))
    for section, entries in (*sections, ("nodes", spec.nodes)):
        for name in entries:
            if name in seen:
                first = seen[name]
                line = source.key(first).line
                message = (
                    f"`{name}` is defined twice: as {describe(first)} (line {line})"
                    f" and as {describe((section, name))}"
                )
                out.append(Diagnostic.at(source.key((section, name)), "E301", message))
            else:
                seen[name] = (section, name)
    return out


def _check_scope(scope: Scope) -> None:
    g = scope.graph
    for name in g.inputs:
        scope.dag.add_node(name)
    for name in g.nodes:
        if name in g.inputs and scope.prefix:
            path = (*scope.prefix, "nodes", name)
            scope.key_error(path, "E301", f"`{name}` is both an input and a node{scope.where()}")
        scope.dag.add_node(name)
    for name, node in g.nodes.items():
        _check_node(scope, name, node)
    _check_outputs(scope)
    if not _check_cycles(scope) and not scope.unresolved:
        _check_reachability(scope)


def _check_node(scope: Scope, name: str, node: Node) -> None:
    path = (*scope.prefix, "nodes", name)
    if node.kind == "layer" and node.layer not in {*scope.spec.layers, *scope.unresolved}:
        hint = (
            did_you_mean(node.layer, scope.spec.layers)
            or "shared layers are defined under `layers:`"
        )
        scope.error(
            (*path, "layer"),
            "E310",
            f"node `{name}` uses unknown shared layer `{node.layer}`",
            hint,
        )
    if node.kind == "model" and node.model not in {*scope.spec.models, *scope.unresolved}:
        hint = (
            did_you_mean(node.model, scope.spec.models) or "sub-models are defined under `models:`"
        )
        scope.error(
            (*path, "model"), "E311", f"node `{name}` calls unknown model `{node.model}`", hint
        )
    refs = list(tensor_references(node.inputs, (*path, "inputs")))
    if not refs:
        scope.error((*path, "inputs"), "E305", f"node `{name}` has no tensor inputs")
    for ref, ref_path in refs:
        if _check_reference(scope, f"node `{name}`", ref, ref_path):
            scope.dag.add_edge(ref.node, name)


def _check_reference(scope: Scope, who: str, ref: TensorRef, path: DataPath) -> bool:
    """Report an unknown name or an out-of-range output index; True when ``ref`` resolves."""
    if ref.node in scope.unresolved:
        return False
    if ref.node not in scope.dag:
        hint = did_you_mean(ref.node, scope.names)
        if hint is None and scope.prefix and ref.node in scope.spec.nodes | scope.spec.inputs:
            hint = "a sub-model sees only its own inputs and nodes; add an input to it instead"
        message = (
            f"{who}{scope.where()} refers to unknown `{ref.node}`: not a declared input or node"
        )
        scope.error(path, "E300", message, hint)
        return False
    if ref.index is not None:
        count = output_count(scope, ref.node)
        if count == 1:
            scope.error(
                path, "E303", f"`{ref}`: `{ref.node}` has a single output", f"write `{ref.node}`"
            )
        elif count is not None and ref.index >= count:
            scope.error(
                path,
                "E303",
                f"`{ref}` is out of range: `{ref.node}` has {count} outputs (0 to {count - 1})",
            )
    return True


def _check_outputs(scope: Scope) -> None:
    outputs = scope.graph.outputs
    entries = outputs.items() if isinstance(outputs, dict) else enumerate(outputs)
    for key, text in entries:
        ref = parse_reference(text)
        _check_reference(scope, "output", ref, (*scope.prefix, "outputs", key))


def _check_cycles(scope: Scope) -> bool:
    """Report each cycle once, naming its nodes in order; True when there was one."""
    order = {name: i for i, name in enumerate(scope.names)}
    found = False
    for component in nx.strongly_connected_components(scope.dag):
        first = min(component, key=order.get)
        if len(component) == 1 and not scope.dag.has_edge(first, first):
            continue
        found = True
        cycle = [first]
        for _, target in nx.find_cycle(scope.dag.subgraph(component), source=first):
            cycle.append(target)
        chain = " → ".join(f"`{n}`" for n in cycle)
        path = (*scope.prefix, "nodes", first, "inputs")
        scope.error(
            path, "E302", f"cycle{scope.where()}: {chain}", "a node cannot depend on its own output"
        )
    return found


def _check_reachability(scope: Scope) -> None:
    ends = {parse_reference(r).node for _, r in scope.graph.output_items()} & set(scope.dag)
    used = set(ends).union(*(nx.ancestors(scope.dag, end) for end in ends))
    for name in scope.graph.inputs:
        if name not in used:
            path = (*scope.prefix, "inputs", name)
            scope.key_error(
                path, "W320", f"input `{name}`{scope.where()} is not used by any output"
            )
    for name in scope.graph.nodes:
        if name not in used:
            path = (*scope.prefix, "nodes", name)
            scope.key_error(path, "W321", f"node `{name}`{scope.where()} does not reach any output")


def _check_model_calls(spec: Spec, source: SourceMap) -> list[Diagnostic]:
    calls = model_call_graph(spec)
    out = []
    for component in nx.strongly_connected_components(calls):
        first = min(component, key=list(spec.models).index)
        if len(component) == 1 and not calls.has_edge(first, first):
            continue
        chain = [first] + [t for _, t in nx.find_cycle(calls.subgraph(component), source=first)]
        text = " → ".join(f"`{m}`" for m in chain)
        where = source.key(("models", first))
        out.append(Diagnostic.at(where, "E312", f"model `{first}` calls itself: {text}"))
    return out


def model_call_graph(spec: Spec) -> nx.DiGraph:
    """Edges from each sub-model to the sub-models its nodes call."""
    calls = nx.DiGraph()
    calls.add_nodes_from(spec.models)
    for name, model in spec.models.items():
        for node in model.nodes.values():
            if node.kind == "model" and node.model in spec.models:
                calls.add_edge(name, node.model)
    return calls


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
    if node.kind == "layer":
        shared = scope.spec.layers.get(node.layer)
        return (
            _layer_output_count(shared.type, shared.args, node.call, scope.spec) if shared else None
        )
    return _layer_output_count(node.type, node.args, node.call, scope.spec)


def _layer_output_count(type_: str, args: dict, call: dict, spec: Spec) -> int | None:
    if type_ in ATTENTION_LAYERS:
        return 2 if call.get("return_attention_scores") else 1
    if type_ == "Bidirectional":
        inner = _inner_layer(args.get("layer"), spec)
        if inner is None:
            return None
        states = RNN_STATES.get(inner.type)
        if not inner.args.get("return_state"):
            return 1
        return None if states is None else 1 + 2 * states
    if args.get("return_state"):
        states = RNN_STATES.get(type_)
        return None if states is None else 1 + states
    return 1


def _inner_layer(value: Any, spec: Spec) -> ObjectSpec | None:
    if isinstance(value, str):
        return spec.layers.get(value)
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return ObjectSpec.model_validate(value)
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


# --- lowering -------------------------------------------------------------------------


def lower(spec: Spec) -> Program:
    """The IR of a spec that ``check`` found no errors in."""
    source = source_of(spec)
    layers = tuple(
        SharedLayer(name, layer.type, freeze(layer.args), source.key(("layers", name)))
        for name, layer in spec.layers.items()
    )
    order = list(nx.topological_sort(model_call_graph(spec)))[::-1]
    subs = tuple(
        _lower_graph(spec, spec.models[name], name, ("models", name), source) for name in order
    )
    main = _lower_graph(spec, spec, spec.name, (), source)
    return Program(spec.name, layers, subs, main, _lower_compile(spec))


def _lower_graph(
    spec: Spec, graph: Graph, name: str, prefix: DataPath, source: SourceMap
) -> GraphIR:
    inputs = tuple(
        InputDecl(
            i,
            spec.shape,
            spec.dtype,
            spec.batch_size,
            spec.sparse,
            source.key((*prefix, "inputs", i)),
        )
        for i, spec in graph.inputs.items()
    )
    calls = tuple(
        _lower_node(node_id, graph.nodes[node_id], source.key((*prefix, "nodes", node_id)), spec)
        for node_id in topological_order(graph)
        if node_id in graph.nodes
    )
    outputs = tuple((key, parse_reference(ref)) for key, ref in graph.output_items())
    where = source.key((*prefix, "outputs"))
    return GraphIR(name, inputs, calls, outputs, isinstance(graph.outputs, dict), where)


def topological_order(graph: Graph) -> list[str]:
    """Inputs and nodes in dependency order; declaration order breaks ties."""
    dag = nx.DiGraph()
    names = [*graph.inputs, *graph.nodes]
    dag.add_nodes_from(names)
    for name, node in graph.nodes.items():
        for ref, _ in tensor_references(node.inputs, ()):
            dag.add_edge(ref.node, name)
    position = {name: i for i, name in enumerate(names)}
    return list(nx.lexicographical_topological_sort(dag, key=position.__getitem__))


def _lower_node(node_id: str, node: Node, location: Any, spec: Spec) -> Call:
    inputs = node.inputs
    if isinstance(inputs, dict):
        kwargs = {k: _tensor_arg(v) for k, v in inputs.items()}
        # The layer's main input goes positionally, as hand-written code passes it:
        # Keras orders a layer's inbound tensors by how they were passed.
        first = _first_call_argument(node, spec)
        args = (kwargs.pop(first),) if first in kwargs else ()
    elif node.kind == "op" and isinstance(inputs, list):
        args, kwargs = tuple(_tensor_arg(v) for v in inputs), {}
    else:
        args, kwargs = (_tensor_arg(inputs),), {}
    kind = "shared" if node.kind == "layer" else ("layer" if node.kind == "type" else node.kind)
    return Call(
        node_id,
        kind,
        node.target,
        freeze(node.args),
        args,
        freeze(kwargs),
        freeze(node.call),
        location,
    )


def _first_call_argument(node: Node, spec: Spec) -> str | None:
    layer_type = node.type if node.kind == "type" else None
    if node.kind == "layer" and node.layer in spec.layers:
        layer_type = spec.layers[node.layer].type
    if layer_type not in catalog.classes("layers"):
        return None
    return next(iter(catalog.layer_call_args(layer_type)), None)


def _tensor_arg(value: Any) -> Any:
    if isinstance(value, str):
        return parse_reference(value)
    if isinstance(value, list):
        return tuple(_tensor_arg(v) for v in value)
    return value


def _lower_compile(spec: Spec) -> CompileIR | None:
    c = spec.compile
    if c is None:
        return None
    keys = [key for key, _ in spec.output_items()]
    named = isinstance(spec.outputs, dict)
    return CompileIR(
        optimizer=freeze(_object(c.optimizer)),
        loss=freeze(per_output(c.loss, keys, named, broadcast=True)),
        loss_weights=freeze(per_output(c.loss_weights, keys, named)),
        metrics=freeze(per_output(c.metrics, keys, named, nested=True)),
        run_eagerly=c.run_eagerly,
        jit_compile=c.jit_compile,
    )


def per_output(
    value: Any, keys: list[str], named: bool, broadcast: bool = False, nested: bool = False
) -> Any:
    """Align a compile argument with the outputs: a dict by output name or a list in order.

    One loss for several outputs applies to each of them (Keras 3 would reject it
    together with a list of loss weights). Metrics given as a plain list apply to
    every output, as in Keras.
    """
    if value is None:
        return None
    if nested and isinstance(value, list):
        value = {k: value for k in keys} if len(keys) > 1 else value
    if isinstance(value, dict):
        items = [_object(value.get(k)) for k in keys]
    elif isinstance(value, list) and not nested:
        items = [_object(v) for v in value]
    elif broadcast and len(keys) > 1:
        items = [_object(value)] * len(keys)
    else:
        return _object(value)
    if nested:
        items = [
            [_object(m) for m in (i if isinstance(i, list) else [i])] if i is not None else []
            for i in items
        ]
    return dict(zip(keys, items, strict=True)) if named else items


def _object(value: Any) -> Any:
    """``ObjectSpec`` → ``{"type": ..., **args}`` as written in YAML; names pass through."""
    if isinstance(value, ObjectSpec):
        return {"type": value.type, **value.args}
    return value
