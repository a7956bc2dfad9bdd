"""Shape rules for the allowlisted ``keras.ops`` functions.

Each rule computes what the op's ``compute_output_spec`` gives under Keras's
TensorFlow backend with ``floatx`` float32: the shape (batch axis included, ops
see it) and the dtype, promoted as ``keras.backend.result_type`` does. An argument
Keras would take in a way these rules do not follow (a tensor where a number is
expected, a bool as an axis, an exotic dtype) raises ``NoRule``: the node is left
to ``--build`` rather than guessed.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import catalog
from ..diagnostics import did_you_mean, written_as
from .registry import Inputs, NoRule, op
from .tensor import Shape, ShapeError, Tensor, axis_index, broadcast, compatible, show

FLOATX = "float32"

# ---------------------------------------------------------------- dtype promotion

# Keras's type promotion lattice (JAX's), each dtype to the dtypes just above it.
# `int` and `float` are the weak types of Python numbers. Complex dtypes sit above
# all of these and never change a result among them, so they are left out.
LATTICE: dict[str, tuple[str, ...]] = {
    "bool": ("int",),
    "int": ("uint8", "int8"),
    "uint8": ("int16", "uint16"),
    "uint16": ("int32", "uint32"),
    "uint32": ("int64", "uint64"),
    "uint64": ("float",),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": ("float",),
    "float": ("bfloat16", "float16"),
    "bfloat16": ("float32",),
    "float16": ("float32",),
    "float32": ("float64",),
    "float64": (),
}
# What a Python number is before weak typing, and the TensorFlow backend's 64-bit rule.
PYTHON_DTYPES = {int: "int64", float: "float32", bool: "bool"}
NARROWED = {"uint64": "uint32"}
DTYPES = frozenset(
    {*LATTICE, "string", "complex64", "complex128", "float8_e4m3fn", "float8_e5m2"}
) - {"int", "float"}


@functools.cache
def _above(dtype: str) -> frozenset[str]:
    """``dtype`` and every dtype it promotes to."""
    return frozenset({dtype}).union(*(_above(d) for d in LATTICE[dtype]))


def _least_upper_bound(dtypes: Iterable[str]) -> str:
    nodes = set(dtypes)
    if not nodes <= LATTICE.keys():
        raise NoRule  # complex, string, float8: outside what these rules promote
    common = frozenset.intersection(*(_above(d) for d in nodes))
    return next(d for d in common if common <= _above(d))


def result_type(*items: Any) -> str | None:
    """``keras.backend.result_type``: items are dtype names or the Python types
    ``int``/``float``/``bool`` (constant operands); None when a dtype is unknown."""
    if any(item is None for item in items):
        return None
    weak = [item in (int, float) for item in items]
    dtypes = [PYTHON_DTYPES.get(item, item) for item in items]
    if len(items) == 1:
        out, out_weak = dtypes[0], weak[0]
    elif len(set(dtypes)) == 1 and not all(weak):
        out, out_weak = dtypes[0], False
    elif all(weak):
        out, out_weak = _least_upper_bound(dtypes), True
    else:
        out = _least_upper_bound(
            _weak_kind(d) if w else d for d, w in zip(dtypes, weak, strict=True)
        )
        out_weak = out in ("int", "float")
    if out_weak and out != "bool":
        out = "int32" if out.startswith("int") else "uint32" if out[0] == "u" else FLOATX
    return NARROWED.get(out, out)


def _weak_kind(dtype: str) -> str:
    return "float" if "float" in dtype else "int"


def dtype_of(value: Any) -> Any:
    """What Keras promotes for an operand: a tensor's dtype, or a constant's type."""
    if isinstance(value, Tensor):
        return None if value.dtype is None else standard_dtype(value.dtype)
    if type(value) in PYTHON_DTYPES:
        return type(value)
    raise NoRule


def standard_dtype(dtype: Any, default: str | None = None) -> str | None:
    """``backend.standardize_dtype``: a spec may write ``int`` for the backend's int."""
    if dtype is None:
        return default
    if dtype == "int":
        return "int64"
    if not isinstance(dtype, str) or dtype not in DTYPES:
        hint = did_you_mean(str(dtype), sorted(DTYPES))
        raise ShapeError(f"unknown dtype {written_as(dtype)}", hint)
    return dtype


def int_like(dtype: str | None) -> bool:
    return dtype is not None and ("int" in dtype or dtype == "bool")


def accumulated(dtype: str | None) -> str | None:
    """The dtype ``sum``, ``prod`` and ``trace`` accumulate small integers in."""
    if dtype in ("bool", "int8", "int16"):
        return "int32"
    return "uint32" if dtype in ("uint8", "uint16") else dtype


def float_result(dtype: str | None) -> str | None:
    """``sqrt``, ``sin``, ``log`` ...: int64 becomes floatx, the rest promotes with float."""
    return FLOATX if dtype == "int64" else result_type(dtype, float)


# ---------------------------------------------------------------- arguments

# Parameters Keras passes to the operation as tensors; every other one is a plain value.
TENSOR_PARAMS = frozenset(
    {"x", "x1", "x2", "xs", "condition", "inputs", "indices", "weights", "fill_value"}
    | {"start_indices"}
)


@dataclass(frozen=True)
class Args:
    """An op's arguments by name: positional inputs, keyword inputs, then the spec's
    keyword arguments, over the catalog's defaults."""

    op: str
    values: Mapping[str, Any]

    @classmethod
    def bind(cls, name: str, inputs: Inputs, config: Mapping[str, Any]) -> Args:
        params = catalog.op_args(name)
        values = {k: p.get("default") for k, p in params.items()}
        values.update(zip(params, inputs.args, strict=False))  # catalog checks the count
        values.update(inputs.kwargs)
        values.update(config)
        _check_list_given(name, inputs)
        for key, value in values.items():
            if key not in TENSOR_PARAMS and _holds_tensor(value):
                raise NoRule
        return cls(name, values)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def tensor(self, name: str = "x") -> Tensor:
        value = self.values[name]
        if not isinstance(value, Tensor):
            raise NoRule
        return value

    def operand(self, name: str) -> Any:
        """A tensor or a constant number."""
        value = self.values[name]
        dtype_of(value)  # NoRule for anything else
        return value

    def tensors(self, name: str) -> list[Tensor]:
        value = self.values[name]
        if not isinstance(value, tuple) or not value:
            raise NoRule
        if not all(isinstance(t, Tensor) for t in value):
            raise NoRule
        return list(value)

    def int(self, name: str) -> int:
        return as_int(self.values[name])

    def ints(self, name: str) -> tuple[int, ...]:
        """An int or a list of ints, as a tuple."""
        return as_ints(self.values[name])


def _check_list_given(name: str, inputs: Inputs) -> None:
    """``{op: concatenate, inputs: [a, b]}`` passes ``b`` as the axis, which Keras refuses."""
    separate = len(inputs.args) == 2 and all(isinstance(v, Tensor) for v in inputs.args)
    if name in ("concatenate", "stack") and separate:
        raise ShapeError(
            "takes one list of tensors; received 2 separate tensors",
            "nest the list: `inputs: [[a, b]]`",
        )


def _holds_tensor(value: Any) -> bool:
    if isinstance(value, tuple):
        return any(_holds_tensor(v) for v in value)
    return isinstance(value, Tensor)


def as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise NoRule
    return value


def as_ints(value: Any) -> tuple[int, ...]:
    if isinstance(value, tuple):
        return tuple(as_int(v) for v in value)
    return (as_int(value),)


def shape_of(value: Any) -> Shape:
    return value.shape if isinstance(value, Tensor) else ()


def dims(x: Tensor) -> Shape:
    assert x.shape is not None
    return x.shape


def out(shape: Iterable[int | None], dtype: str | None) -> Tensor:
    """A result tensor; Keras refuses negative sizes."""
    shape = tuple(shape)
    if any(d is not None and d < 0 for d in shape):
        raise ShapeError(f"the result would have a negative size: {show(shape)}")
    return Tensor(shape, dtype)


def rule(*names: str) -> Callable[[Callable[[Args], Any]], Callable[[Args], Any]]:
    """Register ``family(args)`` as the rule of these ops."""

    def register(family: Callable[[Args], Any]) -> Callable[[Args], Any]:
        for name in names:
            op(name)(functools.partial(_apply, family, name))
        return family

    return register


def _apply(family: Callable[[Args], Any], name: str, inputs: Inputs, config: Mapping) -> Any:
    try:
        return family(Args.bind(name, inputs, config))
    except NoRule as e:
        raise NoRule(f"ops.{name}") from e


# ---------------------------------------------------------------- axes


def axis_of(axis: Any, shape: Shape, rank: int | None = None) -> int:
    """``canonicalize_axis``: an axis as an index into a shape of ``rank`` axes."""
    rank = len(shape) if rank is None else rank
    index = axis_index(as_int(axis), rank)
    if index is None:
        raise ShapeError(f"axis {axis} is out of range for input of shape {show(shape)}")
    return index


def axes_of(axis: Any, shape: Shape) -> tuple[int, ...]:
    return tuple(axis_of(a, shape) for a in as_ints(axis))


def distinct_axes(axis: Any, shape: Shape) -> tuple[int, ...]:
    """Axes to remove: Keras deletes a repeated one twice, which these rules leave alone."""
    axes = axes_of(axis, shape)
    if len(set(axes)) != len(axes):
        raise NoRule
    return axes


def check_axes(axis: Any, x: Tensor) -> None:
    if axis is not None:
        axes_of(axis, dims(x))


def reduced(shape: Shape, axis: Any, keepdims: Any) -> Shape:
    """``reduce_shape``."""
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    axes = distinct_axes(axis, shape)
    result = list(shape)
    if keepdims:
        for a in axes:
            result[a] = 1
    else:
        for a in sorted(axes, reverse=True):
            del result[a]
    return tuple(result)


def flattened(shape: Shape) -> Shape:
    return (None,) if None in shape else (math.prod(shape),)  # type: ignore[arg-type]


def replaced(shape: Shape, index: int, size: int | None) -> Shape:
    return (*shape[:index], size, *shape[index + 1 :])


def broadcast_all(*operands: Any) -> Shape:
    """The broadcast of several operands' shapes, refused as Keras refuses it."""
    shape = shape_of(operands[0])
    for i, value in enumerate(operands[1:], start=1):
        merged = broadcast(shape, shape_of(value))
        if merged is None:
            before = f"input 0 has shape {show(shape)}"
            if i > 1:
                before = f"inputs 0 to {i - 1} broadcast to {show(shape)}"
            other = show(shape_of(value))
            raise ShapeError(f"{before}, input {i} has {other}; they do not broadcast")
        shape = merged
    return shape


# ---------------------------------------------------------------- elementwise

KEEP_DTYPE = (
    "abs", "absolute", "negative", "sign", "round", "nan_to_num", "tril", "triu", "erf",
    "rsqrt", "elu", "gelu", "hard_sigmoid", "hard_silu", "leaky_relu", "log_sigmoid",
    "relu", "relu6", "selu", "sigmoid", "silu", "softplus", "softsign",
)  # fmt: skip
TO_FLOAT = (
    "arccos", "arcsin", "arctan", "cos", "cosh", "sin", "sinh", "tan", "tanh",
    "ceil", "floor", "log", "log1p", "sqrt",
)  # fmt: skip
UNARY_DTYPES: dict[str, Callable[[str | None], str | None]] = {
    **{name: lambda d: d for name in KEEP_DTYPE},
    **{name: float_result for name in TO_FLOAT},
    "exp": lambda d: FLOATX if int_like(d) else d,
    "expm1": lambda d: FLOATX if int_like(d) else d,
    "square": lambda d: "int32" if d == "bool" else d,
    "clip": lambda d: "int32" if d == "bool" else d,
    "reciprocal": lambda d: FLOATX,
    "isinf": lambda d: "bool",
    "isnan": lambda d: "bool",
    "logical_not": lambda d: "bool",
}


@rule(*UNARY_DTYPES)
def unary(a: Args) -> Tensor:
    x = a.tensor()
    return Tensor(x.shape, UNARY_DTYPES[a.op](dtype_of(x)))


@rule("softmax", "log_softmax", "normalize", "flip", "roll")
def along_axes(a: Args) -> Tensor:
    x = a.tensor()
    check_axes(a["axis"], x)
    return Tensor(x.shape, FLOATX if a.op == "normalize" else dtype_of(x))


@rule("cast", "ones_like", "zeros_like", "full_like")
def with_dtype(a: Args) -> Tensor:
    x = a.tensor()
    default = FLOATX if a.op == "cast" else dtype_of(x)
    return Tensor(x.shape, standard_dtype(a["dtype"], default))


# ---------------------------------------------------------------- broadcasting

ARITHMETIC = (
    "add", "subtract", "multiply", "maximum", "minimum", "power", "floor_divide", "mod",
    "divide", "true_divide",
)  # fmt: skip
COMPARISONS = (
    "equal", "not_equal", "greater", "less", "logical_and", "logical_or", "logical_xor",
)  # fmt: skip


@rule(*ARITHMETIC)
def arithmetic(a: Args) -> Tensor:
    x1, x2 = a.operand("x1"), a.operand("x2")
    shape = broadcast_all(x1, x2)
    divides = (float,) if a.op in ("divide", "true_divide") else ()
    dtype = result_type(dtype_of(x1), dtype_of(x2), *divides)
    if a.op == "mod" and dtype == "bool":
        dtype = "int32"
    return Tensor(shape, dtype)


@rule(*COMPARISONS)
def comparison(a: Args) -> Tensor:
    return Tensor(broadcast_all(a.operand("x1"), a.operand("x2")), "bool")


@rule("where")
def where(a: Args) -> Tensor:
    condition = a.operand("condition")
    if (a["x1"] is None) != (a["x2"] is None):
        raise ShapeError("give both `x1` and `x2`, or neither")
    if a["x1"] is None:  # Keras types the missing operands as its int
        return Tensor(shape_of(condition), "int64")
    x1, x2 = a.operand("x1"), a.operand("x2")
    return Tensor(broadcast_all(condition, x1, x2), result_type(dtype_of(x1), dtype_of(x2)))


# ---------------------------------------------------------------- reductions

REDUCED_DTYPES: dict[str, Callable[[str | None], str | None]] = {
    "all": lambda d: "bool",
    "any": lambda d: "bool",
    "argmax": lambda d: "int32",
    "argmin": lambda d: "int32",
    "max": lambda d: d,
    "min": lambda d: d,
    "mean": lambda d: result_type(d, "float32") if int_like(d) else d,
    "sum": lambda d: accumulated(result_type(d)),
    "std": lambda d: FLOATX if int_like(d) else d,
    "var": lambda d: result_type(d, float),
    "logsumexp": lambda d: FLOATX,
}


@rule(*REDUCED_DTYPES)
def reduction(a: Args) -> Tensor:
    x = a.tensor()
    shape = reduced(dims(x), a["axis"], a["keepdims"])
    return Tensor(shape, REDUCED_DTYPES[a.op](dtype_of(x)))


@rule("prod")
def prod(a: Args) -> Tensor:
    x = a.tensor()
    dtype = standard_dtype(a["dtype"]) or accumulated(dtype_of(x))
    return Tensor(reduced(dims(x), a["axis"], a["keepdims"]), dtype)


NORM_ORDERS = (None, "fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


@rule("norm")
def norm(a: Args) -> Tensor:
    x, order = a.tensor(), a["ord"]
    if isinstance(order, str) and order not in ("fro", "nuc"):
        raise ShapeError(f"`ord` must be 'fro' or 'nuc' when a string; received {order!r}")
    count = len(dims(x)) if a["axis"] is None else len(as_ints(a["axis"]))
    if count == 1 and isinstance(order, str):
        raise ShapeError(f"`ord` {order!r} is for matrix norms; the norm is over one axis")
    if count == 2 and order not in NORM_ORDERS:
        raise ShapeError(f"`ord` {order!r} is not a matrix norm")
    dtype = dtype_of(x)
    return Tensor(reduced(dims(x), a["axis"], a["keepdims"]), FLOATX if int_like(dtype) else dtype)


@rule("average")
def average(a: Args) -> Tensor:
    x, weights, axis = a.tensor(), a["weights"], a["axis"]
    dtype = result_type(dtype_of(x), float, *([] if weights is None else [dtype_of(weights)]))
    if axis is None:
        shape: Shape = ()
    else:
        index = axis_of(axis, dims(x))
        shape = reduced(dims(x), (index,), False)
    if weights is None:
        return Tensor(shape, dtype)
    w = a.tensor("weights")
    along = axis is not None and compatible((dims(x)[index],), dims(w))
    if not (along or compatible(dims(x), dims(w))):
        what = "the input's shape" if axis is None else f"the input's shape or its axis {axis}"
        raise ShapeError(
            f"`weights` has shape {show(w.shape)}, the input {show(x.shape)}; "
            f"`weights` must match {what}"
        )
    return Tensor(shape, dtype)


@rule("cumsum", "cumprod", "sort", "argsort")
def along_one_axis(a: Args) -> Tensor:
    """Ops along one axis that flatten their input when it is None."""
    x, axis = a.tensor(), a["axis"]
    if axis is not None:
        axis_of(axis, dims(x))
    shape = flattened(dims(x)) if axis is None else dims(x)
    if a.op in ("sort", "argsort"):
        return Tensor(shape, "int32" if a.op == "argsort" else dtype_of(x))
    dtype = standard_dtype(a["dtype"]) or dtype_of(x)
    return Tensor(shape, "int32" if dtype == "bool" else dtype)


# ---------------------------------------------------------------- shape ops


@rule("reshape")
def reshape(a: Args) -> Tensor:
    x, shape = a.tensor(), dims(a.tensor())
    new = tuple(None if d is None else as_int(d) for d in _as_tuple(a["newshape"]))
    if any(d is not None and d < -1 for d in new) or new.count(-1) > 1:
        raise ShapeError(f"`newshape` {list(new)} may hold one -1 and no other negative size")
    if None in shape or None in new:
        return Tensor(tuple(None if d == -1 else d for d in new), dtype_of(x))
    total = math.prod(shape)  # type: ignore[arg-type]
    known = math.prod(d for d in new if d != -1)  # type: ignore[misc]
    if -1 in new and known and total % known == 0:
        return Tensor(tuple(total // known if d == -1 else d for d in new), dtype_of(x))
    if -1 in new or known != total:
        raise ShapeError(f"cannot reshape {show(shape)} ({total} values) to {list(new)}")
    return Tensor(new, dtype_of(x))


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


@rule("transpose")
def transpose(a: Args) -> Tensor:
    x, axes = a.tensor(), a["axes"]
    shape = dims(x)
    if axes is None:
        return Tensor(shape[::-1], dtype_of(x))
    if not isinstance(axes, tuple):
        raise NoRule
    indices = tuple(axis_of(i, shape) for i in as_ints(axes))
    if len(indices) != len(shape) or len(set(indices)) != len(shape):
        raise ShapeError(f"`axes` {list(as_ints(axes))} is not a permutation of {show(shape)}")
    return Tensor(tuple(shape[i] for i in indices), dtype_of(x))


@rule("expand_dims")
def expand_dims(a: Args) -> Tensor:
    x, axes = a.tensor(), a.ints("axis")
    rank = len(dims(x)) + len(axes)
    indices = {axis_of(i, dims(x), rank) for i in axes}
    if len(indices) != len(axes):
        raise ShapeError(f"`axis` {list(axes)} names an axis twice")
    rest = iter(dims(x))
    return Tensor(tuple(1 if i in indices else next(rest) for i in range(rank)), dtype_of(x))


@rule("squeeze")
def squeeze(a: Args) -> Tensor:
    x, shape = a.tensor(), dims(a.tensor())
    if a["axis"] is None:
        return Tensor(tuple(d for d in shape if d != 1), dtype_of(x))
    indices = distinct_axes(a["axis"], shape)
    for axis, i in zip(a.ints("axis"), indices, strict=True):
        if shape[i] != 1:
            raise ShapeError(f"cannot squeeze axis {axis} of {show(shape)}: its size is not 1")
    return Tensor(tuple(d for i, d in enumerate(shape) if i not in indices), dtype_of(x))


@rule("concatenate")
def concatenate(a: Args) -> Tensor:
    xs = a.tensors("xs")
    first = dims(xs[0])
    if a["axis"] is None:
        raise ShapeError("`axis` cannot be None")
    axis = axis_of(a["axis"], first)
    total: int | None = 0
    for i, x in enumerate(xs):
        same_rank = len(dims(x)) == len(first)
        if not same_rank or not compatible(replaced(dims(x), axis, 0), replaced(first, axis, 0)):
            raise ShapeError(
                f"input 0 has shape {show(first)}, input {i} has {show(x.shape)}; "
                f"they must match except on axis {a['axis']}"
            )
        size = dims(x)[axis]
        total = None if total is None or size is None else total + size
    return Tensor(replaced(first, axis, total), result_type(*(dtype_of(x) for x in xs)))


@rule("stack")
def stack(a: Args) -> Tensor:
    xs = a.tensors("x")
    first = dims(xs[0])
    axis = axis_of(a["axis"], first, len(first) + 1)
    for i, x in enumerate(xs):
        if not compatible(dims(x), first):
            raise ShapeError(
                f"input 0 has shape {show(first)}, input {i} has {show(x.shape)}; "
                "stacked tensors must have the same shape"
            )
    shape = (*first[:axis], len(xs), *first[axis:])
    return Tensor(shape, result_type(*(dtype_of(x) for x in xs)))


@rule("split")
def split(a: Args) -> tuple[Tensor, ...]:
    x, sections = a.tensor(), a["indices_or_sections"]
    shape = dims(x)
    axis = axis_of(a["axis"], shape)
    size = shape[axis]
    if not isinstance(sections, tuple):
        count = as_int(sections)
        if count < 1:
            raise NoRule
        if size is not None and size % count:
            raise ShapeError(
                f"axis {a['axis']} of {show(shape)} has size {size}, "
                f"which does not split into {count} equal parts"
            )
        part = None if size is None else size // count
        return tuple(Tensor(replaced(shape, axis, part), dtype_of(x)) for _ in range(count))
    bounds = [0, *as_ints(sections), size]
    sizes = [None if b is None or e is None else e - b for b, e in itertools.pairwise(bounds)]
    if any(s is not None and s < 0 for s in sizes):
        raise ShapeError(
            f"split points {list(sections)} do not fit axis {a['axis']} of {show(shape)}"
        )
    return tuple(Tensor(replaced(shape, axis, s), dtype_of(x)) for s in sizes)


@rule("unstack")
def unstack(a: Args) -> tuple[Tensor, ...]:
    x = a.tensor()
    shape = dims(x)
    axis = axis_of(a["axis"], shape)
    count = shape[axis] if a["num"] is None else a.int("num")
    if count is None:
        raise ShapeError(f"axis {a['axis']} of {show(shape)} has unknown size; give `num`")
    if count < 1:
        raise NoRule
    return tuple(Tensor(shape[:axis] + shape[axis + 1 :], dtype_of(x)) for _ in range(count))


@rule("slice")
def slice_(a: Args) -> Tensor:
    x, start, sizes = a.tensor("inputs"), a["start_indices"], a["shape"]
    shape = dims(x)
    if not isinstance(sizes, tuple) or not isinstance(start, (tuple, Tensor)):
        raise NoRule
    sizes = as_ints(sizes)
    if len(sizes) != len(shape):
        raise ShapeError(f"`shape` {list(sizes)} does not have one size per axis of {show(shape)}")
    if isinstance(start, tuple) and len(start) != len(shape):
        raise ShapeError(
            f"`start_indices` {list(start)} do not have one start per axis of {show(shape)}"
        )
    result = []
    for i, (dim, size) in enumerate(zip(shape, sizes, strict=True)):
        if size != -1:
            result.append(size)
        elif isinstance(start, Tensor) or dim is None:
            result.append(None)
        else:
            result.append(dim - as_int(start[i]))
    return out(result, dtype_of(x))


@rule("repeat")
def repeat(a: Args) -> Tensor:
    x, repeats = a.tensor(), a.ints("repeats")
    shape = dims(x)
    if a["axis"] is None:
        if None in shape:
            return Tensor((None,), dtype_of(x))
        shape, axis = flattened(shape), 0
    else:
        axis = axis_of(a["axis"], shape)
    size = shape[axis]
    if size is not None and len(repeats) not in (1, size):
        raise ShapeError(
            f"`repeats` has {len(repeats)} counts for {size} values along the axis; "
            f"input {show(x.shape)}"
        )
    if size is not None:
        size = size * repeats[0] if len(repeats) == 1 else sum(repeats)
    return out(replaced(shape, axis, size), dtype_of(x))


@rule("tile")
def tile(a: Args) -> Tensor:
    x, repeats = a.tensor(), a.ints("repeats")
    shape = dims(x)
    rank = max(len(shape), len(repeats))
    shape = (1,) * (rank - len(shape)) + shape
    repeats = (1,) * (rank - len(repeats)) + repeats
    return out(
        (None if d is None else d * r for d, r in zip(shape, repeats, strict=True)), dtype_of(x)
    )


@rule("moveaxis")
def moveaxis(a: Args) -> Tensor:
    x, source, destination = a.tensor(), a.ints("source"), a.ints("destination")
    shape = dims(x)
    if len(source) != len(destination):
        raise ShapeError(
            f"`source` {list(source)} and `destination` {list(destination)} differ in length"
        )
    sources = tuple(axis_of(i, shape) for i in source)
    destinations = tuple(axis_of(i, shape) for i in destination)
    if len(set(sources)) != len(sources):
        raise NoRule  # Keras may read a moved axis's marker as a size, or fail
    if len(set(destinations)) != len(destinations):
        raise ShapeError(f"`destination` {list(destination)} names an axis twice")
    moved = dict(zip(destinations, sources, strict=True))
    rest = iter(d for i, d in enumerate(shape) if i not in sources)
    result = (shape[moved[i]] if i in moved else next(rest) for i in range(len(shape)))
    return Tensor(tuple(result), dtype_of(x))


@rule("swapaxes")
def swapaxes(a: Args) -> Tensor:
    x = a.tensor()
    shape = list(dims(x))
    i, j = axis_of(a["axis1"], dims(x)), axis_of(a["axis2"], dims(x))
    shape[i], shape[j] = shape[j], shape[i]
    return Tensor(tuple(shape), dtype_of(x))


def two_axes(a: Args, x: Tensor) -> tuple[int, int]:
    i, j = axis_of(a["axis1"], dims(x)), axis_of(a["axis2"], dims(x))
    if i == j:
        raise ShapeError(f"`axis1` ({a['axis1']}) and `axis2` ({a['axis2']}) are the same axis")
    return i, j


@rule("diagonal")
def diagonal(a: Args) -> Tensor:
    x, offset = a.tensor(), a.int("offset")
    i, j = two_axes(a, x)
    rows, columns = dims(x)[i], dims(x)[j]
    rest = tuple(d for k, d in enumerate(dims(x)) if k not in (i, j))
    if rows is None or columns is None:
        return Tensor((*rest, None), dtype_of(x))
    remaining = columns - offset if offset > 0 else rows + offset
    return Tensor((*rest, max(0, min(remaining, rows, columns))), dtype_of(x))


@rule("trace")
def trace(a: Args) -> Tensor:
    x = a.tensor()
    i, j = two_axes(a, x)
    rest = tuple(d for k, d in enumerate(dims(x)) if k not in (i, j))
    return Tensor(rest, accumulated(dtype_of(x)))


@rule("take")
def take(a: Args) -> Tensor:
    x, indices = a.tensor(), a["indices"]
    if isinstance(indices, Tensor):
        picked = dims(indices)
    elif isinstance(indices, tuple):
        picked = (len(as_ints(indices)),)
    else:
        as_int(indices)  # one index picks one slice
        picked = ()
    if a["axis"] is None:
        return Tensor(picked, dtype_of(x))
    axis = axis_of(a["axis"], dims(x))
    return Tensor(dims(x)[:axis] + picked + dims(x)[axis + 1 :], dtype_of(x))


@rule("take_along_axis")
def take_along_axis(a: Args) -> Tensor:
    x, indices = a.tensor(), a.tensor("indices")
    shape = flattened(dims(x)) if a["axis"] is None else dims(x)
    if len(shape) != len(dims(indices)):
        raise ShapeError(
            f"the input has shape {show(shape)}{' once flattened' if a['axis'] is None else ''}, "
            f"`indices` {show(indices.shape)}; "
            "they must have the same rank"
        )
    axis = 0 if a["axis"] is None else axis_of(a["axis"], shape)
    return Tensor(
        broadcast_all(Tensor(replaced(shape, axis, dims(indices)[axis])), indices), dtype_of(x)
    )


# ---------------------------------------------------------------- products


@rule("matmul")
def matmul(a: Args) -> Tensor:
    x1, x2 = a.tensor("x1"), a.tensor("x2")
    s1, s2 = dims(x1), dims(x2)
    if not s1 or not s2:
        raise ShapeError(
            f"input 0 has shape {show(s1)}, input 1 has {show(s2)}; matmul needs rank 1 or more"
        )
    m1 = (1, *s1) if len(s1) == 1 else s1
    m2 = (*s2, 1) if len(s2) == 1 else s2
    if m1[-1] is not None and m2[-2] is not None and m1[-1] != m2[-2]:
        raise ShapeError(
            f"input 0 has shape {show(s1)}, input 1 has {show(s2)}; the last axis of "
            "input 0 must match the second-to-last of input 1"
        )
    batch = broadcast(m1[:-2], m2[:-2])
    if batch is None:
        raise ShapeError(
            f"input 0 has shape {show(s1)}, input 1 has {show(s2)}; "
            "their leading axes do not broadcast"
        )
    shape = [*batch, m1[-2], m2[-1]]
    if len(s1) == 1:
        del shape[-2]
    if len(s2) == 1:
        del shape[-1]
    d1, d2 = dtype_of(x1), dtype_of(x2)
    return Tensor(tuple(shape), "int32" if d1 == d2 == "int8" else result_type(d1, d2))


@rule("dot")
def dot(a: Args) -> Tensor:
    x1, x2 = a.operand("x1"), a.operand("x2")
    s1, s2 = shape_of(x1), shape_of(x2)
    dtype = result_type(dtype_of(x1), dtype_of(x2))
    if not s1 or not s2:
        return Tensor(broadcast_all(x1, x2), dtype)
    if len(s1) == 1 and len(s2) == 1:
        return Tensor((), dtype)
    inner = s2[0] if len(s2) == 1 else s2[-2]
    if s1[-1] != inner and (len(s2) == 1 or None not in (s1[-1], inner)):
        which = "first" if len(s2) == 1 else "second-to-last"
        raise ShapeError(
            f"input 0 has shape {show(s1)}, input 1 has {show(s2)}; the last axis of "
            f"input 0 must match the {which} of input 1"
        )
    return Tensor(s1[:-1] + s2[:-2] + s2[-1:] if len(s2) > 1 else s1[:-1], dtype)


@rule("tensordot")
def tensordot(a: Args) -> Tensor:
    x1, x2, axes = a.operand("x1"), a.operand("x2"), a["axes"]
    s1, s2 = shape_of(x1), shape_of(x2)
    dtype = result_type(dtype_of(x1), dtype_of(x2))
    if not isinstance(axes, tuple):
        count = as_int(axes)
        return Tensor(s1 + s2 if count <= 0 else s1[:-count] + s2[count:], dtype)
    if len(axes) != 2 or not all(isinstance(ax, tuple) for ax in axes):
        raise NoRule
    a1, a2 = (
        tuple(axis_of(i, s) for i in as_ints(ax)) for ax, s in zip(axes, (s1, s2), strict=True)
    )
    picked1, picked2 = tuple(s1[i] for i in a1), tuple(s2[i] for i in a2)
    if not compatible(picked1, picked2):
        raise ShapeError(
            f"input 0 has shape {show(s1)}, input 1 has {show(s2)}; the summed axes "
            f"have sizes {show(picked1)} and {show(picked2)}"
        )
    rest1 = tuple(d for i, d in enumerate(s1) if i not in a1)
    return Tensor(rest1 + tuple(d for i, d in enumerate(s2) if i not in a2), dtype)


@rule("outer")
def outer(a: Args) -> Tensor:
    x1, x2 = a.operand("x1"), a.operand("x2")
    size1, size2 = (flattened(shape_of(x) or (1,))[0] for x in (x1, x2))
    return Tensor((size1, size2), result_type(dtype_of(x1), dtype_of(x2)))


@rule("cross")
def cross(a: Args) -> Tensor:
    x1, x2 = a.tensor("x1"), a.tensor("x2")
    given = a["axis"]
    names = ("axisa", "axisb", "axisc")
    axis1, axis2, axis3 = (a[n] if given is None else given for n in names)
    i, j = axis_of(axis1, dims(x1)), axis_of(axis2, dims(x2))
    size1, size2 = dims(x1)[i], dims(x2)[j]
    rest1, rest2 = dims(x1)[:i] + dims(x1)[i + 1 :], dims(x2)[:j] + dims(x2)[j + 1 :]
    shape = broadcast_all(Tensor(rest1), Tensor(rest2))
    for n, size in enumerate((size1, size2)):
        if size not in (None, 2, 3):
            shape_n = show((x1, x2)[n].shape)
            raise ShapeError(
                f"input {n} has shape {shape_n}: {size} components; cross needs 2 or 3"
            )
    vector = (3,) if 3 in (size1, size2) else ()
    k = axis_of(axis3, shape, len(shape) + len(vector))
    return Tensor(shape[:k] + vector + shape[k:], result_type(dtype_of(x1), dtype_of(x2)))


# ---------------------------------------------------------------- nn and math


@rule("one_hot")
def one_hot(a: Args) -> Tensor:
    x, classes, axis = a.tensor(), a.int("num_classes"), a.int("axis")
    shape = list(dims(x))
    if axis == -1:
        shape.append(classes)
    elif 0 <= axis < len(shape):
        shape.insert(axis, classes)
    else:
        raise ShapeError(
            f"`axis` must be -1 or in [0, {len(shape)}) for input {show(x.shape)}; received {axis}"
        )
    return out(shape, standard_dtype(a["dtype"], FLOATX))


@rule("top_k")
def top_k(a: Args) -> tuple[Tensor, Tensor]:
    x, k = a.tensor(), a.int("k")
    if not dims(x):
        raise ShapeError("the input has shape (); top_k needs an axis to pick from")
    shape = out((*dims(x)[:-1], k), dtype_of(x)).shape
    return Tensor(shape, dtype_of(x)), Tensor(shape, "int32")
