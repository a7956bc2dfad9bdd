"""Lower a checked spec to the IR: calls in topological order, objects and compile aligned.

Runs only on specs that ``graph.check`` and ``catalog_check`` found no errors in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import networkx as nx

from . import catalog
from .custom_layers import Registry
from .graph import model_call_graph, parse_reference
from .graph import topological_order as dependency_order
from .ir import (
    Call,
    CompileIR,
    CustomLayer,
    GraphIR,
    InputDecl,
    KerasObject,
    Program,
    SharedLayer,
    freeze,
    layer_types,
)
from .loader import SourceMap
from .parse import DataPath, leaves, source_of
from .schema import Graph, Node, ObjectSpec, Spec

# Spec node kinds → IR call kinds (in a spec, `layer:` names a shared layer).
CALL_KINDS = {"type": "new_layer", "layer": "shared_layer", "model": "model", "op": "op"}


def lower(spec: Spec, registry: Registry | None = None) -> Program:
    """The IR of a spec without errors; ``registry`` has the custom classes it may name."""
    source = source_of(spec)
    layers = tuple(
        SharedLayer(name, layer.type, layer_config(layer.args), source.key(("layers", name)))
        for name, layer in spec.layers.items()
    )
    callees_first = list(nx.topological_sort(model_call_graph(spec)))[::-1]
    subs = tuple(
        _lower_graph(spec, spec.models[name], name, ("models", name), source)
        for name in callees_first
    )
    main = _lower_graph(spec, spec, spec.name, (), source)
    program = Program(spec.name, layers, subs, main, _lower_compile(spec))
    return replace(program, custom_layers=_custom_layers(program, registry))


def _custom_layers(program: Program, registry: Registry | None) -> dict[str, CustomLayer]:
    """The registered classes a program names (all others are in the catalog)."""
    custom = sorted(layer_types(program) - set(catalog.classes("layers")))
    found = {type_: registry.lookup(type_) for type_ in custom} if registry else {}
    return {type_: layer for type_, layer in found.items() if layer is not None}


def topological_order(graph: Graph) -> list[str]:
    """Inputs and nodes in dependency order; declaration order breaks ties."""
    inputs_of: dict[str, list[str]] = {name: [] for name in graph.inputs}
    for name, node in graph.nodes.items():
        # Checked references: `name` or `name[index]`.
        refs = [leaf for _, leaf in leaves(node.inputs, ()) if isinstance(leaf, str)]
        inputs_of[name] = [ref.partition("[")[0] for ref in refs]
    return dependency_order(inputs_of)


def _lower_graph(
    spec: Spec, graph: Graph, name: str, prefix: DataPath, source: SourceMap
) -> GraphIR:
    inputs = tuple(
        InputDecl(i, d.shape, d.dtype, d.batch_size, d.sparse, source.key((*prefix, "inputs", i)))
        for i, d in graph.inputs.items()
    )
    calls = tuple(
        _lower_node(spec, node_id, graph.nodes[node_id], source.key((*prefix, "nodes", node_id)))
        for node_id in topological_order(graph)
        if node_id in graph.nodes
    )
    outputs = tuple((key, parse_reference(ref)) for key, ref in graph.output_items())
    entries = graph.outputs if isinstance(graph.outputs, dict) else range(len(graph.outputs))
    output_locations = tuple(source.value((*prefix, "outputs", key)) for key in entries)
    where = source.key((*prefix, "outputs"))
    named = isinstance(graph.outputs, dict)
    return GraphIR(name, inputs, calls, outputs, named, where, output_locations)


def _lower_node(spec: Spec, node_id: str, node: Node, location: Any) -> Call:
    args, kwargs = _tensor_arguments(spec, node)
    config = layer_config(node.args) if node.kind == "type" else freeze(node.args)
    call = CALL_KINDS[node.kind]
    return Call(
        node_id, call, node.target, config, args, freeze(kwargs), freeze(node.call), location
    )


def _tensor_arguments(spec: Spec, node: Node) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional and keyword tensor arguments, as hand-written code would pass them."""
    inputs = node.inputs
    if isinstance(inputs, dict):
        kwargs = {k: _tensor_arg(v) for k, v in inputs.items()}
        if node.kind == "model":  # a functional model takes a dict keyed by input names
            return (freeze(kwargs),), {}
        # The main input goes positionally: Keras orders a layer's inbound tensors
        # by how they were passed, and hand-written code passes it that way.
        layer_type = spec.layer_type(node)
        first = next(iter(catalog.layer_call_args(layer_type)), None) if layer_type else None
        return ((kwargs.pop(first),) if first in kwargs else ()), kwargs
    if node.kind == "op" and isinstance(inputs, list):
        return tuple(_tensor_arg(v) for v in inputs), {}
    return (_tensor_arg(inputs),), {}


def _tensor_arg(value: Any) -> Any:
    if isinstance(value, str):
        return parse_reference(value)
    if isinstance(value, list):
        return tuple(_tensor_arg(v) for v in value)
    return value


def layer_config(args: dict[str, Any]) -> Any:
    """Constructor arguments with nested ``{type: ...}`` objects lowered to ``KerasObject``."""
    return freeze({name: _argument(name, value) for name, value in args.items()})


def _argument(name: str, value: Any) -> Any:
    kind = catalog.object_kind(name)
    if kind == "layers" and isinstance(value, list):  # RNN cells
        return tuple(_argument(name, v) for v in value)
    if kind is None or not isinstance(value, dict):
        return value
    obj = ObjectSpec.from_yaml(value)
    config = layer_config(obj.args) if kind == "layers" else freeze(obj.args)
    return KerasObject(kind, obj.type, config)


def _keras_object(kind: str, value: Any) -> Any:
    if isinstance(value, ObjectSpec):
        return KerasObject(kind, value.type, freeze(value.args))
    return value


def _lower_compile(spec: Spec) -> CompileIR | None:
    c = spec.compile
    if c is None:
        return None
    keys = [key for key, _ in spec.output_items()]
    align = _Aligner(keys, named=isinstance(spec.outputs, dict))
    return CompileIR(
        optimizer=_keras_object("optimizers", c.optimizer),
        loss=align.losses(c.loss),
        loss_weights=align.weights(c.loss_weights),
        metrics=align.metrics(c.metrics),
        run_eagerly=c.run_eagerly,
        jit_compile=c.jit_compile,
        location=source_of(spec).key(("compile",)),
    )


class _Aligner:
    """Compile arguments as Keras wants them: one entry per output, by name or in order.

    One loss for several outputs applies to each of them (Keras 3 rejects a single
    loss together with a list of loss weights). A metrics list applies to every output.
    """

    def __init__(self, keys: list[str], named: bool):
        self.keys = keys
        self.named = named

    def per_output(self, values: list[Any]) -> Any:
        return freeze(dict(zip(self.keys, values, strict=True)) if self.named else values)

    def losses(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, dict):
            return self.per_output([_keras_object("losses", value.get(k)) for k in self.keys])
        if isinstance(value, list):
            return self.per_output([_keras_object("losses", v) for v in value])
        if len(self.keys) > 1:
            return self.per_output([_keras_object("losses", value)] * len(self.keys))
        return _keras_object("losses", value)

    def weights(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.per_output([value.get(k, 1.0) for k in self.keys])
        return freeze(value)

    def metrics(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            value = {k: value for k in self.keys}
        lists = [value.get(k) or [] for k in self.keys]
        lists = [[_keras_object("metrics", m) for m in _as_list(x)] for x in lists]
        return self.per_output(lists) if len(self.keys) > 1 or self.named else freeze(lists[0])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
