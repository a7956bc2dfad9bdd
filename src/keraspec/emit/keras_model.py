"""Stage 4, emit: walk an ``ir.Program`` and make Keras functional-API calls.

The only module of the compiler that imports Keras. Every class and op it looks
up must also be in the catalog, so a spec can reach nothing else in Keras.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import keras

from .. import catalog
from ..custom_layers import load_class
from ..diagnostics import Diagnostic, Location, SpecError
from ..ir import Call, CompileIR, CustomLayer, GraphIR, KerasObject, Program, TensorRef, thaw
from ..recursion import with_room_for

KERAS_MODULES = {
    "initializers": keras.initializers,
    "regularizers": keras.regularizers,
    "constraints": keras.constraints,
    "optimizers": keras.optimizers,
    "losses": keras.losses,
    "metrics": keras.metrics,
}


def build_model(program: Program, compile: bool = True) -> keras.Model:
    return with_room_for(layer_count(program), lambda: _build(program, compile))


def _build(program: Program, compile: bool) -> keras.Model:
    builder = ModelBuilder(program)
    model = builder.build()
    if compile and program.compile is not None:
        builder.compile(model, program.compile)
    return model


def layer_count(program: Program) -> int:
    """Calls in the whole program: a bound on the depth Keras recurses to."""
    return sum(len(graph.calls) for graph in (*program.submodels, program.main))


class ModelBuilder:
    def __init__(self, program: Program):
        self.program = program
        self.shared_specs = {layer.name: layer for layer in program.layers}
        self.shared: dict[str, keras.layers.Layer] = {}
        self.models: dict[str, keras.Model] = {}
        self.tensors: dict[str, Any] = {}  # the last graph built: node id → output
        self.graph_tensors: dict[str, dict[str, Any]] = {}  # every graph built, by name

    def build(self) -> keras.Model:
        for graph in self.program.submodels:
            self.models[graph.name] = self.build_graph(graph)
        return self.build_graph(self.program.main)

    def build_graph(self, graph: GraphIR) -> keras.Model:
        tensors = self.tensors = self.graph_tensors[graph.name] = {}
        for decl in graph.inputs:
            with located(decl.location, f"input `{decl.id}`"):
                tensors[decl.id] = keras.Input(
                    shape=decl.shape,
                    dtype=decl.dtype,
                    batch_size=decl.batch_size,
                    sparse=decl.sparse,
                    name=decl.id,
                )
        for call in graph.calls:
            with located(call.location, f"node `{call.id}`"):
                tensors[call.id] = self.run(call, tensors)
        outputs = []
        for (_, ref), where in zip(graph.outputs, graph.output_locations, strict=True):
            with located(where, f"output `{ref}`"):
                outputs.append(_pick(tensors, ref))
        inputs = [tensors[d.id] for d in graph.inputs]
        if graph.named_outputs:
            result: Any = {key: t for (key, _), t in zip(graph.outputs, outputs, strict=True)}
        else:
            result = outputs[0] if len(outputs) == 1 else outputs
        with located(graph.location, f"model `{graph.name}`"):
            return keras.Model(inputs[0] if len(inputs) == 1 else inputs, result, name=graph.name)

    def run(self, call: Call, tensors: dict[str, Any]) -> Any:
        args = [self.resolve(a, tensors) for a in call.args]
        kwargs = {k: self.resolve(v, tensors) for k, v in call.kwargs.items()}
        if call.kind == "op":
            result = _op(call.target)(*args, **kwargs, **thaw(call.config))
            name_operation(result, call.id)
            return result
        return self.callee(call)(*args, **kwargs, **thaw(call.call))

    def callee(self, call: Call) -> Any:
        if call.kind == "shared_layer":
            return self.shared_layer(call.target)
        if call.kind == "model":
            return self.models[call.target]
        return self.make_layer(call.target, call.config, name=call.id)

    def resolve(self, value: Any, tensors: dict[str, Any]) -> Any:
        if isinstance(value, TensorRef):
            return _pick(tensors, value)
        if isinstance(value, tuple):
            return [self.resolve(v, tensors) for v in value]
        if isinstance(value, Mapping):  # a sub-model's inputs by name
            return {k: self.resolve(v, tensors) for k, v in value.items()}
        return value

    def shared_layer(self, name: str) -> keras.layers.Layer:
        if name not in self.shared:
            spec = self.shared_specs[name]
            with located(spec.location, f"shared layer `{name}`"):
                self.shared[name] = self.make_layer(spec.type, spec.config, name=name)
        return self.shared[name]

    def make_layer(self, type_: str, config: Mapping[str, Any], name: str | None = None) -> Any:
        custom = self.program.custom_layers.get(type_)
        cls = _custom_class(custom) if custom else _allowed(keras.layers, "layers", type_)
        args = {k: self.argument(k, v) for k, v in config.items()}
        return cls(**args, name=name) if name else cls(**args)

    def argument(self, arg: str, value: Any) -> Any:
        """A constructor argument: nested objects built, layer names resolved."""
        if isinstance(value, KerasObject):
            return self.construct(value)
        if catalog.object_kind(arg) == "layers":
            if isinstance(value, tuple):  # RNN cells
                return [self.argument(arg, v) for v in value]
            if isinstance(value, str):
                return self.models[value] if value in self.models else self.shared_layer(value)
        return thaw(value)

    def construct(self, obj: KerasObject) -> Any:
        if obj.kind == "layers":
            return self.make_layer(obj.type, obj.config)
        cls = _allowed(KERAS_MODULES[obj.kind], obj.kind, obj.type)
        return cls(**thaw(obj.config))

    def objects(self, value: Any) -> Any:
        """Compile arguments: objects built, per-output mappings and lists kept."""
        if isinstance(value, KerasObject):
            return self.construct(value)
        if isinstance(value, Mapping):
            return {k: self.objects(v) for k, v in value.items()}
        if isinstance(value, tuple):
            return [self.objects(v) for v in value]
        return value

    def compile(self, model: keras.Model, spec: CompileIR) -> None:
        with located(spec.location, "`compile`"):
            self._compile(model, spec)

    def _compile(self, model: keras.Model, spec: CompileIR) -> None:
        model.compile(
            optimizer=self.objects(spec.optimizer),
            loss=self.objects(spec.loss),
            loss_weights=thaw(spec.loss_weights),
            metrics=self.objects(spec.metrics),
            run_eagerly=spec.run_eagerly,
            jit_compile=spec.jit_compile,
        )


@contextmanager
def located(location: Location, who: str) -> Iterator[None]:
    """Turn an exception Keras raises while building ``who`` into an E400 at ``location``."""
    try:
        yield
    except SpecError:
        raise  # already located (a shared layer built on first use)
    except Exception as e:
        raise SpecError([keras_error(location, who, e)]) from e


def _allowed(module: Any, kind: str, name: str) -> Any:
    # Defence in depth: validation already rejected names outside the catalog.
    if name not in catalog.classes(kind):
        raise ValueError(f"`{name}` is not in the catalog's {kind}")
    return getattr(module, name)


def _custom_class(layer: CustomLayer) -> type[keras.layers.Layer]:
    """A registered class: its module is imported now, and it must be a Keras layer."""
    cls = load_class(layer)
    if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
        raise TypeError(f"`{layer.type}` ({layer.origin}) is not a Keras layer class")
    return cls


def _op(name: str) -> Any:
    if name not in catalog.catalog()["ops"]:
        raise ValueError(f"op `{name}` is not in the catalog")
    return getattr(keras.ops, name)


def name_operation(result: Any, name: str) -> None:
    """Name an op's Operation after its node, as layers are: ids stay the Keras names.

    Left alone, Keras names it ``add``, ``add_1`` ..., which can collide with a node
    the user called ``add``.
    """
    for tensor in result if isinstance(result, (list, tuple)) else [result]:
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            history.operation.name = name


def _pick(tensors: dict[str, Any], ref: TensorRef) -> Any:
    value = tensors[ref.node]
    if ref.index is None:
        return value
    if isinstance(value, Mapping):
        value = list(value.values())
    return value[ref.index]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def keras_error(location: Location, who: str, error: Exception) -> Diagnostic:
    """A Keras exception raised while building ``who``, located at the spec line that made it."""
    text = " ".join(_ANSI.sub("", str(error)).split())
    if len(text) > 600:
        text = text[:597] + "..."
    return Diagnostic.at(location, "E400", f"Keras rejected {who}: {type(error).__name__}: {text}")
