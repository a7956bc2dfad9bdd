"""A ``keras.Model`` → a ``Spec``: the model's functional graph, read back as spec data.

The graph is walked as ``Functional.get_config`` walks it: ``model.operations``, and
for each the calls (nodes) that belong to this model, whose arguments hold the
tensors they received (``KerasTensor._keras_history`` says which call made each).
Layer arguments come from each layer's config (see arguments.py). Ids are Keras's
names, so weights transfer by name. Whatever a spec cannot say (a Lambda, a custom
class, an op outside the allowlist) is an error naming the layer.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import keras
import numpy as np
from keras.src.models.functional import Functional
from keras.src.ops.function import make_node_key

from .. import catalog
from ..custom_layers import Registry
from ..diagnostics import Diagnostic, SpecError
from ..schema import NAME_PATTERN, YAML_CONTEXT, Spec
from .arguments import ArgumentWriter, Unwritable, plain
from .errors import (
    BAD_NAME,
    CODE_LAYER,
    CUSTOM_LAYER,
    UNKNOWN_OP,
    UNSUPPORTED_GRAPH,
    fail,
)

CustomLayers = Mapping[type, str]
# Why a spec may not name these keras.layers classes (catalog.DENIED_LAYERS).
DENIED_BECAUSE = {
    "Lambda": "it runs Python code, which a spec cannot hold",
    "TFSMLayer": "it loads a SavedModel from disk",
    "JaxLayer": "it wraps JAX code",
    "FlaxLayer": "it wraps Flax code",
    "TorchModuleWrapper": "it wraps PyTorch code",
}
DENIED_HINT = "write its computation with `op:` nodes, or as a registered custom layer"


def from_keras(
    model: keras.Model,
    custom_layers: CustomLayers | None = None,
    source: str | None = None,
    registry: Registry | None = None,
) -> Spec:
    """The spec of a functional or Sequential ``model``; ``SpecError`` (E70x) if it has none.

    A class outside Keras is written under the name ``registry`` knows it by (an entry
    point, or ``MODULE.Class`` of an allowed module), or ``custom_layers`` maps it to;
    ``source`` names the model in diagnostics (default: its name).
    """
    registry = registry or Registry()
    writer = SpecWriter(model, dict(custom_layers or {}), source or model.name, registry)
    return Spec.model_validate(writer.spec_data(), context=YAML_CONTEXT)


class Ref(str):
    """A reference already written (``lstm[1]``); tells tensors from constants in call args."""


class SpecWriter:
    """Spec data for one model: its graph, plus the shared layers and sub-models it uses."""

    def __init__(
        self, model: keras.Model, custom_layers: dict[type, str], source: str, registry: Registry
    ):
        self.model = model
        self.custom = custom_layers
        self.registry = registry
        self.source = source
        self.arguments = ArgumentWriter(source, self.type_name)
        self.calls: Counter[int] = Counter()  # id(layer) → calls in every graph
        self.layers: dict[str, dict[str, Any]] = {}  # shared layers
        self.models: dict[str, dict[str, Any]] = {}  # sub-models
        self.objects: dict[str, Any] = {}  # shared layer or sub-model name → its object

    def spec_data(self) -> dict[str, Any]:
        check_model_class(self.model, self.source)
        self.check_layer_classes()
        count_calls(self.model, self.calls, set())
        name = spec_name(self.model.name)
        graph = self.graph(self.model)
        self.check_global_names({name: graph, **self.models})
        data: dict[str, Any] = {"keraspec": 1, "name": name, "inputs": graph["inputs"]}
        if self.layers:
            data["layers"] = self.layers
        if self.models:
            data["models"] = self.models
        return {**data, "nodes": graph["nodes"], "outputs": graph["outputs"]}

    # -- layer classes ---------------------------------------------------------------

    def check_layer_classes(self) -> None:
        """Every class a spec cannot name, once each, before any conversion work."""
        problems: dict[type, tuple[Diagnostic, int]] = {}
        for layer in all_layers(self.model):
            if (found := self.class_problem(layer)) is not None:
                first, count = problems.get(type(layer), (found, 0))
                problems[type(layer)] = (first, count + 1)
        if problems:
            raise SpecError([_and_more(d, count) for d, count in problems.values()])

    def class_problem(self, layer: Any) -> Diagnostic | None:
        if isinstance(layer, (keras.Model, keras.layers.InputLayer)):
            return None
        try:
            self.type_name(type(layer), f"layer `{layer.name}`")
        except SpecError as e:
            return e.diagnostics[0]
        return None

    def type_name(self, cls: type, who: str) -> str:
        """The spec ``type`` of a layer class: its keras.layers name or its custom_layers name."""
        if cls in self.custom:
            return self.custom[cls]
        if registered := self.registry.type_of(cls):
            return registered
        name = cls.__name__
        qualified = f"{cls.__module__}.{cls.__qualname__}"
        if getattr(keras.layers, name, None) is cls:
            if name in catalog.DENIED_LAYERS:
                reason = DENIED_BECAUSE.get(name, "it is functional-API plumbing, not a layer")
                message = f"{who} (keras.layers.{name}) cannot be written in a spec: {reason}"
                raise fail(self.source, CODE_LAYER, message, DENIED_HINT)
            if name in catalog.classes("layers"):
                return name
        message = (
            f"{who} ({qualified}) is a custom layer class: register it with "
            f"`--allow-module {cls.__module__}` (allow_modules=[...]) or an entry point"
        )
        hint = "a spec names keras.layers classes and registered custom layers only"
        raise fail(self.source, CUSTOM_LAYER, message, hint)

    # -- graphs ----------------------------------------------------------------------

    def graph(self, model: keras.Model) -> dict[str, Any]:
        if isinstance(model, keras.Sequential):
            return self.sequential_graph(model)
        return self.functional_graph(model)

    def functional_graph(self, model: keras.Model) -> dict[str, Any]:
        refs = References(self.source)
        declared: dict[str, Any] = {}
        calls = []
        for op in model.operations:  # Keras's order, from the inputs on
            self.check_name(op.name, describe(op))
            if isinstance(op, keras.layers.InputLayer):
                declared[refs.add(op, 0, op.name, many=False)] = self.input_declaration(op)
                continue
            nodes = kept_nodes(model, op)
            for k, (index, node) in enumerate(nodes):
                node_id = refs.add(
                    op, index, self.node_id(op, k, len(nodes)), len(node.outputs) > 1
                )
                calls.append((node_id, op, node))
        nodes_data = {}
        for node_id, op, node in calls:
            args = refs.resolve(list(node.arguments.args))
            kwargs = refs.resolve(dict(node.arguments.kwargs))
            nodes_data[node_id] = self.node(op, args, kwargs)
        order = [t._keras_history.operation.name for t in model.inputs]  # as Keras receives them
        return {
            "inputs": {name: declared[name] for name in order},
            "nodes": nodes_data,
            "outputs": unwrap(refs.resolve(outputs_of(model))),
        }

    def sequential_graph(self, model: keras.Sequential) -> dict[str, Any]:
        if not model.built or not getattr(model, "_functional", None):
            message = f"Sequential model `{model.name}` has no input shape (it was never built)"
            raise fail(self.source, UNSUPPORTED_GRAPH, message)
        input_layer = model.inputs[0]._keras_history.operation
        self.check_name(input_layer.name, describe(input_layer))
        refs = References(self.source)
        previous = Ref(refs.add(input_layer, 0, input_layer.name, many=False))
        nodes = {}
        for layer in model.layers:  # each called once, on the layer before
            self.check_name(layer.name, describe(layer))
            node_id = refs.add(layer, 0, self.node_id(layer, 0, 1), many=False)
            nodes[node_id] = self.node(layer, [previous], {})
            previous = Ref(node_id)
        inputs = {input_layer.name: self.input_declaration(input_layer)}
        return {"inputs": inputs, "nodes": nodes, "outputs": [str(previous)]}

    def node_id(self, op: Any, k: int, calls_here: int) -> str:
        """A layer called once is its own node; the calls of a shared layer or model are
        ``NAME_call`` (``NAME_call1``, ``NAME_call2`` ... when there are several)."""
        if not (isinstance(op, keras.Model) or self.is_shared(op)):
            return op.name
        return f"{op.name}_call" + (str(k + 1) if calls_here > 1 else "")

    def is_shared(self, op: Any) -> bool:
        return isinstance(op, keras.layers.Layer) and self.calls[id(op)] > 1

    def input_declaration(self, layer: Any) -> dict[str, Any]:
        config = layer.get_config()
        if config.get("ragged") or config.get("optional"):
            kind = "ragged" if config.get("ragged") else "optional"
            message = f"input `{layer.name}` is {kind}, which a spec input cannot be"
            raise fail(self.source, UNSUPPORTED_GRAPH, message)
        batch_size, *shape = config["batch_shape"]
        declaration: dict[str, Any] = {"shape": list(shape)}
        if config.get("dtype", "float32") != "float32":
            declaration["dtype"] = config["dtype"]
        if batch_size is not None:
            declaration["batch_size"] = batch_size
        if config.get("sparse"):
            declaration["sparse"] = True
        return declaration

    # -- nodes -----------------------------------------------------------------------

    def node(self, op: Any, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """A node calling ``op`` on call arguments whose tensors are ``Ref`` already."""
        try:
            return self._node(op, args, kwargs)
        except Unwritable as e:
            message = f"{describe(op)} is called with a value a spec cannot write: {e.args[0]!r}"
            raise fail(self.source, UNSUPPORTED_GRAPH, message) from None

    def _node(self, op: Any, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(op, keras.layers.Layer):
            return self.op_node(op, args, kwargs)
        who = describe(op)
        if isinstance(op, keras.Model):
            target: dict[str, Any] = {"model": self.submodel(op)}
        elif self.is_shared(op):
            target = {"layer": self.shared_layer(op)}
        else:
            target = self.layer_data(op, who)
        inputs, call = self.layer_inputs(op, args, kwargs, who)
        return {**target, "inputs": inputs, **({"call": call} if call else {})}

    def layer_data(self, layer: Any, who: str) -> dict[str, Any]:
        config = keras.saving.serialize_keras_object(layer)["config"]
        arguments = self.arguments.layer_arguments(type(layer), config, who)
        return {"type": self.type_name(type(layer), who), **arguments}

    def shared_layer(self, layer: Any) -> str:
        if self.claim(layer, "shared layer"):
            self.layers[layer.name] = self.layer_data(layer, describe(layer))
        return layer.name

    def submodel(self, model: keras.Model) -> str:
        if self.claim(model, "sub-model"):
            check_model_class(model, self.source)
            self.models[model.name] = {}  # claimed before its graph, which may call others
            self.models[model.name] = self.graph(model)
        return model.name

    def claim(self, obj: Any, kind: str) -> bool:
        """True the first time ``obj``'s name is claimed; another object with it is E706."""
        owner = self.objects.setdefault(obj.name, obj)
        if owner is not obj:
            message = f"two different layers or models are named `{obj.name}` (a {kind} among them)"
            raise fail(self.source, BAD_NAME, message, "a spec gives every name one meaning")
        return obj.name not in self.layers and obj.name not in self.models

    def layer_inputs(
        self, op: Any, args: list[Any], kwargs: dict[str, Any], who: str
    ) -> tuple[Any, dict[str, Any]]:
        """``inputs`` (a reference, a list, or call argument → tensors) and ``call``."""
        parameters = call_parameters(op)
        tensors = {k: v for k, v in kwargs.items() if has_ref(v)}
        call = {
            k: plain(v)
            for k, v in kwargs.items()
            if k not in tensors and not _is_default(parameters, k, v)
        }
        if len(args) == 1 and has_ref(args[0]) and not tensors:
            return unwrap(args[0]), call
        names = list(parameters)
        if len(args) > len(names):
            message = f"{who} is called with {len(args)} positional arguments"
            raise fail(self.source, UNSUPPORTED_GRAPH, message)
        mapping = {}
        for name, value in zip(names, args, strict=False):
            if has_ref(value):
                mapping[name] = unwrap(value)
            else:
                call[name] = plain(value)
        return {**mapping, **{k: unwrap(v) for k, v in tensors.items()}}, call

    def op_node(self, op: Any, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        name, function = self.op_function(op)
        parameters = inspect.signature(function).parameters
        settings = {k: v for k, v in op.get_config().items() if k != "name"}
        unknown = [k for k in settings if k not in parameters]
        if unknown:
            message = (
                f"operation `{op.name}` ({type(op).__name__}) has settings that "
                f"keras.ops.{name} does not take: {', '.join(unknown)}"
            )
            raise fail(self.source, UNKNOWN_OP, message)
        constants = {k: v for k, v in kwargs.items() if not has_ref(v)}
        written = {
            k: plain(v)
            for k, v in {**settings, **constants}.items()
            if not _is_default(parameters, k, v)
        }
        tensors = {k: v for k, v in kwargs.items() if has_ref(v)}
        if tensors:  # keyword tensors: every argument by name
            inputs: Any = {**dict(zip(parameters, map(unwrap, args), strict=False))}
            inputs.update({k: unwrap(v) for k, v in tensors.items()})
        elif len(args) == 1 and not isinstance(args[0], list):
            inputs = unwrap(args[0])
        else:
            inputs = [unwrap(a) for a in args]
        return {"op": name, **written, "inputs": inputs}

    def op_function(self, op: Any) -> tuple[str, Callable[..., Any]]:
        """The allowed keras.ops function that makes ``op``: ``ExpandDims`` → ``expand_dims``."""
        name = snake_case(type(op).__name__)
        if name not in catalog.catalog()["ops"] or not type(op).__module__.startswith("keras."):
            message = (
                f"operation `{op.name}` ({type(op).__module__}.{type(op).__name__}) is not a "
                "keras.ops function a spec may call"
            )
            hint = "see the ops allowlist in docs/spec-format.md; others need a custom layer"
            raise fail(self.source, UNKNOWN_OP, message, hint)
        return name, getattr(keras.ops, name)

    # -- names -----------------------------------------------------------------------

    def check_name(self, name: str, who: str) -> None:
        if not NAME_PATTERN.fullmatch(name):
            message = (
                f"{who} cannot keep its name in a spec: names are letters, digits, `_` and `-`, "
                "starting with a letter or `_`"
            )
            hint = "rename it in Keras first, so that its weights still load by name"
            raise fail(self.source, BAD_NAME, message, hint)

    def check_global_names(self, graphs: dict[str, dict[str, Any]]) -> None:
        """Shared layers and sub-models are global names: no graph may use them again."""
        global_names = {
            **dict.fromkeys(self.layers, "shared layer"),
            **dict.fromkeys(self.models, "sub-model"),
        }
        for graph_name, graph in graphs.items():
            for name in [*graph["inputs"], *graph["nodes"]]:
                if name in global_names:
                    message = (
                        f"`{name}` names both a {global_names[name]} and a node of model "
                        f"`{graph_name}`"
                    )
                    raise fail(
                        self.source, BAD_NAME, message, "a spec gives every name one meaning"
                    )


class References:
    """A Keras call, ``(operation, node index)`` → the node id that stands for it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.ids: dict[tuple[int, int], tuple[str, bool]] = {}
        self.taken: set[str] = set()

    def add(self, op: Any, index: int, node_id: str, many: bool) -> str:
        """Call ``index`` of ``op`` is ``node_id`` (``many``: it returned several tensors)."""
        if node_id in self.taken:  # `dense_call` for a model `dense`, and a layer of that name
            message = f"the node id `{node_id}` for {describe(op)} is also a layer's name"
            raise fail(self.source, BAD_NAME, message, "rename the layer in Keras first")
        self.taken.add(node_id)
        self.ids[(id(op), index)] = (node_id, many)
        return node_id

    def resolve(self, value: Any) -> Any:
        """Call arguments with every tensor replaced by its ``Ref``; numpy scalars made plain."""
        if isinstance(value, keras.KerasTensor):
            operation, call, index = value._keras_history
            node_id, many = self.ids[(id(operation), call)]
            return Ref(f"{node_id}[{index}]" if many else node_id)
        if isinstance(value, (list, tuple)):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, np.generic):
            return value.item()
        return value


def _and_more(diagnostic: Diagnostic, count: int) -> Diagnostic:
    if count == 1:
        return diagnostic
    more = f"{count - 1} more layer{'s' if count > 2 else ''} of this class"
    return replace(diagnostic, message=f"{diagnostic.message} ({more})")


def check_model_class(model: Any, source: str) -> None:
    if type(model) not in (Functional, keras.Sequential):
        cls = type(model)
        message = (
            f"model `{model.name}` ({cls.__module__}.{cls.__qualname__}) is not a functional or "
            "Sequential model: its graph is in Python code, not in Keras's config"
        )
        raise fail(source, UNSUPPORTED_GRAPH, message)


def all_layers(model: keras.Model) -> Iterator[Any]:
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def count_calls(model: keras.Model, counts: Counter[int], seen: set[int]) -> None:
    """How often each layer is called, over the model and every model nested in it."""
    if id(model) in seen:
        return
    seen.add(id(model))
    for layer in model.layers:
        counts[id(layer)] += (
            1 if isinstance(model, keras.Sequential) else len(kept_nodes(model, layer))
        )
        if isinstance(layer, keras.Model):
            count_calls(layer, counts, seen)


def kept_nodes(model: keras.Model, op: Any) -> list[tuple[int, Any]]:
    """The calls of ``op`` that belong to ``model`` (a layer may be called in other models too)."""
    return [(i, n) for i, n in enumerate(op._inbound_nodes) if make_node_key(op, i) in model._nodes]


def outputs_of(model: keras.Model) -> Any:
    """The model's outputs as a list, or a mapping for named outputs."""
    outputs = model._outputs_struct
    if isinstance(outputs, dict):
        return dict(outputs)
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def call_parameters(op: Any) -> dict[str, inspect.Parameter]:
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    parameters = inspect.signature(op.call).parameters.values()
    return {p.name: p for p in parameters if p.kind in named}


def _is_default(parameters: Mapping[str, inspect.Parameter], key: str, value: Any) -> bool:
    parameter = parameters.get(key)
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return False
    default = parameter.default
    return (type(default) is type(value) and default == value) or (
        default is None and value is None
    )


def has_ref(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, list):
        return any(has_ref(v) for v in value)
    if isinstance(value, dict):
        return any(has_ref(v) for v in value.values())
    return False


def unwrap(value: Any) -> Any:
    """Call arguments as plain YAML data: ``Ref`` back to ``str``, constants checked."""
    if isinstance(value, Ref):
        return str(value)
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    return plain(value)


def describe(op: Any) -> str:
    if isinstance(op, keras.Model):
        return f"model `{op.name}`"
    kind = "input" if isinstance(op, keras.layers.InputLayer) else "layer"
    return f"{kind} `{op.name}`" if isinstance(op, keras.layers.Layer) else f"operation `{op.name}`"


def spec_name(model_name: str) -> str:
    """The outer model's name as a spec name: ``mobilenetv2_1.00_224`` → ``mobilenetv2_1_00_224``.

    The only name that may change: no weight is stored under it. Layer and sub-model
    names are kept exactly (E706 when they cannot be).
    """
    name = re.sub(r"[^A-Za-z0-9_-]", "_", model_name)
    return name if NAME_PATTERN.fullmatch(name) else f"_{name}"


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake_case(name: str) -> str:
    return _CAMEL.sub("_", name).lower()
