"""Shape rules of the ``keras.ops`` functions: worked examples, then Keras as the oracle.

The examples pin exact shapes, dtypes and messages. The differential tests draw an
op, input shapes and dtypes (compatible or not) and arguments, write the spec, and
check that static inference says what Keras builds, or refuses the same node.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import keras
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import keraspec
from keraspec import api, shapes
from keraspec.shapes.ops import result_type
from keraspec.shapes.registry import Inputs
from shape_oracle import assert_same_as_keras, infer_node

pytestmark = [
    pytest.mark.keras,
    pytest.mark.filterwarnings("ignore:You are using a softmax over axis:UserWarning"),
]

DTYPES = (
    "float16", "float32", "float64", "bfloat16", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "bool", "int",
)  # fmt: skip
FLOATS = ("float16", "float32", "float64", "bfloat16")
DIMS = (1, 2, 3, 4, 6)


def spec_text(inputs: dict[str, tuple[Any, tuple, str]], nodes: dict, outputs: str) -> str:
    lines = ["keraspec: 1", "name: m", "inputs:"]
    for name, (batch, dims, dtype) in inputs.items():
        decl = {"shape": list(dims), "dtype": dtype}
        if batch is not None:
            decl["batch_size"] = batch
        lines.append(f"  {name}: {json.dumps(decl)}")
    lines += ["nodes:", *(f"  {k}: {json.dumps(v)}" for k, v in nodes.items())]
    lines += [f"outputs: [{outputs}]", ""]
    return "\n".join(lines)


def same_as_keras_or_reject(text: str) -> None:
    """The oracle, on a drawn spec the checks before shapes accept; the others (an argument
    given twice, E222, or of a wrong type, E227...) are no cases: Hypothesis draws again."""
    spec = api.loads(text)
    if any(d.is_error and d.code != "E600" for d in api.validate(spec)):
        reject()
    assert_same_as_keras(spec)


# ---------------------------------------------------------------- worked examples


def one_node(inputs: str, node: str, outputs: str = "y") -> str:
    """A spec whose node `y` sits at line 5, column 3."""
    return f"keraspec: 1\nname: m\ninputs: {inputs}\nnodes:\n  y: {node}\noutputs: [{outputs}]\n"


A = "{a: {shape: [4, 6], dtype: %s}}"
AB = "{a: {shape: [4, 6], dtype: %s}, b: {shape: [%s], dtype: %s}}"
INFERRED = {
    "int8 + float16 is float16": (
        AB % ("int8", "6", "float16"),
        "{op: add, inputs: [a, b]}",
        [((None, 4, 6), "float16")],
    ),
    "uint8 + int8 is int16": (
        AB % ("uint8", "1, 6", "int8"),
        "{op: subtract, inputs: [a, b]}",
        [((None, 4, 6), "int16")],
    ),
    "a Python float makes int32 float32": (
        A % "int32",
        "{op: multiply, inputs: [a, 0.5]}",
        [((None, 4, 6), "float32")],
    ),
    "a Python int keeps int8": (A % "int8", "{op: add, inputs: [2, a]}", [((None, 4, 6), "int8")]),
    "division of ints is float32": (
        AB % ("int32", "6", "int32"),
        "{op: divide, inputs: [a, b]}",
        [((None, 4, 6), "float32")],
    ),
    "comparisons give bool": (
        AB % ("float32", "4, 1", "int32"),
        "{op: greater, inputs: [a, b]}",
        [((None, 4, 6), "bool")],
    ),
    "sqrt of int64 is floatx": (A % "int64", "{op: sqrt, inputs: a}", [((None, 4, 6), "float32")]),
    "sqrt keeps float16": (A % "float16", "{op: sqrt, inputs: a}", [((None, 4, 6), "float16")]),
    "`int` is the backend's int64": (A % "int", "{op: relu, inputs: a}", [((None, 4, 6), "int64")]),
    "mean of ints is float32": (
        A % "int32",
        "{op: mean, inputs: a, axis: [1, -1]}",
        [((None,), "float32")],
    ),
    "sum accumulates int8 in int32": (
        A % "int8",
        "{op: sum, inputs: a, axis: 1, keepdims: true}",
        [((None, 1, 6), "int32")],
    ),
    "argmax gives int32": (
        A % "float32",
        "{op: argmax, inputs: a, axis: -1}",
        [((None, 4), "int32")],
    ),
    "reshape finds -1 when the batch is known": (
        "{a: {shape: [4, 6], batch_size: 2}}",
        "{op: reshape, inputs: a, newshape: [-1, 8]}",
        [((6, 8), "float32")],
    ),
    "reshape with an unknown batch": (
        A % "float32",
        "{op: reshape, inputs: a, newshape: [-1, 8, 3]}",
        [((None, 8, 3), "float32")],
    ),
    "transpose reverses by default": (
        A % "bool",
        "{op: transpose, inputs: a}",
        [((6, 4, None), "bool")],
    ),
    "concatenate promotes and adds sizes": (
        AB % ("int32", "4, 2", "float16"),
        "{op: concatenate, inputs: [[a, b]], axis: -1}",
        [((None, 4, 8), "float16")],
    ),
    "split at points": (
        A % "float32",
        "{op: split, inputs: a, indices_or_sections: [1, 4], axis: 2}",
        [((None, 4, 1), "float32"), ((None, 4, 3), "float32"), ((None, 4, 2), "float32")],
        '"y[0]"',
    ),
    "top_k gives values and int32 indices": (
        A % "float16",
        "{op: top_k, inputs: a, k: 2}",
        [((None, 4, 2), "float16"), ((None, 4, 2), "int32")],
        '"y[0]", "y[1]"',
    ),
    "one_hot is floatx by default": (
        "{a: {shape: [5], dtype: int32}}",
        "{op: one_hot, inputs: a, num_classes: 3}",
        [((None, 5, 3), "float32")],
    ),
    "matmul of int8 is int32": (
        AB % ("int8", "6, 2", "int8"),
        "{op: matmul, inputs: [a, b]}",
        [((None, 4, 2), "int32")],
    ),
    "where with a condition only": (
        "{c: {shape: [3], dtype: bool}}",
        "{op: where, inputs: c}",
        [((None, 3), "int64")],
    ),
    "tensordot over chosen axes": (
        AB % ("float32", "6, 4", "float64"),
        "{op: tensordot, inputs: [a, b], axes: [[1, 2], [2, 1]]}",
        [((None, None), "float64")],
    ),
    "dot with a vector": (
        "{a: {shape: [4, 6]}, b: {shape: [], batch_size: 6}}",
        "{op: dot, inputs: [a, b]}",
        [((None, 4), "float32")],
    ),
    "a matrix norm with ord .inf": (
        A % "int32",
        "{op: norm, inputs: a, ord: .inf, axis: [1, 2]}",
        [((None,), "float32")],
    ),
    "where with constants as arguments": (
        "{c: {shape: [3], dtype: bool}}",
        "{op: where, inputs: c, x1: 1.0, x2: 0}",
        [((None, 3), "float32")],
    ),
}


@pytest.mark.parametrize("case", INFERRED.values(), ids=list(INFERRED))
def test_inferred_shapes_and_dtypes(case: tuple) -> None:
    text = one_node(*case[:2], *case[3:])
    node = infer_node(text)
    assert [(t.shape, t.dtype) for t in node.tensors] == case[2]
    assert_same_as_keras(text)


REFUSED = {
    "add": (
        "{a: {shape: [8]}, b: {shape: [4]}}",
        "{op: add, inputs: [a, b]}",
        "input 0 has shape (None, 8), input 1 has (None, 4); they do not broadcast",
    ),
    "where": (
        "{c: {shape: [8], dtype: bool}, b: {shape: [4]}}",
        "{op: where, inputs: [c, 1.0, b]}",
        "inputs 0 to 1 broadcast to (None, 8), input 2 has (None, 4); they do not broadcast",
    ),
    "where, with one operand": (
        "{c: {shape: [8], dtype: bool}}",
        "{op: where, inputs: [c, 1.0]}",
        "give both `x1` and `x2`, or neither",
    ),
    "softmax": (
        "{a: {shape: [4]}}",
        "{op: softmax, inputs: a, axis: 2}",
        "axis 2 is out of range for input of shape (None, 4)",
    ),
    "reshape": (
        "{a: {shape: [3, 4], batch_size: 2}}",
        "{op: reshape, inputs: a, newshape: [5, -1]}",
        "cannot reshape (2, 3, 4) (24 values) to [5, -1]",
    ),
    "concatenate": (
        "{a: {shape: [3, 4]}, b: {shape: [2, 5]}}",
        "{op: concatenate, inputs: {xs: [a, b]}, axis: 1}",
        "input 0 has shape (None, 3, 4), input 1 has (None, 2, 5); "
        "they must match except on axis 1",
    ),
    "stack": (
        "{a: {shape: [4]}, b: {shape: [4]}}",
        "{op: stack, inputs: [a, b]}",
        "takes one list of tensors; received 2 separate tensors",
    ),
    "matmul": (
        "{a: {shape: [3, 4]}, b: {shape: [5, 2]}}",
        "{op: matmul, inputs: [a, b]}",
        "input 0 has shape (None, 3, 4), input 1 has (None, 5, 2); the last axis of "
        "input 0 must match the second-to-last of input 1",
    ),
    "squeeze": (
        "{a: {shape: [1, 3]}}",
        "{op: squeeze, inputs: a, axis: [1, 2]}",
        "cannot squeeze axis 2 of (None, 1, 3): its size is not 1",
    ),
    "split": (
        "{a: {shape: [5]}}",
        "{op: split, inputs: a, indices_or_sections: 2, axis: -1}",
        "axis -1 of (None, 5) has size 5, which does not split into 2 equal parts",
        '"y[0]"',
    ),
    "unstack": (
        "{a: {shape: [5]}}",
        "{op: unstack, inputs: a}",
        "axis 0 of (None, 5) has unknown size; give `num`",
    ),
    "slice": (
        "{a: {shape: [5]}}",
        "{op: slice, inputs: a, start_indices: [0, 6], shape: [-1, -1]}",
        "the result would have a negative size: (None, -1)",
    ),
    "cast": (
        "{a: {shape: [5]}}",
        "{op: cast, inputs: a, dtype: flaot32}",
        "unknown dtype 'flaot32'",
    ),
    "top_k": (
        "{a: {shape: [5]}}",
        "{op: top_k, inputs: a, k: 2}",
        "the input has shape (); top_k needs an axis to pick from",
        '"y[0]"',
    ),
}


@pytest.mark.parametrize("case", REFUSED.values(), ids=list(REFUSED))
def test_refusals_echo_the_shapes(case: tuple) -> None:
    inputs, node, message, *outputs = case
    text, where = one_node(inputs, node, *outputs), "5:3"
    if node.startswith("{op: top_k"):  # on a scalar: the sum of every value
        text = text.replace("nodes:\n", "nodes:\n  s: {op: sum, inputs: a}\n")
        text, where = text.replace("inputs: a, k", "inputs: s, k"), "6:3"
    op = node.split(",")[0].removeprefix("{op: ")
    found = [str(d) for d in keraspec.validate(keraspec.loads(text))]
    assert found == [f"<string>:{where}: E600 node `y` (ops.{op}): {message}"]
    assert_same_as_keras(text)


HINTED = {
    "a near-miss dtype": (
        "{a: {shape: [5]}}",
        "{op: ones_like, inputs: a, dtype: flaot32}",
        "did you mean `float32`?",
    ),
    "a list not nested": (
        "{a: {shape: [5]}, b: {shape: [5]}}",
        "{op: concatenate, inputs: [a, b]}",
        "nest the list: `inputs: [[a, b]]`",
    ),
}


@pytest.mark.parametrize("case", HINTED.values(), ids=list(HINTED))
def test_refusals_hint_the_fix(case: tuple) -> None:
    (found,) = keraspec.validate(keraspec.loads(one_node(*case[:2])))
    assert found.hint == case[2]


UNCHECKED = {
    "a tensor as a bound": ("{a: {shape: [5]}, b: {shape: [5]}}", "{op: clip, inputs: [a, b, 1]}"),
    "a repeated source axis": (
        "{a: {shape: [2, 3]}}",
        "{op: moveaxis, inputs: a, source: [0, 0], destination: [0, 1]}",
    ),
    "one tensor for a list": ("{a: {shape: [5]}}", "{op: concatenate, inputs: a}"),
    "a bool as an axis": ("{a: {shape: [5]}}", "{op: flip, inputs: a, axis: true}"),
}


@pytest.mark.parametrize("case", UNCHECKED.values(), ids=list(UNCHECKED))
def test_arguments_keras_reads_otherwise_are_left_to_build(case: tuple) -> None:
    text = one_node(*case)
    found = keraspec.validate(keraspec.loads(text), verbose=True)
    assert [d.code for d in found] == ["I600"]
    assert "shape not checked statically" in found[0].message


PROMOTED = (
    "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
    "bfloat16", "float16", "float32", "float64", int, float, bool,
)  # fmt: skip


def test_dtype_promotion_is_keras_result_type() -> None:
    for pair in itertools.product(PROMOTED, repeat=2):
        assert result_type(*pair) == keras.backend.result_type(*pair), pair
        assert result_type(*pair, float) == keras.backend.result_type(*pair, float), pair


def test_an_unknown_dtype_stays_unknown() -> None:
    """A layer may give a tensor of unknown dtype; its shape is still inferred."""
    x, y = shapes.Tensor((None, 4), None), shapes.Tensor((None, 1), "int8")
    run = shapes.OP_RULES
    assert run["add"](Inputs((x, y)), {}) == shapes.Tensor((None, 4), None)
    assert run["sqrt"](Inputs((x,)), {}) == shapes.Tensor((None, 4), None)
    assert run["greater"](Inputs((x, 0.5)), {}) == shapes.Tensor((None, 4), "bool")
    assert run["sum"](Inputs((x,)), {"axis": 1}) == shapes.Tensor((None,), None)


# ---------------------------------------------------------------- drawing cases


class Case:
    """One op node and the inputs it reads, drawn step by step."""

    def __init__(self, draw: Callable[[Any], Any], op: str):
        self.draw, self.op = draw, op
        self.inputs: dict[str, tuple[Any, tuple, str]] = {}
        self.shapes: dict[str, tuple] = {}
        self.before: dict[str, dict] = {}  # nodes that make scalars
        self.batch = draw(st.sampled_from([None, None, None, 1, 2]))
        self.node: dict[str, Any] = {"op": op}
        self.outputs = '"y"'

    def dims(self, low: int = 0, high: int = 3) -> tuple:
        rank = self.draw(st.integers(low, high))
        dims = (
            st.sampled_from(DIMS) | st.none() if self.draw(st.booleans()) else st.sampled_from(DIMS)
        )
        return tuple(self.draw(dims) for _ in range(rank))

    def tensor(self, dims: tuple | None = None, dtype: str | None = None, batch: Any = ...) -> str:
        """A new spec input, shaped ``(batch, *dims)``; or now and then, when drawing
        dims, a scalar: the sum of such an input."""
        name = "abcdefgh"[len(self.inputs)]
        drawn = dims is None
        dims = self.dims() if dims is None else dims
        dtype = dtype or self.draw(st.sampled_from(DTYPES))
        self.inputs[name] = (self.batch if batch is ... else batch, dims, dtype)
        self.shapes[name] = (self.inputs[name][0], *dims)
        if drawn and self.draw(st.integers(0, 9)) == 0:
            self.before[f"s{name}"] = {"op": "sum", "inputs": name}
            self.shapes[f"s{name}"] = ()
            return f"s{name}"
        return name

    def shape(self, name: str) -> tuple:
        return self.shapes[name]

    def dims_of(self, name: str) -> tuple:
        """The shape without the batch axis (for a scalar, none)."""
        return self.shapes[name][1:]

    def rank(self, name: str) -> int:
        return len(self.shape(name))

    def axis(self, rank: int, none: bool = False) -> int | None:
        """Mostly a valid axis, sometimes one out of range."""
        axes = st.integers(-rank, rank - 1) if rank else st.just(0)
        choice = axes | st.integers(-rank - 1, rank) if self.draw(st.integers(0, 5)) == 0 else axes
        return self.draw(st.none() | choice if none else choice)

    def axes(self, rank: int) -> Any:
        """None, an axis, or a list of distinct axes."""
        kind = self.draw(st.sampled_from(["none", "int", "list"]))
        if kind == "none":
            return None
        if kind == "int" or rank == 0:
            return self.axis(rank)
        return self.draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))

    def related(self, dims: tuple) -> tuple:
        """Dims that broadcast with ``dims`` (a suffix, some 1s), now and then ones that clash."""
        keep = self.draw(st.integers(0, len(dims)))
        result = [self.draw(st.sampled_from([d, d, 1])) for d in dims[len(dims) - keep :]]
        if result and self.draw(st.integers(0, 4)) == 0:
            result[self.draw(st.integers(0, len(result) - 1))] = self.draw(st.sampled_from(DIMS))
        return tuple(result)

    def operand(self, dims: tuple) -> Any:
        """A tensor broadcasting with ``dims``, or a constant number."""
        if self.draw(st.integers(0, 3)) == 0:
            return self.draw(st.sampled_from([0.5, 2, -1.0]))
        return self.tensor(self.related(dims))

    def maybe(self, name: str, values: st.SearchStrategy) -> None:
        """An optional keyword argument."""
        if self.draw(st.booleans()):
            self.node[name] = self.draw(values)

    def text(self) -> str:
        return spec_text(self.inputs, {**self.before, "y": self.node}, self.outputs)


def unary(c: Case) -> None:
    c.node["inputs"] = c.tensor()


def with_args(**values: st.SearchStrategy) -> Callable[[Case], None]:
    """A one-tensor op with optional keyword arguments."""

    def generate(c: Case) -> None:
        c.node["inputs"] = c.tensor()
        for name, strategy in values.items():
            c.maybe(name, strategy)

    return generate


def along_axes(c: Case) -> None:
    x = c.tensor()
    c.node["inputs"] = x
    if c.draw(st.booleans()):
        c.node["axis"] = c.axes(c.rank(x))
    if c.op == "roll":
        c.node["shift"] = c.draw(st.integers(-2, 2))


def with_dtype(c: Case) -> None:
    x = c.tensor()
    c.node["inputs"] = [x, c.draw(st.sampled_from([0, 1.5]))] if c.op == "full_like" else x
    if c.op == "cast" or c.draw(st.booleans()):
        c.node["dtype"] = c.draw(st.sampled_from(DTYPES))


def clip(c: Case) -> None:
    c.node["inputs"] = [c.tensor(), 0, c.draw(st.sampled_from([1, 2.5]))]


def binary(c: Case) -> None:
    dims = c.dims()
    first = c.tensor(dims)
    pair = [first, c.operand(dims)]
    if isinstance(pair[1], str) and c.draw(st.booleans()):
        pair.reverse()
    form = c.draw(st.sampled_from(["list", "mapping", "argument"]))
    if form == "argument" and not isinstance(pair[1], str):  # {inputs: a, x2: 0.5}
        c.node.update(inputs=first, x2=pair[1])
    else:
        c.node["inputs"] = dict(zip(["x1", "x2"], pair, strict=True)) if form == "mapping" else pair


def where(c: Case) -> None:
    dims = c.dims()
    condition = c.tensor(dims, c.draw(st.sampled_from(["bool", "bool", "int32", "float32"])))
    operands = c.draw(st.integers(0, 4))
    if operands == 0:
        c.node["inputs"] = [condition]
    elif operands == 1:
        c.node["inputs"] = [condition, c.operand(dims)]
    else:
        c.node["inputs"] = [condition, c.operand(dims), c.operand(dims)]


def reduction(c: Case) -> None:
    x = c.tensor()
    c.node["inputs"] = x
    c.node["axis"] = c.axes(c.rank(x))
    c.maybe("keepdims", st.booleans())
    if c.op == "prod":
        c.maybe("dtype", st.sampled_from(DTYPES))
    if c.op == "norm":
        c.maybe("ord", st.sampled_from(["fro", "nuc", "max", 1, 2, -1, 3, 0.5]))


def average(c: Case) -> None:
    x = c.tensor()
    shape = c.shape(x)
    axis = c.axis(len(shape), none=True)
    c.node["inputs"] = {"x": x}
    if axis is not None:
        c.node["axis"] = axis
    if c.draw(st.booleans()):
        if axis is not None and -len(shape) <= axis < len(shape) and c.draw(st.booleans()):
            weights = c.tensor((), batch=shape[axis])  # one weight per entry along the axis
        else:
            weights = c.tensor(c.dims_of(x) if c.draw(st.integers(0, 3)) else c.dims(0, 2))
        c.node["inputs"]["weights"] = weights


def along_one_axis(c: Case) -> None:
    x = c.tensor()
    c.node["inputs"] = x
    c.maybe("axis", st.none() | st.integers(-c.rank(x) - 1, c.rank(x)))
    if c.op in ("cumsum", "cumprod"):
        c.maybe("dtype", st.sampled_from(DTYPES))


def reshape(c: Case) -> None:
    x = c.tensor()
    sizes = st.sampled_from([-1, 1, 2, 3, 4, 6, 12, 24])
    c.node["inputs"] = x
    c.node["newshape"] = c.draw(st.lists(sizes, min_size=1, max_size=4))


def transpose(c: Case) -> None:
    x = c.tensor()
    c.node["inputs"] = x
    if c.draw(st.booleans()):
        axes = c.draw(st.permutations(range(c.rank(x))))
        if axes and c.draw(st.integers(0, 4)) == 0:
            axes[0] = c.draw(st.integers(-3, 4))  # perhaps not a permutation
        c.node["axes"] = axes


def expand_dims(c: Case) -> None:
    x = c.tensor()
    c.node["inputs"] = x
    rank = c.rank(x) + 1
    c.node["axis"] = c.draw(
        st.lists(st.integers(-rank, rank), min_size=1, max_size=2) | st.just(c.axis(rank))
    )


def squeeze(c: Case) -> None:
    x = c.tensor(c.draw(st.lists(st.sampled_from([1, 1, 2, None]), max_size=3).map(tuple)))
    c.node["inputs"] = x
    if c.draw(st.booleans()):
        ones = [i for i, d in enumerate(c.shape(x)) if d == 1]
        choice = st.sampled_from(ones) if ones else st.just(c.axis(c.rank(x)))
        c.node["axis"] = c.draw(
            choice | st.lists(st.integers(0, c.rank(x) - 1), min_size=1, max_size=2, unique=True)
        )


def joined(c: Case) -> None:
    dims = c.dims(0, 3)
    count = c.draw(st.integers(1, 3))
    names = []
    for _ in range(count):
        mine = list(dims)
        if mine and c.op == "concatenate":
            mine[c.draw(st.integers(0, len(mine) - 1))] = c.draw(st.sampled_from(DIMS))
        if c.draw(st.integers(0, 5)) == 0:
            mine = list(c.dims())
        names.append(c.tensor(tuple(mine)))
    name = "xs" if c.op == "concatenate" else "x"
    form = c.draw(st.sampled_from(["nested", "mapping", "flat"]))
    c.node["inputs"] = {"nested": [names], "mapping": {name: names}, "flat": names}[form]
    c.maybe("axis", st.just(c.axis(len(dims) + 1 + (c.op == "stack"))))


def split(c: Case) -> None:
    x = c.tensor(c.dims(1, 3))
    c.node["inputs"] = x
    c.maybe("axis", st.just(c.axis(c.rank(x))))
    points = st.lists(st.integers(0, 6), max_size=3).map(sorted)
    sections = c.draw(st.integers(1, 3) | points)
    c.node["indices_or_sections"] = sections
    c.outputs = '"y"' if sections in (1, []) else '"y[0]"'


def unstack(c: Case) -> None:
    x = c.tensor(c.dims(1, 3))
    c.node["inputs"] = x
    c.maybe("axis", st.just(c.axis(c.rank(x))))
    c.maybe("num", st.integers(1, 3))
    c.outputs = f'"y[{c.draw(st.integers(0, 3))}]"'  # perhaps past the last output


def slice_(c: Case) -> None:
    x = c.tensor()
    rank = c.rank(x) + c.draw(st.sampled_from([0, 0, 0, 1]))
    starts = c.draw(st.lists(st.integers(0, 2), min_size=rank, max_size=rank))
    sizes = c.draw(st.lists(st.sampled_from([-1, -1, 1, 2]), min_size=rank, max_size=rank))
    c.node["shape"] = sizes
    if rank and c.draw(st.integers(0, 3)) == 0:
        c.node["inputs"] = {"inputs": x, "start_indices": c.tensor((rank,), "int32")}
    else:
        c.node.update(inputs=x, start_indices=starts)


def repeat(c: Case) -> None:
    x = c.tensor()
    c.node["inputs"] = x
    c.node["repeats"] = c.draw(
        st.integers(0, 3) | st.lists(st.integers(0, 3), min_size=1, max_size=4)
    )
    c.maybe("axis", st.just(c.axis(c.rank(x))))


def tile(c: Case) -> None:
    c.node["inputs"] = c.tensor()
    c.node["repeats"] = c.draw(st.integers(1, 3) | st.lists(st.integers(1, 3), max_size=4))


def moveaxis(c: Case) -> None:
    x = c.tensor(c.dims(1, 3))
    rank = c.rank(x)
    count = c.draw(st.integers(1, min(rank, 2)))
    source, destination = (
        c.draw(st.lists(st.integers(-rank, rank - 1), min_size=count, max_size=count))
        for _ in range(2)
    )
    c.node.update(inputs=x, source=source, destination=destination)


def two_axes(c: Case) -> None:
    x = c.tensor(c.dims(1, 3))
    c.node.update(inputs=x, axis1=c.axis(c.rank(x)), axis2=c.axis(c.rank(x)))
    if c.op == "diagonal":
        c.maybe("offset", st.integers(-2, 2))


def take(c: Case) -> None:
    x = c.tensor()
    kind = c.draw(st.sampled_from(["tensor", "int", "list"]))
    if kind == "tensor":
        c.node["inputs"] = [x, c.tensor(c.dims(0, 2), "int32")]
    else:
        c.node["inputs"] = [
            x,
            c.draw(st.integers(0, 1) if kind == "int" else st.lists(st.integers(0, 1), max_size=3)),
        ]
    c.maybe("axis", st.just(c.axis(c.rank(x))))


def take_along_axis(c: Case) -> None:
    x = c.tensor()
    axis = c.axis(c.rank(x), none=True)
    dims = c.related(c.dims_of(x)) if c.draw(st.integers(0, 3)) else c.dims()
    if axis is None:
        dims = c.dims(0, 0)
    c.node["inputs"] = [x, c.tensor(dims, "int32")]
    if axis is not None:
        c.node["axis"] = axis


def matmul(c: Case) -> None:
    """Two tensors whose inner axes mostly agree; dot, tensordot and outer also take a number."""
    n = c.draw(st.sampled_from([2, 3, None]))
    left = c.tensor((*c.dims(0, 1), n))
    right = (n, *c.dims(0, 1)) if c.draw(st.booleans()) else (n,)
    if c.draw(st.integers(0, 4)) == 0:
        right = c.dims(0, 2)
    constant = c.op in ("dot", "tensordot", "outer") and c.draw(st.integers(0, 4)) == 0
    c.node["inputs"] = [left, 2.0 if constant else c.tensor(right)]
    if c.op == "tensordot":
        count = c.draw(st.integers(1, 2))
        axes = (st.lists(st.integers(-3, 2), min_size=count, max_size=count) for _ in range(2))
        c.node["axes"] = c.draw(st.integers(0, 2) | st.tuples(*axes).map(list))


def cross(c: Case) -> None:
    dims = (*c.dims(0, 1), c.draw(st.sampled_from([2, 3, 3, 4])))
    first = c.tensor(dims, c.draw(st.sampled_from(FLOATS)))
    second = c.tensor(c.related(dims), c.draw(st.sampled_from(FLOATS)))
    c.node["inputs"] = [first, second]
    if c.draw(st.booleans()):
        c.node["axis"] = c.axis(len(dims) + 1)
    else:
        c.maybe("axisc", st.just(c.axis(len(dims) + 1)))


def one_hot(c: Case) -> None:
    x = c.tensor(dtype="int32")
    c.node.update(inputs=x, num_classes=c.draw(st.integers(0, 5)))
    c.maybe("axis", st.just(c.axis(c.rank(x) + 1)))
    c.maybe("dtype", st.sampled_from(DTYPES))


def top_k(c: Case) -> None:
    c.node.update(inputs=c.tensor(), k=c.draw(st.integers(1, 3)))
    c.outputs = '"y[0]", "y[1]"'


NUMBERS = st.sampled_from([0.0, 0.5, 2])
UNARY = (
    "abs", "absolute", "negative", "sign", "erf", "rsqrt", "hard_sigmoid", "hard_silu",
    "log_sigmoid", "relu", "relu6", "selu", "sigmoid", "silu", "softplus", "softsign",
    "arccos", "arcsin", "arctan", "cos", "cosh", "sin", "sinh", "tan", "tanh", "ceil", "floor",
    "log", "log1p", "sqrt", "exp", "expm1", "square", "reciprocal", "isinf", "isnan",
    "logical_not",
)  # fmt: skip
BINARY = (
    "add", "subtract", "multiply", "maximum", "minimum", "power", "floor_divide", "mod",
    "divide", "true_divide", "equal", "not_equal", "greater", "less", "logical_and",
    "logical_or", "logical_xor",
)  # fmt: skip
REDUCTIONS = (
    "all", "any", "argmax", "argmin", "max", "min", "mean", "sum", "std", "var", "logsumexp",
    "prod", "norm",
)  # fmt: skip
GENERATORS: dict[str, Callable[[Case], None]] = {
    **dict.fromkeys(UNARY, unary),
    "round": with_args(decimals=st.integers(0, 2)),
    "nan_to_num": with_args(nan=NUMBERS, posinf=NUMBERS),
    "tril": with_args(k=st.integers(-1, 1)),
    "triu": with_args(k=st.integers(-1, 1)),
    "elu": with_args(alpha=NUMBERS),
    "gelu": with_args(approximate=st.booleans()),
    "leaky_relu": with_args(negative_slope=NUMBERS),
    "clip": clip,
    **dict.fromkeys(["softmax", "log_softmax", "normalize", "flip", "roll"], along_axes),
    **dict.fromkeys(["cast", "ones_like", "zeros_like", "full_like"], with_dtype),
    **dict.fromkeys(BINARY, binary),
    "where": where,
    **dict.fromkeys(REDUCTIONS, reduction),
    "average": average,
    **dict.fromkeys(["cumsum", "cumprod", "sort", "argsort"], along_one_axis),
    "reshape": reshape,
    "transpose": transpose,
    "expand_dims": expand_dims,
    "squeeze": squeeze,
    "concatenate": joined,
    "stack": joined,
    "split": split,
    "unstack": unstack,
    "slice": slice_,
    "repeat": repeat,
    "tile": tile,
    "moveaxis": moveaxis,
    "swapaxes": two_axes,
    "diagonal": two_axes,
    "trace": two_axes,
    "take": take,
    "take_along_axis": take_along_axis,
    **dict.fromkeys(["matmul", "dot", "tensordot", "outer"], matmul),
    "cross": cross,
    "one_hot": one_hot,
    "top_k": top_k,
}


@st.composite
def cases(draw: Callable[[Any], Any], op: str | None = None) -> str:
    op = op or draw(st.sampled_from(sorted(GENERATORS)))
    case = Case(draw, op)
    GENERATORS[op](case)
    return case.text()


def test_every_op_with_a_rule_has_a_generator() -> None:
    assert set(shapes.OP_RULES) <= set(GENERATORS)


@pytest.mark.parametrize("op", sorted(GENERATORS))
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_op_matches_keras(op: str, data: st.DataObject) -> None:
    same_as_keras_or_reject(data.draw(cases(op), label="spec"))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=cases())
def test_random_ops_match_keras(text: str) -> None:
    same_as_keras_or_reject(text)
