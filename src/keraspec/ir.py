"""The IR: a checked spec as a small, immutable, topologically ordered program.

A ``GraphIR`` is a DAG written as a list of ``Call``s in execution order; tensors
flow between them as ``TensorRef``s. Emitters walk a ``Program`` and never look
back at the spec. Nothing here imports beyond the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .diagnostics import Location


@dataclass(frozen=True)
class TensorRef:
    """The output of node ``node``; ``index`` picks one output of a multi-output node."""

    node: str
    index: int | None = None

    def __str__(self) -> str:
        return self.node if self.index is None else f"{self.node}[{self.index}]"


@dataclass(frozen=True)
class KerasObject:
    """A Keras object to construct: ``kind`` is its catalog section (``initializers``,
    ``layers``, ``losses`` ...), ``type`` its class name, ``config`` its arguments."""

    kind: str
    type: str
    config: Mapping[str, Any]


@dataclass(frozen=True)
class InputDecl:
    id: str
    shape: tuple[int | None, ...]
    dtype: str | None
    batch_size: int | None
    sparse: bool
    location: Location


@dataclass(frozen=True)
class Call:
    """One node: call ``target`` on tensors.

    ``kind`` is ``new_layer`` (a layer of class ``target``), ``shared_layer`` or
    ``model`` (by name), or ``op`` (a ``keras.ops`` function).
    ``config`` holds constructor arguments (layers) or keyword arguments (ops);
    ``args``/``kwargs`` hold tensor arguments (``TensorRef``, constants, tuples);
    ``call`` holds non-tensor call arguments such as ``training``.
    """

    id: str
    kind: str
    target: str
    config: Mapping[str, Any]
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    call: Mapping[str, Any]
    location: Location


@dataclass(frozen=True)
class GraphIR:
    name: str
    inputs: tuple[InputDecl, ...]
    calls: tuple[Call, ...]
    outputs: tuple[tuple[str, TensorRef], ...]
    named_outputs: bool
    location: Location  # where its outputs are declared
    output_locations: tuple[Location, ...]  # each output's reference


@dataclass(frozen=True)
class SharedLayer:
    name: str
    type: str
    config: Mapping[str, Any]
    location: Location


@dataclass(frozen=True)
class CompileIR:
    """Compile arguments with per-output values already aligned to the outputs."""

    optimizer: Any
    loss: Any
    loss_weights: Any
    metrics: Any
    run_eagerly: bool
    jit_compile: Any
    location: Location


@dataclass(frozen=True)
class CustomLayer:
    """A project's own layer class, registered for specs to name (see ``custom_layers``)."""

    type: str  # as a spec writes it: `LayerScale` or `mypkg.layers.LayerScale`
    module: str
    attribute: str
    origin: str  # how it was registered, for messages


@dataclass(frozen=True)
class Program:
    name: str
    layers: tuple[SharedLayer, ...]
    submodels: tuple[GraphIR, ...]  # callees before callers
    main: GraphIR
    compile: CompileIR | None
    # The custom layer classes the program uses, by ``type``; everything else is Keras's.
    custom_layers: Mapping[str, CustomLayer] = field(default_factory=dict)


EMPTY: Mapping[str, Any] = MappingProxyType({})


def tensor_refs(*values: Any) -> list[TensorRef]:
    """Every tensor reference in call arguments (``args``, ``kwargs``), in written order."""
    found: list[TensorRef] = []
    for value in values:
        if isinstance(value, TensorRef):
            found.append(value)
        elif isinstance(value, tuple):
            found += tensor_refs(*value)
        elif isinstance(value, Mapping):
            found += tensor_refs(*value.values())
    return found


def layer_types(program: Program) -> set[str]:
    """Every layer class a program constructs: called, shared, or nested in an argument."""
    found = {layer.type for layer in program.layers}
    nested: list[Any] = [layer.config for layer in program.layers]
    for graph in (*program.submodels, program.main):
        for call in graph.calls:
            if call.kind == "new_layer":
                found.add(call.target)
                nested.append(call.config)
    while nested:  # most arguments are plain values: only objects and lists are opened
        for value in nested.pop().values():
            if isinstance(value, KerasObject):
                if value.kind == "layers":
                    found.add(value.type)
                nested.append(value.config)
            elif isinstance(value, tuple):
                nested.append(dict(enumerate(value)))
    return found


def freeze(value: Any) -> Any:
    """Deep-immutable copy: dicts become read-only mappings, lists become tuples."""
    if isinstance(value, (str, int, float)) or value is None:  # most values: quick
        return value
    if not value and isinstance(value, dict):  # most nodes' `call`: one shared empty mapping
        return EMPTY
    if isinstance(value, (dict, Mapping)):  # a dict is told apart without the ABC check
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The plain dict/list form of a frozen value, as Keras constructors expect."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value
