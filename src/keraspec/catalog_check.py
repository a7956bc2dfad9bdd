"""Check what a spec names against the Keras catalog: layer types, ops, arguments, objects.

Runs without Keras: the catalog is data generated from it (see ``catalog``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import arguments, catalog
from .catalog import DENIED_LAYERS
from .custom_layers import Registry
from .diagnostics import Diagnostic, did_you_mean, written_as
from .parse import DataPath, Reporter, leaves, source_of
from .paths import path_problem
from .schema import REFERENCE_PATTERN, Node, ObjectSpec, Spec

DENIED_REASONS = {
    "Lambda": "it runs arbitrary Python code",
    "TFSMLayer": "it loads a SavedModel from disk",
}
# Layer arguments that also take a list of layers: RNN(cell=[...]), StackedRNNCells(cells=...).
LAYER_LISTS = frozenset({"cell", "cells"})
# Arguments that take data, which Keras reads from a file (or URL) when given a string.
FILE_ARGS = frozenset({"vocabulary", "idf_weights", "weights"})
# Set by keraspec itself: the node id (or shared-layer key) is the Keras layer name.
RESERVED_ARGS = frozenset({"name"})
ACTIVATION_ARGS = frozenset({"activation", "recurrent_activation"})
SHAPE_ARGS = frozenset({"input_shape", "input_dim", "batch_input_shape", "batch_size"})
SHAPE_ARGS_HINT = "shapes are declared under `inputs:`, e.g. inputs: {x: {shape: [28, 28]}}"
# What a functional model's __call__ takes besides its inputs.
MODEL_CALL_ARGS = ("training", "mask")
SINGULAR = {
    "layers": "layer",
    "initializers": "initializer",
    "regularizers": "regularizer",
    "constraints": "constraint",
    "optimizers": "optimizer",
    "losses": "loss",
    "metrics": "metric",
}
_MAPPING_HINT = (
    "mappings with `type` are accepted only for layers, initializers, regularizers and constraints"
)


@dataclass(kw_only=True)
class Checker(Reporter):
    spec: Spec
    registry: Registry = field(default_factory=Registry)  # custom layer classes it may name
    allow_files: bool = False  # arguments that name files (FILE_ARGS) may do so
    tensor_names: set[str] = field(default_factory=set)  # inputs and nodes of the model at hand


def check(
    spec: Spec, registry: Registry | None = None, allow_files: bool = False
) -> list[Diagnostic]:
    registry = registry or Registry()
    c = Checker(source_of(spec), spec=spec, registry=registry, allow_files=allow_files)
    _check_input_dtypes(c, spec)
    for name, layer in spec.layers.items():
        _check_layer(c, layer.type, layer.args, ("layers", name), f"shared layer `{name}`")
    for prefix, graph in spec.graphs():
        c.tensor_names = {*graph.inputs, *graph.nodes}
        of_model = f" of model `{prefix[1]}`" if prefix else ""
        for name, node in graph.nodes.items():
            _check_node(c, node, (*prefix, "nodes", name), f"node `{name}`{of_model}")
    if spec.compile is not None:
        _check_compile(c, spec)
    return c.diagnostics


def _check_input_dtypes(c: Checker, spec: Spec) -> None:
    dtypes = catalog.catalog()["dtypes"]
    for prefix, graph in spec.graphs():
        for name, decl in graph.inputs.items():
            if decl.dtype is not None and decl.dtype not in dtypes:
                path = (*prefix, "inputs", name, "dtype")
                message = f"input `{name}`: unknown dtype `{decl.dtype}`"
                c.error(path, "E225", message, did_you_mean(decl.dtype, dtypes))


def _check_node(c: Checker, node: Node, path: DataPath, who: str) -> None:
    if node.kind == "op":
        _check_op(c, node, path, who)
        return
    if node.kind == "type" and not _check_layer(c, node.type, node.args, path, who):
        return
    if node.kind in ("layer", "model"):
        _no_arguments(c, node, path, who)
    layer_type = c.spec.layer_type(node)
    if layer_type in catalog.classes("layers"):
        _check_call(c, node, catalog.layer_call_args(layer_type), path, who)
    elif node.kind == "model" and node.model in c.spec.models:
        _check_model_call(c, node, path, who)
    _check_layer_inputs(c, node.inputs, (*path, "inputs"), who)


def _no_arguments(c: Checker, node: Node, path: DataPath, who: str) -> None:
    what = "shared layer" if node.kind == "layer" else "model"
    for arg in node.args:
        message = f"{who} calls a {what}, so it takes no argument `{arg}`"
        hint = f"set arguments where the {what} `{node.target}` is defined"
        c.key_error((*path, arg), "E211", message, hint)


def _check_layer(c: Checker, type_: str, args: dict[str, Any], path: DataPath, who: str) -> bool:
    """Check a layer type and its constructor arguments; False when the type is unusable."""
    if type_ in DENIED_LAYERS:
        reason = DENIED_REASONS.get(type_, "keraspec does not build it from a spec")
        c.error((*path, "type"), "E212", f"{who}: layer type `{type_}` is not allowed: {reason}")
        return False
    if type_ not in catalog.classes("layers"):
        if c.registry.lookup(type_) is not None:
            _check_custom_args(c, args, path, who)
            return True
        # `keras.layers.Dense` → `Dense`: types are bare class names, never import paths.
        hint = did_you_mean(type_.rsplit(".", 1)[-1], catalog.layer_names())
        if hint is None and "." in type_:
            hint = c.registry.hint(type_) or None
        c.error((*path, "type"), "E210", f"{who}: unknown layer type `{type_}`", hint)
        return False
    _check_args(c, args, catalog.layer_args(type_), path, f"{who} ({type_})")
    if type_ == "Bidirectional":
        _check_bidirectional(c, args, path, who)
    return True


def _check_bidirectional(c: Checker, args: dict[str, Any], path: DataPath, who: str) -> None:
    for arg in ("layer", "backward_layer"):
        if isinstance(args.get(arg), str):
            message = f"{who}: Bidirectional copies the layer it wraps, so `{arg}` cannot name one"
            hint = "write the layer inline: {type: LSTM, units: ...}"
            c.error((*path, arg), "E223", message, hint)


def _check_args(
    c: Checker, args: dict[str, Any], known: dict[str, Any], path: DataPath, who: str
) -> None:
    for arg, value in args.items():
        if arg in RESERVED_ARGS:
            c.key_error((*path, arg), "E213", f"{who}: `{arg}` is set by keraspec from the id")
        elif arg not in known:
            hint = SHAPE_ARGS_HINT if arg in SHAPE_ARGS else did_you_mean(str(arg), known)
            c.key_error((*path, arg), "E211", f"{who}: unknown argument `{arg}`", hint)
        elif arg in FILE_ARGS and isinstance(value, str):
            _check_file_argument(c, str(arg), value, (*path, arg), who)
        elif message := arguments.problem(str(arg), value, known[arg]):
            received = f"received {arg}={written_as(value)}"
            c.error((*path, arg), "E227", f"{who}: `{arg}` {message}; {received}")
        else:
            _check_value(c, str(arg), value, (*path, arg), who)
    for arg, info in known.items():
        if info.get("required") and arg not in args:
            c.key_error(path, "E214", f"{who}: missing required argument `{arg}`")


def _check_file_argument(c: Checker, arg: str, value: str, path: DataPath, who: str) -> None:
    """A string where Keras takes data or a file: Keras would read that file (or URL)."""
    if not c.allow_files:
        message = f"{who}: `{arg}: {value}` would read a file, and specs may not read files"
        hint = "write the values as a list, or run with --allow-files to let specs name files"
        c.error(path, "E228", message, hint)
        return
    if problem := path_problem(value):
        message = f"{who}: `{arg}: {value}` {problem}"
        c.error(path, "E228", message, "--allow-files lets specs read files below it, no more")


def _check_custom_args(c: Checker, args: dict[str, Any], path: DataPath, who: str) -> None:
    """A custom class's arguments: its signature is unknown without importing it, but
    names that take Keras objects (initializers, activations ...) are checked as usual."""
    for arg, value in args.items():
        if arg in RESERVED_ARGS:
            c.key_error((*path, arg), "E213", f"{who}: `{arg}` is set by keraspec from the id")
        else:
            _check_value(c, str(arg), value, (*path, arg), who)


def _check_value(c: Checker, arg: str, value: Any, path: DataPath, who: str) -> None:
    kind = catalog.object_kind(arg)
    if arg in ACTIVATION_ARGS and not isinstance(value, (str, dict)) and value is not None:
        received = f"received {arg}={written_as(value)}"
        c.error(path, "E227", f"{who}: `{arg}` must be the name of an activation; {received}")
    elif arg in ACTIVATION_ARGS and isinstance(value, str):
        names = catalog.string_names("activations")
        if value not in names:
            message = f"{who}: unknown activation `{value}` for `{arg}`"
            c.error(path, "E217", message, _activation_hint(value, names))
    elif kind == "layers":
        _check_layer_value(c, arg, value, path, who)
    elif kind is not None:
        _check_object(c, kind, value, path, f"{who}: `{arg}`")
    elif _contains_mapping(value):
        c.error(path, "E216", f"{who}: argument `{arg}` does not take a mapping", _MAPPING_HINT)


def _activation_hint(value: str, names: list[str]) -> str | None:
    if value in ("None", "none", "linear_activation"):
        return "write null, or leave the argument out, for no activation"
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", value).lower()  # LeakyReLU → leaky_re_lu
    candidates = [snake, snake.replace("re_lu", "relu"), value.lower()]
    for candidate in candidates:
        if candidate in names:
            return f"did you mean `{candidate}`?"
    return did_you_mean(value, names)


def _contains_mapping(value: Any) -> bool:
    if isinstance(value, dict):
        return True
    return isinstance(value, list) and any(_contains_mapping(v) for v in value)


def _check_layer_value(c: Checker, arg: str, value: Any, path: DataPath, who: str) -> None:
    """A wrapper's layer: a shared layer or sub-model by name, ``{type: ..., ...}``, or
    (for ``RNN(cell=...)`` and ``StackedRNNCells(cells=...)``) a list of those."""
    if isinstance(value, list):
        if arg not in LAYER_LISTS or not value:
            lists = ", or a non-empty list of them" if arg in LAYER_LISTS else ""
            received = f"received {arg}={written_as(value)}"
            message = f"{who}: `{arg}` must be a layer name or a layer{lists}; {received}"
            c.error(path, "E216", message)
            return
        for i, item in enumerate(value):
            _check_layer_value(c, arg, item, (*path, i), who)
        return
    if isinstance(value, str):
        if value not in c.spec.layers and value not in c.spec.models:
            hint = did_you_mean(value, [*c.spec.layers, *c.spec.models])
            message = f"{who}: `{arg}` names unknown shared layer or model `{value}`"
            c.error(path, "E310", message, hint)
        return
    try:
        inner = ObjectSpec.from_yaml(value)
    except ValueError as e:
        c.error(path, "E216", f"{who}: `{arg}` must be a layer name or a layer: {e}")
        return
    _check_layer(c, inner.type, inner.args, path, f"{who} `{arg}`")


def _check_object(c: Checker, kind: str, value: Any, path: DataPath, who: str) -> None:
    """An initializer, regularizer, loss ...: a Keras name, or ``{type: Class, ...}``."""
    classes = catalog.classes(kind)
    what = SINGULAR[kind]
    if value is None:
        return
    if isinstance(value, str):
        names = [*catalog.string_names(kind), *classes]
        if value not in names:
            c.error(path, "E215", f"{who}: unknown {what} `{value}`", did_you_mean(value, names))
        return
    if not isinstance(value, (dict, ObjectSpec)):
        article = "an" if what[0] in "aeiou" else "a"
        c.error(path, "E216", f"{who}: expected {article} {what} name or a mapping with `type`")
        return
    try:
        spec = value if isinstance(value, ObjectSpec) else ObjectSpec.from_yaml(value)
    except ValueError as e:
        c.error(path, "E216", f"{who}: invalid {what}: {e}")
        return
    if spec.type not in classes:
        hint = did_you_mean(spec.type.rsplit(".", 1)[-1], classes)
        c.error((*path, "type"), "E215", f"{who}: unknown {what} class `{spec.type}`", hint)
    else:
        _check_args(c, spec.args, classes[spec.type]["args"], path, f"{who} ({spec.type})")


def _check_call(c: Checker, node: Node, known: dict[str, Any], path: DataPath, who: str) -> None:
    """Call arguments: keyword tensor inputs and non-tensor ``call`` keys must exist."""
    first = next(iter(known), None)
    if isinstance(node.inputs, dict):
        for key in node.inputs:
            if key not in known:
                hint = did_you_mean(str(key), known)
                message = f"{who}: unknown call argument `{key}`"
                c.key_error((*path, "inputs", key), "E218", message, hint)
    for key, value in node.call.items():
        if key not in known or key == first:
            hint = did_you_mean(str(key), [k for k in known if k != first])
            c.key_error((*path, "call", key), "E218", f"{who}: unknown call argument `{key}`", hint)
        elif any(_names_tensor(c, leaf) for _, leaf in leaves(value, ())):
            message = f"{who}: `call.{key}` names tensors; `call` holds non-tensor arguments only"
            hint = f"move `{key}` under `inputs:`, e.g. inputs: {{{first}: ..., {key}: ...}}"
            c.key_error((*path, "call", key), "E221", message, hint)


def _check_model_call(c: Checker, node: Node, path: DataPath, who: str) -> None:
    """A sub-model takes its inputs positionally or as a mapping by input name."""
    model = c.spec.models[node.model]
    if isinstance(node.inputs, dict):
        if missing := [i for i in model.inputs if i not in node.inputs]:
            names = ", ".join(f"`{i}`" for i in missing)
            message = f"{who}: model `{node.model}` needs input(s) {names}"
            c.error((*path, "inputs"), "E224", message)
        for key in node.inputs:
            if key not in model.inputs:
                hint = did_you_mean(str(key), model.inputs)
                message = f"{who}: model `{node.model}` has no input `{key}`"
                c.key_error((*path, "inputs", key), "E218", message, hint)
    else:
        given = len(node.inputs) if isinstance(node.inputs, list) else 1
        if given != len(model.inputs):
            names = ", ".join(f"`{i}`" for i in model.inputs)
            message = f"{who}: model `{node.model}` takes {len(model.inputs)} input(s) ({names})"
            c.error((*path, "inputs"), "E224", f"{message}, got {given}")
    for key in node.call:
        if key not in MODEL_CALL_ARGS:
            hint = did_you_mean(str(key), MODEL_CALL_ARGS)
            c.key_error((*path, "call", key), "E218", f"{who}: unknown call argument `{key}`", hint)


def _names_tensor(c: Checker, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    match = REFERENCE_PATTERN.fullmatch(value)
    return match is not None and match["name"] in c.tensor_names


def _check_layer_inputs(c: Checker, inputs: Any, path: DataPath, who: str) -> None:
    """A layer takes references: one, a flat list, or a mapping of references or flat lists."""
    items = inputs.items() if isinstance(inputs, dict) else [(None, inputs)]
    for key, value in items:
        where = path if key is None else (*path, key)
        for i, item in enumerate(value) if isinstance(value, list) else [(None, value)]:
            at = where if i is None else (*where, i)
            if isinstance(item, list):
                c.error(at, "E219", f"{who}: a layer's inputs cannot nest lists")
            elif not isinstance(item, str):
                message = f"{who}: a layer's inputs must be references, got {item!r}"
                c.error(at, "E219", message, "constant operands are for `op` nodes")


def _check_op(c: Checker, node: Node, path: DataPath, who: str) -> None:
    ops = catalog.catalog()["ops"]
    if node.op not in ops:
        last = node.op.rsplit(".", 1)[-1]
        if node.op.startswith("keras.ops.") and last in ops:
            message = f"{who}: write the op by name: `{last}`, not `{node.op}`"
            c.error((*path, "op"), "E220", message, f"op: {last}")
            return
        if node.op.removeprefix("keras.ops.") in catalog.catalog()["all_ops"]:
            message = f"{who}: `keras.ops.{node.op.removeprefix('keras.ops.')}` is not allowed"
            hint = "allowed ops are listed in docs/spec-format.md"
        elif "." in node.op:  # `keras.ops.add`, `random.normal`: ops are bare keras.ops names
            message = f"{who}: unknown op `{node.op}`: ops are `keras.ops` functions by name"
            hint = f"did you mean `{last}`?" if last in ops else None
        else:
            message = f"{who}: unknown op `{node.op}`"
            hint = did_you_mean(node.op, ops)
        c.error((*path, "op"), "E220", message, hint)
        return
    who = f"{who} ({node.op})"
    known = catalog.op_args(node.op)
    for arg in node.call:
        message = f"{who}: `call` is for layers; give op arguments directly"
        c.key_error((*path, "call", arg), "E218", message)
    given = _op_positional_names(c, node, known, path, who)
    for key in node.inputs if isinstance(node.inputs, dict) else ():
        if key not in known:
            hint = did_you_mean(str(key), known)
            c.key_error((*path, "inputs", key), "E218", f"{who}: unknown argument `{key}`", hint)
        given.append(key)
    for arg, value in node.args.items():
        if arg not in known:
            hint = did_you_mean(str(arg), known)
            c.key_error((*path, arg), "E211", f"{who}: unknown argument `{arg}`", hint)
        elif any(_names_tensor(c, leaf) for _, leaf in leaves(value, ())):
            message = f"{who}: argument `{arg}` names a tensor; tensors go in `inputs`"
            hint = f"inputs: {{..., {arg}: ...}}"
            c.key_error((*path, arg), "E221", message, hint)
        elif arg in given:
            message = f"{who}: argument `{arg}` is given twice, in `inputs` and as `{arg}`"
            c.key_error((*path, arg), "E222", message)
        elif problem := arguments.type_problem(value, known[arg]):
            message = f"{who}: `{arg}` {problem}; received {arg}={written_as(value)}"
            c.error((*path, arg), "E227", message)
        given.append(arg)
    for arg, info in known.items():
        if info.get("required") and arg not in given:
            c.key_error(path, "E214", f"{who}: missing required argument `{arg}`")


def _op_positional_names(
    c: Checker, node: Node, known: dict[str, Any], path: DataPath, who: str
) -> list[str]:
    """The parameter names an op's positional ``inputs`` fill, in order."""
    if isinstance(node.inputs, dict):
        return []
    count = len(node.inputs) if isinstance(node.inputs, list) else 1
    names = list(known)
    if count > len(names):
        message = f"{who}: takes at most {len(names)} arguments, got {count} in `inputs`"
        c.error((*path, "inputs"), "E222", message)
    return names[:count]


def _check_compile(c: Checker, spec: Spec) -> None:
    comp = spec.compile
    keys = [k for k, _ in spec.output_items()]
    _check_object(c, "optimizers", comp.optimizer, ("compile", "optimizer"), "`compile.optimizer`")
    for field_name, kind in (("loss", "losses"), ("loss_weights", None), ("metrics", "metrics")):
        value = getattr(comp, field_name)
        where = ("compile", field_name)
        who = f"`compile.{field_name}`"
        if isinstance(value, dict):
            _check_per_output(c, value, keys, kind, where, who)
        elif isinstance(value, list):
            if field_name != "metrics" and len(value) != len(keys):
                message = f"{who} has {len(value)} entries for {len(keys)} outputs"
                c.error(where, "E231", message)
            if kind:
                _check_objects(c, kind, value, where, who)
        elif kind:
            _check_object(c, kind, value, where, who)


def _check_per_output(
    c: Checker, value: dict, keys: list[str], kind: str | None, where: DataPath, who: str
) -> None:
    for key, item in value.items():
        if key not in keys:
            outputs = ", ".join(f"`{k}`" for k in keys)
            hint = did_you_mean(str(key), keys) or f"outputs are {outputs}"
            c.key_error((*where, key), "E230", f"{who} names unknown output `{key}`", hint)
        elif kind:
            _check_objects(c, kind, item, (*where, key), who)


def _check_objects(c: Checker, kind: str, value: Any, path: DataPath, who: str) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_object(c, kind, item, (*path, i), who)
    else:
        _check_object(c, kind, value, path, who)
