"""Regenerate ``keras_catalog.json`` from the installed Keras.

Run with ``python -m keraspec.catalog.generate`` (or ``make catalog``). This is the
only module in the catalog package that imports Keras; validation reads the JSON.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from . import DENIED_LAYERS

CATALOG_PATH = Path(__file__).with_name("keras_catalog.json")

# keras.ops functions usable as graph nodes: tensors in, tensor(s) out, no side effects,
# tensor arguments first (so not einsum, whose subscripts string comes before them).
ALLOWED_OPS = (
    "abs",
    "absolute",
    "add",
    "all",
    "any",
    "arccos",
    "arcsin",
    "arctan",
    "argmax",
    "argmin",
    "argsort",
    "average",
    "cast",
    "ceil",
    "clip",
    "concatenate",
    "cos",
    "cosh",
    "cross",
    "cumprod",
    "cumsum",
    "diagonal",
    "divide",
    "dot",
    "elu",
    "equal",
    "erf",
    "exp",
    "expand_dims",
    "expm1",
    "flip",
    "floor",
    "floor_divide",
    "full_like",
    "gelu",
    "greater",
    "hard_sigmoid",
    "hard_silu",
    "isinf",
    "isnan",
    "leaky_relu",
    "less",
    "log",
    "log1p",
    "log_sigmoid",
    "log_softmax",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mod",
    "moveaxis",
    "multiply",
    "nan_to_num",
    "negative",
    "norm",
    "normalize",
    "not_equal",
    "one_hot",
    "ones_like",
    "outer",
    "power",
    "prod",
    "reciprocal",
    "relu",
    "relu6",
    "repeat",
    "reshape",
    "roll",
    "round",
    "rsqrt",
    "selu",
    "sigmoid",
    "sign",
    "silu",
    "sin",
    "sinh",
    "slice",
    "softmax",
    "softplus",
    "softsign",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "subtract",
    "sum",
    "swapaxes",
    "take",
    "take_along_axis",
    "tan",
    "tanh",
    "tensordot",
    "tile",
    "top_k",
    "trace",
    "transpose",
    "tril",
    "triu",
    "true_divide",
    "unstack",
    "var",
    "where",
    "zeros_like",
)

# keras.callbacks classes a spec's `fit.callbacks` may name: configured by arguments
# alone. Not LambdaCallback or LearningRateScheduler (they take Python functions), nor
# RemoteMonitor (it posts to a URL).
ALLOWED_CALLBACKS = (
    "BackupAndRestore",
    "CSVLogger",
    "EarlyStopping",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
)

# Base classes whose ``**kwargs`` lead only to ``Layer.__init__``.
_STOP_AT = ("Layer", "Operation", "KerasSaveable", "object")


def json_default(value: Any) -> Any:
    """A JSON-able stand-in for a signature default: tuples (nested too) become lists."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        items = [json_default(v) for v in value]
        if not any(isinstance(v, dict) for v in items):
            return items
    return {"repr": repr(value)}


def params_of(func: Any, skip: int = 0, types: dict[str, Any] | None = None) -> tuple[dict, bool]:
    """Named parameters of ``func`` (after ``skip`` leading ones) and whether it takes **kwargs.

    ``types`` (from docstrings, see ``doc_types``) adds a ``type`` where one is known.
    """
    params: dict[str, Any] = {}
    var_kw = False
    for i, (name, p) in enumerate(inspect.signature(func).parameters.items()):
        if i < skip or p.kind is p.VAR_POSITIONAL:
            continue
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
            continue
        params[name] = (
            {"required": True} if p.default is p.empty else {"default": json_default(p.default)}
        )
        if types and name in types:
            params[name] |= types[name]
    return params, var_kw


# A docstring's ``Args:`` entry: ``    name: description`` at the section's indent.
_ARG_LINE = re.compile(r"^(\s+)(\w+): (.*)$")
_QUOTED = re.compile(r'`"([\w-]+)"`')
_SCALARS = (
    (r"(positive )?(int|integer)", "int"),
    (r"(positive )?float", "float"),
    (r"(bool|boolean)", "bool"),
    (r"(str|string)", "str"),
)


# Arguments Keras takes more widely than its docstring says: no type for them.
LOOSER_THAN_DOCUMENTED = {
    "Rescaling": {"scale", "offset"},  # "Float", but per-channel lists work too
}


def doc_types(obj: Any) -> dict[str, Any]:
    """Argument types a Keras docstring states plainly (``units: Positive integer, ...``).

    Only the first sentence of each entry is read, and only when it starts with a
    type: ``int``, ``int or tuple/list of ...``, ``float``, ``bool``, ``string``
    (with its choices when it says ``either `"a"` or `"b"` ``). Anything vaguer
    ("Axis or axes ...", "Int, or tuple of 2 ints, or ...") gets no type.
    """
    types = {}
    looser = LOOSER_THAN_DOCUMENTED.get(getattr(obj, "__name__", ""), set())
    for name, text in _args_section(inspect.getdoc(obj) or "").items():
        if name not in looser and (found := _type_of(text)) is not None:
            types[name] = found
    return types


def _args_section(doc: str) -> dict[str, str]:
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "Args:"), None)
    entries: dict[str, str] = {}
    if start is None:
        return entries
    indent, name = None, None
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        indent = depth if indent is None else indent
        if depth < indent:
            break
        match = _ARG_LINE.match(line)
        if depth == indent and match:
            name = match.group(2)
            entries[name] = match.group(3)
        elif name:
            entries[name] += " " + line.strip()
    return entries


def _type_of(text: str) -> dict[str, Any] | None:
    sentence = re.split(r"\.(?:\s|$)", " ".join(text.split()), maxsplit=1)[0]
    low = re.sub(r"^(a|an|optional)\s+", "", sentence.lower())
    first = re.split(r"[,;:(]", low, maxsplit=1)[0].strip()
    if re.match(r"^(positive )?(int|integer)s? or (a )?(tuple|list)", first):
        return {"type": "ints"}
    alternatives = " or " in low.replace("(default) or", "")
    for pattern, kind in _SCALARS:
        match = re.match(rf"^{pattern}\b", first)
        if match is None:
            continue
        if kind == "str":
            choices = _QUOTED.findall(sentence)
            listed = len(choices) >= 2 and " or " in low
            return {"type": "str", **({"choices": choices} if listed else {})}
        if alternatives:
            return None
        return {"type": kind, **({"min": 1} if kind == "int" and match.group(1) else {})}
    return None


def constructor_args(cls: type) -> dict[str, Any]:
    """Every keyword a class's constructor accepts, following ``**kwargs`` up the MRO."""
    args: dict[str, Any] = {}
    types: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):  # a subclass's own docstring says it best
        types |= doc_types(klass)
    filled: set[str] = set()
    for depth, klass in enumerate(cls.__mro__):
        if klass.__name__ in _STOP_AT or "__init__" not in vars(klass):
            continue
        own, var_kw = params_of(klass.__init__, skip=1, types=types)
        for name, info in own.items():
            # A base class's required argument is one the subclass fills in itself
            # (LSTM passes RNN its ``cell``), so it is not the user's to give;
            # nor is one the subclass passes up (MaxPooling2D's ``pool_mode``).
            if depth == 0 or not (info.get("required") or name in filled):
                args.setdefault(name, info)
        filled |= _passed_to_super(klass)
        if not var_kw:
            return args
    import keras

    base, _ = params_of(keras.layers.Layer.__init__, skip=1)
    for name, info in base.items():
        args.setdefault(name, info)
    return args


def _passed_to_super(klass: type) -> set[str]:
    """Keywords ``klass.__init__`` passes to ``super().__init__`` itself."""
    import ast
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass.__init__)))
    except (OSError, TypeError, SyntaxError):
        return set()
    return {
        keyword.arg
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "__init__"
        for keyword in node.keywords
        if keyword.arg is not None
    }


def layer_entry(cls: type) -> dict[str, Any]:
    call, _ = params_of(cls.call, skip=1)
    return {"args": constructor_args(cls), "call": call}


def class_entries(module: Any, base: type) -> dict[str, Any]:
    entries = {}
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if inspect.isclass(obj) and issubclass(obj, base) and obj is not base:
            own, _ = params_of(obj.__init__, skip=1)
            entries[name] = {"args": own}
    return entries


def callback_entries(module: Any) -> dict[str, Any]:
    """The allowed callbacks' constructor arguments, with the types their docstrings state."""
    entries = {}
    for name in ALLOWED_CALLBACKS:
        cls = getattr(module, name)
        entries[name] = {"args": params_of(cls.__init__, skip=1, types=doc_types(cls))[0]}
    return entries


def build_catalog() -> dict[str, Any]:
    import keras

    layers = {}
    for name in sorted(dir(keras.layers)):
        obj = getattr(keras.layers, name)
        is_layer = inspect.isclass(obj) and issubclass(obj, keras.layers.Layer)
        if is_layer and name not in DENIED_LAYERS:
            layers[name] = layer_entry(obj)
    ops = {}
    for name in ALLOWED_OPS:
        function = getattr(keras.ops, name)
        ops[name] = {"args": params_of(function, types=doc_types(function))[0]}
    activations = sorted(
        n for n in dir(keras.activations) if not n.startswith("_") and n not in _NOT_ACTIVATIONS
    )
    return {
        "keras_version": keras.__version__,
        "layers": layers,
        "ops": ops,
        # Every public keras.ops name, so that "exists but not allowed" can be told apart.
        "all_ops": sorted(n for n in dir(keras.ops) if not n.startswith("_")),
        "activations": activations,
        "dtypes": _dtypes(),
        "initializers": class_entries(keras.initializers, keras.initializers.Initializer),
        "regularizers": class_entries(keras.regularizers, keras.regularizers.Regularizer),
        "constraints": class_entries(keras.constraints, keras.constraints.Constraint),
        "optimizers": class_entries(keras.optimizers, keras.optimizers.Optimizer),
        "losses": class_entries(keras.losses, keras.losses.Loss),
        "metrics": class_entries(keras.metrics, keras.metrics.Metric),
        "callbacks": callback_entries(keras.callbacks),
        "names": {
            "initializers": _function_names(keras.initializers),
            "regularizers": _function_names(keras.regularizers),
            "constraints": _function_names(keras.constraints),
            "optimizers": sorted(_OPTIMIZER_STRINGS),
            "losses": _registered_names("losses"),
            # compile() also resolves these two itself, by the loss in use.
            "metrics": sorted({*_registered_names("metrics"), "acc", "crossentropy", "ce"}),
        },
    }


_NOT_ACTIVATIONS = {"deserialize", "get", "serialize"}
# Lower-case names keras.optimizers.get accepts (it lower-cases the class name).
_OPTIMIZER_STRINGS = (
    "adadelta",
    "adafactor",
    "adagrad",
    "adam",
    "adamw",
    "adamax",
    "ftrl",
    "lamb",
    "lion",
    "nadam",
    "rmsprop",
    "sgd",
)


def _function_names(module: Any) -> list[str]:
    return sorted(
        n
        for n in dir(module)
        if not n.startswith("_") and n[0].islower() and n not in _NOT_ACTIVATIONS
    )


def _dtypes() -> list[str]:
    """Dtype names ``keras.Input`` accepts (``int`` is Keras's alias for int64)."""
    from keras.src.backend.common import dtypes

    return sorted({*dtypes.ALLOWED_DTYPES, "int"})


def _registered_names(kind: str) -> list[str]:
    """The lower-case identifiers ``keras.<kind>.get`` resolves (aliases like ``mse`` too)."""
    import importlib

    module = importlib.import_module(f"keras.src.{kind}")
    return sorted(k for k in module.ALL_OBJECTS_DICT if k[0].islower())


def render(catalog: dict[str, Any]) -> str:
    # Not sort_keys: argument order is signature order, and the first call argument
    # (the layer's main input) is found by position.
    return json.dumps(catalog, indent=1) + "\n"


def main() -> int:
    CATALOG_PATH.write_text(render(build_catalog()), encoding="utf-8")
    print(f"wrote {CATALOG_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
