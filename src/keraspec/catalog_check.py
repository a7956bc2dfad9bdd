"""Check what a spec names against the Keras catalog: layer types, ops, arguments, objects.

Runs without Keras: the catalog is data generated from it (see ``catalog``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import catalog
from .catalog import DENIED_LAYERS
from .diagnostics import Diagnostic, did_you_mean
from .loader import SourceMap
from .parse import DataPath, source_of
from .schema import REFERENCE_PATTERN, Node, ObjectSpec, Spec

DENIED_REASONS = {
    "Lambda": "it runs arbitrary Python code",
    "TFSMLayer": "it loads a SavedModel from disk",
}
# Set by keraspec itself: the node id (or shared-layer key) is the Keras layer name.
RESERVED_ARGS = frozenset({"name"})
ACTIVATION_ARGS = frozenset({"activation", "recurrent_activation"})


@dataclass
class Checker:
    spec: Spec
    source: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tensor_names: set[str] = field(default_factory=set)  # inputs and nodes of the model at hand

    def error(self, path: DataPath, code: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic.at(self.source.value(path), code, message, hint))

    def key_error(self, path: DataPath, code: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic.at(self.source.key(path), code, message, hint))


def check(spec: Spec) -> list[Diagnostic]:
    checker = Checker(spec, source_of(spec))
    for name, layer in spec.layers.items():
        _check_layer(checker, layer.type, layer.args, ("layers", name), f"shared layer `{name}`")
    for prefix, graph in [((), spec), *((("models", n), m) for n, m in spec.models.items())]:
        checker.tensor_names = {*graph.inputs, *graph.nodes}
        for name, node in graph.nodes.items():
            _check_node(checker, node, (*prefix, "nodes", name), f"node `{name}`")
    if spec.compile is not None:
        _check_compile(checker, spec)
    return checker.diagnostics


def _check_node(c: Checker, node: Node, path: DataPath, who: str) -> None:
    if node.kind == "type":
        if _check_layer(c, node.type, node.args, path, who):
            _check_call(c, node, catalog.layer_call_args(node.type), path, who)
    elif node.kind == "op":
        _check_op(c, node, path, who)
    else:
        for arg in node.args:
            what = "shared layer" if node.kind == "layer" else "model"
            c.key_error(
                (*path, arg),
                "E211",
                f"{who} calls a {what}, so it takes no argument `{arg}`",
                f"set arguments where the {what} `{node.target}` is defined",
            )
        if node.kind == "layer" and node.layer in c.spec.layers:
            layer_type = c.spec.layers[node.layer].type
            if layer_type in catalog.classes("layers"):
                _check_call(c, node, catalog.layer_call_args(layer_type), path, who)
    if node.kind != "op":
        _check_constant_inputs(c, node.inputs, (*path, "inputs"), who)


def _check_layer(c: Checker, type_: str, args: dict[str, Any], path: DataPath, who: str) -> bool:
    """Check a layer type and its constructor arguments; False when the type is unusable."""
    if type_ in DENIED_LAYERS:
        reason = DENIED_REASONS.get(type_, "keraspec does not build it from a spec")
        c.error((*path, "type"), "E212", f"{who}: layer type `{type_}` is not allowed: {reason}")
        return False
    if type_ not in catalog.classes("layers"):
        # `keras.layers.Dense` → `Dense`: types are bare class names, never import paths.
        hint = did_you_mean(type_.rsplit(".", 1)[-1], catalog.layer_names())
        c.error((*path, "type"), "E210", f"{who}: unknown layer type `{type_}`", hint)
        return False
    known = catalog.layer_args(type_)
    _check_args(c, args, known, path, f"{who} ({type_})")
    return True


def _check_args(
    c: Checker, args: dict[str, Any], known: dict[str, Any], path: DataPath, who: str
) -> None:
    for arg, value in args.items():
        if arg in RESERVED_ARGS:
            c.key_error(
                (*path, arg), "E213", f"{who}: `{arg}` is set by keraspec from the id", "remove it"
            )
        elif arg not in known:
            hint = did_you_mean(str(arg), known)
            c.key_error((*path, arg), "E211", f"{who}: unknown argument `{arg}`", hint)
        else:
            _check_value(c, str(arg), value, (*path, arg), who)
    for arg, info in known.items():
        if info.get("required") and arg not in args:
            c.key_error(path, "E214", f"{who}: missing required argument `{arg}`")


def _check_value(c: Checker, arg: str, value: Any, path: DataPath, who: str) -> None:
    kind = catalog.object_kind(arg)
    if arg in ACTIVATION_ARGS and isinstance(value, str):
        if value not in catalog.string_names("activations"):
            hint = did_you_mean(value, catalog.string_names("activations"))
            c.error(path, "E217", f"{who}: unknown activation `{value}` for `{arg}`", hint)
    elif kind == "layers":
        _check_layer_value(c, arg, value, path, who)
    elif kind is not None:
        _check_object(c, kind, value, path, f"{who}: `{arg}`")
    elif _contains_mapping(value):
        c.error(path, "E216", f"{who}: argument `{arg}` does not take a mapping", _MAPPING_HINT)


_MAPPING_HINT = (
    "mappings with `type` are accepted only for layers, initializers, regularizers and constraints"
)


def _contains_mapping(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(_contains_mapping(v) for v in value)


def _check_layer_value(c: Checker, arg: str, value: Any, path: DataPath, who: str) -> None:
    """A wrapper's layer: a shared layer or sub-model by name, or ``{type: ..., ...}``."""
    if isinstance(value, str):
        if value not in c.spec.layers and value not in c.spec.models:
            hint = did_you_mean(value, [*c.spec.layers, *c.spec.models])
            c.error(
                path, "E310", f"{who}: `{arg}` names unknown shared layer or model `{value}`", hint
            )
    elif isinstance(value, dict) and isinstance(value.get("type"), str):
        inner = ObjectSpec.model_validate(value)
        _check_layer(c, inner.type, inner.args, path, f"{who} `{arg}`")
    else:
        c.error(path, "E216", f"{who}: `{arg}` must be a layer: a name or a mapping with `type`")


def _check_object(c: Checker, kind: str, value: Any, path: DataPath, who: str) -> None:
    """An initializer, regularizer, loss ...: a Keras name, or ``{type: Class, ...}``."""
    classes = catalog.classes(kind)
    if value is None or (isinstance(value, (int, float)) and kind == "metrics"):
        return
    if isinstance(value, str):
        names = [*catalog.string_names(kind), *classes]
        if value not in names:
            c.error(
                path, "E215", f"{who}: unknown {kind[:-1]} `{value}`", did_you_mean(value, names)
            )
        return
    spec = value if isinstance(value, ObjectSpec) else _as_object(value)
    if spec is None:
        c.error(path, "E216", f"{who}: expected a {kind[:-1]} name or a mapping with `type`")
    elif spec.type not in classes:
        hint = did_you_mean(spec.type, classes)
        c.error((*path, "type"), "E215", f"{who}: unknown {kind[:-1]} class `{spec.type}`", hint)
    else:
        _check_args(c, spec.args, classes[spec.type]["args"], path, f"{who} ({spec.type})")


def _as_object(value: Any) -> ObjectSpec | None:
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return ObjectSpec.model_validate(value)
    return None


def _check_call(c: Checker, node: Node, known: dict[str, Any], path: DataPath, who: str) -> None:
    """Call arguments: keyword tensor inputs and non-tensor ``call`` keys must exist."""
    first = next(iter(known), None)
    if isinstance(node.inputs, dict):
        for key in node.inputs:
            if key not in known:
                hint = did_you_mean(str(key), known)
                c.key_error(
                    (*path, "inputs", key), "E218", f"{who}: unknown call argument `{key}`", hint
                )
    for key, value in node.call.items():
        if key not in known or key == first:
            hint = did_you_mean(str(key), [k for k in known if k != first])
            c.key_error((*path, "call", key), "E218", f"{who}: unknown call argument `{key}`", hint)
        elif any(_names_tensor(c, leaf) for _, leaf in _leaves(value, ())):
            c.key_error(
                (*path, "call", key),
                "E221",
                f"{who}: `call.{key}` names tensors, but `call` holds only non-tensor arguments",
                f"move `{key}` under `inputs:`, e.g. inputs: {{{first}: ..., {key}: ...}}",
            )


def _names_tensor(c: Checker, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    match = REFERENCE_PATTERN.fullmatch(value)
    return match is not None and match["name"] in c.tensor_names


def _check_constant_inputs(c: Checker, inputs: Any, path: DataPath, who: str) -> None:
    for sub_path, value in _leaves(inputs, path):
        if not isinstance(value, str):
            c.error(
                sub_path,
                "E219",
                f"{who}: a layer's inputs must be references, got {value!r}",
                "constant operands are for `op` nodes",
            )


def _leaves(value: Any, path: DataPath) -> Iterable[tuple[DataPath, Any]]:
    if isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    else:
        yield path, value


def _check_op(c: Checker, node: Node, path: DataPath, who: str) -> None:
    ops = catalog.catalog()["ops"]
    if node.op not in ops:
        c.error(
            (*path, "op"),
            "E220",
            f"{who}: unknown or disallowed op `{node.op}`",
            did_you_mean(node.op.rsplit(".", 1)[-1], ops),
        )
        return
    known = catalog.op_args(node.op)
    for arg in node.call:
        c.key_error(
            (*path, "call", arg), "E218", f"{who}: `call` is for layers; give op arguments directly"
        )
    for arg in node.args:
        if arg not in known:
            c.key_error(
                (*path, arg),
                "E211",
                f"{who} ({node.op}): unknown argument `{arg}`",
                did_you_mean(str(arg), known),
            )
    if isinstance(node.inputs, dict):
        for key in node.inputs:
            if key not in known:
                hint = did_you_mean(str(key), known)
                c.key_error(
                    (*path, "inputs", key),
                    "E218",
                    f"{who} ({node.op}): unknown argument `{key}`",
                    hint,
                )


def _check_compile(c: Checker, spec: Spec) -> None:
    comp = spec.compile
    keys = [k for k, _ in spec.output_items()]
    path = ("compile",)
    _check_object(c, "optimizers", comp.optimizer, (*path, "optimizer"), "`compile.optimizer`")
    for field_name, kind in (("loss", "losses"), ("loss_weights", None), ("metrics", "metrics")):
        value = getattr(comp, field_name)
        where = (*path, field_name)
        if isinstance(value, dict):
            for key, item in value.items():
                if key not in keys:
                    hint = (
                        did_you_mean(str(key), keys)
                        or f"outputs are {', '.join(f'`{k}`' for k in keys)}"
                    )
                    c.key_error(
                        (*where, key),
                        "E230",
                        f"`compile.{field_name}` names unknown output `{key}`",
                        hint,
                    )
                elif kind:
                    _check_objects(c, kind, item, (*where, key), f"`compile.{field_name}`")
        elif isinstance(value, list):
            if field_name != "metrics" and len(value) != len(keys):
                c.error(
                    where,
                    "E231",
                    f"`compile.{field_name}` has {len(value)} entries for {len(keys)} outputs",
                )
            if kind:
                _check_objects(c, kind, value, where, f"`compile.{field_name}`")
        elif kind and value is not None:
            _check_object(c, kind, value, where, f"`compile.{field_name}`")


def _check_objects(c: Checker, kind: str, value: Any, path: DataPath, who: str) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_object(c, kind, item, (*path, i), who)
    else:
        _check_object(c, kind, value, path, who)
