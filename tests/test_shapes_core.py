"""Static shape rules for the core and merging layers (shapes/core.py, shapes/merging.py).

Worked cases first (exact shapes, dtypes, parameters and messages, with the Keras quirk
each one pins), then Hypothesis configurations compared with what Keras builds.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keraspec
from keraspec import api, shapes
from shape_oracle import assert_same_as_keras, infer_node

pytestmark = pytest.mark.keras

Shape = tuple[int | None, ...]


def spec(node: str, *inputs: str, refs: str = "x0") -> str:
    """Inputs ``x0``, ``x1``... (written as YAML flow mappings) and one node ``out``, on
    line 5 + len(inputs), column 3."""
    declared = "".join(f"  x{i}: {d}\n" for i, d in enumerate(inputs))
    return (
        f"keraspec: 1\nname: t\ninputs:\n{declared}"
        f"nodes:\n  out: {{{node}, inputs: {refs}}}\noutputs: [out]\n"
    )


# --- worked cases ------------------------------------------------------------------------

VEC, INTS = "{shape: [8]}", "{shape: [5], dtype: int32}"
IMAGE = "{shape: [6, 6, 3]}"
SEQ = "{shape: [4, 3]}"

BUILDS = [
    # Dense: the last axis becomes `units`; LoRA adds (in, rank) and (rank, units)
    ("type: Dense, units: 4", [VEC], (None, 4), "float32", 36),
    ("type: Dense, units: 4, use_bias: false", [SEQ], (None, 4, 4), "float32", 12),
    ("type: Dense, units: 4, lora_rank: 2", [VEC], (None, 4), "float32", 36 + 16 + 8),
    ("type: Dense, units: 4, dtype: mixed_float16", [INTS], (None, 4), "float16", 24),
    # EinsumDense: elided axes on the left come out reversed, as Keras orders them
    (
        "type: EinsumDense, equation: 'ab,bc->ac', output_shape: 4, bias_axes: c",
        [VEC],
        (None, 4),
        "float32",
        36,
    ),
    (
        "type: EinsumDense, equation: '...b,bc->...c', output_shape: 4",
        ["{shape: [5, 6, 3]}"],
        (None, 6, 5, 4),
        "float32",
        12,
    ),
    (
        "type: EinsumDense, equation: 'abc,cd->abd', output_shape: [null, 2], bias_axes: d, "
        "lora_rank: 1",
        [SEQ],
        (None, None, 2),
        "float32",
        6 + 2 + 3 + 2,
    ),
    # Embedding: any rank, the compute dtype whatever the indices' dtype
    ("type: Embedding, input_dim: 10, output_dim: 3", [INTS], (None, 5, 3), "float32", 30),
    (
        "type: Embedding, input_dim: 10, output_dim: 3, mask_zero: true",
        ["{shape: []}"],
        (None, 3),
        "float32",
        30,
    ),
    (
        "type: Embedding, input_dim: 10, output_dim: 3, lora_rank: 2",
        [INTS],
        (None, 5, 3),
        "float32",
        56,
    ),
    # Activations, dropout and noise: same shape, always the compute dtype
    ("type: ReLU", [INTS], (None, 5), "float32", 0),
    ("type: Softmax, axis: 7", [VEC], (None, 8), "float32", 0),  # axis unused until called
    ("type: Dropout, rate: 0.5, noise_shape: [9]", [VEC], (None, 8), "float32", 0),
    ("type: SpatialDropout2D, rate: 0.5", [IMAGE], (None, 6, 6, 3), "float32", 0),
    ("type: Activation, activation: relu, dtype: float64", [VEC], (None, 8), "float64", 0),
    # Identity, Flatten, Reshape, Permute keep a non-float dtype and autocast floats
    ("type: Identity", [INTS], (None, 5), "int32", 0),
    ("type: Identity", ["{shape: [5], dtype: float16}"], (None, 5), "float32", 0),
    ("type: Identity, autocast: false", ["{shape: [5], dtype: float16}"], (None, 5), "float16", 0),
    ("type: Flatten", ["{shape: [4, 3], dtype: int32}"], (None, 12), "int32", 0),
    ("type: Flatten", ["{shape: []}"], (None, 1), "float32", 0),
    ("type: Flatten", ["{shape: [null, 3]}"], (None, None), "float32", 0),
    ("type: Reshape, target_shape: [-1, 4]", [SEQ], (None, 3, 4), "float32", 0),
    ("type: Reshape, target_shape: [5, 5]", ["{shape: [null, 4]}"], (None, 5, 5), "float32", 0),
    ("type: Permute, dims: [2, 1]", ["{shape: [4, 3], dtype: bool}"], (None, 3, 4), "bool", 0),
    ("type: RepeatVector, n: 3", [INTS], (None, 3, 5), "float32", 0),
    # PReLU: one alpha per input value; shared axis 0 is (Python-style) the last one
    ("type: PReLU", [SEQ], (None, 4, 3), "float32", 12),
    ("type: PReLU, shared_axes: [1]", ["{shape: [null, 3]}"], (None, None, 3), "float32", 3),
    ("type: PReLU, shared_axes: 0", [SEQ], (None, 4, 3), "float32", 4),
    # Normalization layers
    ("type: BatchNormalization", [IMAGE], (None, 6, 6, 3), "float32", 12),
    (
        "type: BatchNormalization, center: false, renorm: true",
        [IMAGE],
        (None, 6, 6, 3),
        "float32",
        18,
    ),
    ("type: LayerNormalization, axis: [1, 2], scale: false", [SEQ], (None, 4, 3), "float32", 12),
    ("type: LayerNormalization, axis: [-1, 2]", [SEQ], (None, 4, 3), "float32", 18),  # (3, 3) twice
    ("type: RMSNormalization", [SEQ], (None, 4, 3), "float32", 3),
    ("type: GroupNormalization, groups: -1", [IMAGE], (None, 6, 6, 3), "float32", 6),
    ("type: UnitNormalization, axis: [1, 2]", [SEQ], (None, 4, 3), "float32", 0),
    ("type: Normalization", [SEQ], (None, 4, 3), "float32", 7),  # mean, variance, count
    ("type: Normalization, axis: null", [SEQ], (None, 4, 3), "float32", 3),
    ("type: Normalization, mean: [1.0], variance: [2.0]", [SEQ], (None, 4, 3), "float32", 0),
    # Image preprocessing: a rank-3 input is one unbatched image (its first axis is replaced)
    ("type: Resizing, height: 2, width: 5", [IMAGE], (None, 2, 5, 3), "float32", 0),
    ("type: Resizing, height: 2, width: 5", [SEQ], (2, 5, 3), "float32", 0),
    (
        "type: CenterCrop, height: 2, width: 5, data_format: channels_first",
        [IMAGE],
        (None, 6, 2, 5),
        "float32",
        0,
    ),
    ("type: Rescaling, scale: 0.5", [INTS], (None, 5), "float32", 0),
    # Categorical preprocessing: dtypes set by the layer
    ("type: CategoryEncoding, num_tokens: 6", [INTS], (None, 6), "float32", 0),
    (
        "type: CategoryEncoding, num_tokens: 6, output_mode: one_hot",
        [INTS],
        (None, 5, 6),
        "float32",
        0,
    ),
    ("type: CategoryEncoding, num_tokens: 6", ["{shape: [], dtype: int32}"], (6,), "float32", 0),
    ("type: Hashing, num_bins: 4", [INTS], (None, 5), "int64", 0),
    ("type: Hashing, num_bins: 4, output_mode: one_hot", [INTS], (None, 4), "float32", 0),
    (
        "type: StringLookup, vocabulary: [a, b, c]",
        ["{shape: [2], dtype: string}"],
        (None, 2),
        "int64",
        0,
    ),
    (
        "type: StringLookup, vocabulary: [a, b], output_mode: one_hot, num_oov_indices: 2",
        ["{shape: [2], dtype: string}"],
        (None, 2, 4),
        "float32",
        0,
    ),
    (
        "type: StringLookup, output_mode: multi_hot",
        ["{shape: [2], dtype: string}"],
        (None, None),
        "float32",
        0,
    ),
    (
        "type: IntegerLookup, vocabulary: [-1, 4, 5], output_mode: count",
        [INTS],
        (None, 3),
        "float32",
        0,
    ),
]

TWO = "{shape: [4, 3]}", "{shape: [3]}"

MERGES = [
    # Element-wise merges broadcast the axes after the batch axis, aligned on the right
    ("type: Add", TWO, "[x0, x1]", (None, 4, 3)),
    ("type: Multiply", ("{shape: [1, 3]}", "{shape: [null, 1]}"), "[x0, x1]", (None, None, 3)),
    ("type: Maximum", ("{shape: [3], batch_size: 2}", "{shape: [3]}"), "[x0, x1]", (2, 3)),
    ("type: Average", ("{shape: [3], dtype: int32}",), "[x0]", (None, 3)),
    # Concatenate keeps the first input's other axes, even where a later one knows them
    ("type: Concatenate", ("{shape: [null, 3]}", "{shape: [5, 2]}"), "[x0, x1]", (None, None, 5)),
    (
        "type: Concatenate, axis: 1",
        ("{shape: [2, 3]}", "{shape: [5, 3]}"),
        "[x0, x1]",
        (None, 7, 3),
    ),
    # Dot: a rank-2 result gains a trailing 1
    ("type: Dot, axes: 1", ("{shape: [3]}", "{shape: [3]}"), "[x0, x1]", (None, 1)),
    ("type: Dot, axes: [1, 2]", ("{shape: [3, 4]}", "{shape: [5, 3]}"), "[x0, x1]", (None, 4, 5)),
    ("type: Dot, axes: -1", ("{shape: [3, 4]}", "{shape: [4]}"), "[x0, x1]", (None, 3)),
]


@pytest.mark.parametrize(("node", "inputs", "shape", "dtype", "params"), BUILDS)
def test_builds(node: str, inputs: list[str], shape: Shape, dtype: str, params: int) -> None:
    out = shapes.NodeShapes("out", shapes.Tensor(shape, dtype), params)
    assert infer_node(spec(node, *inputs), "out") == out


@pytest.mark.parametrize(("node", "inputs", "refs", "shape"), MERGES)
def test_merges(node: str, inputs: tuple[str, ...], refs: str, shape: Shape) -> None:
    out = shapes.NodeShapes("out", shapes.Tensor(shape, "float32"), 0)
    assert infer_node(spec(node, *inputs, refs=refs), "out") == out


REFUSED = [
    (
        "type: Dense, units: 2",
        ["{shape: [null]}"],
        "x0",
        "the last axis of its input must be known; received (None, None)",
    ),
    (
        "type: Dense, units: 2",
        ["{shape: []}"],
        "x0",
        "expects an input of rank 2 or more (batch axis included); received (None,)",
    ),
    (
        "type: Dense, units: 2, lora_rank: 1, kernel_constraint: non_neg",
        [VEC],
        "x0",
        "`lora_rank` cannot be used with `kernel_constraint` (Keras refuses both)",
    ),
    (
        "type: EinsumDense, equation: 'abc,cd->abd', output_shape: [5, 2]",
        [SEQ],
        "x0",
        "axis `b` is 4 in the input but 5 in `output_shape`",
    ),
    (
        "type: EinsumDense, equation: 'ab,bc->ac', output_shape: 2",
        ["{shape: [null]}"],
        "x0",
        "every axis the kernel takes from its input must be known to size its weights; "
        "received (None, None)",
    ),
    (
        "type: SpatialDropout1D, rate: 0.1",
        [VEC],
        "x0",
        "expects a rank-3 input (batch axis included); received (None, 8)",
    ),
    (
        "type: PReLU, shared_axes: [3]",
        [SEQ],
        "x0",
        "shared axis 3 is out of range for input (None, 4, 3)",
    ),
    (
        "type: BatchNormalization, axis: 1",
        ["{shape: [null, 3]}"],
        "x0",
        "axis 1 of its input must be known to size its weights; received (None, None, 3)",
    ),
    (
        "type: LayerNormalization, axis: 3",
        [SEQ],
        "x0",
        "axis 3 is out of range for input (None, 4, 3)",
    ),
    (
        "type: GroupNormalization, groups: 2",
        [IMAGE],
        "x0",
        "2 groups do not divide the 3 channels of input (None, 6, 6, 3)",
    ),
    (
        "type: Normalization, mean: [1.0, 2.0], variance: [1.0, 1.0]",
        [SEQ],
        "x0",
        "`mean` of shape (2,) does not broadcast to (3,)",
    ),
    (
        "type: Reshape, target_shape: [5, -1]",
        [SEQ],
        "x0",
        "cannot reshape input (None, 4, 3) (12 values per sample) to (5, -1)",
    ),
    (
        "type: Permute, dims: [2, 1]",
        [VEC],
        "x0",
        "expects a rank-3 input (batch axis included); received (None, 8)",
    ),
    (
        "type: RepeatVector, n: 2",
        [SEQ],
        "x0",
        "expects a rank-2 input (batch axis included); received (None, 4, 3)",
    ),
    (
        "type: CenterCrop, height: 2, width: 2",
        [VEC],
        "x0",
        "expects a rank-4 or 3 input (batch axis included); received (None, 8)",
    ),
    (
        "type: Hashing, num_bins: 3, dtype: float32",
        [INTS],
        "x0",
        'output_mode "int" needs dtype int32 or int64; received float32',
    ),
    (
        "type: StringLookup, vocabulary: [a, b, a]",
        ["{shape: [2], dtype: string}"],
        "x0",
        "`vocabulary` repeats a",
    ),
    (
        "type: Add",
        ["{shape: [4, 3]}", "{shape: [2, 3]}"],
        "[x0, x1]",
        "input 0 has shape (None, 4, 3), input 1 has (None, 2, 3)",
    ),
    (
        "type: Add",
        [VEC],
        "x0",
        "takes a list of tensors (`inputs: [a, b]`); received one, (None, 8)",
    ),
    (
        "type: Subtract",
        [VEC, VEC, VEC],
        "[x0, x1, x2]",
        "takes exactly 2 inputs; received 3",
    ),
    (
        "type: Multiply",
        ["{shape: [3], batch_size: 2}", "{shape: [3], batch_size: 4}"],
        "[x0, x1]",
        "inputs have different batch sizes: (2, 3), (4, 3)",
    ),
    (
        "type: Concatenate",
        ["{shape: [null, 3]}", "{shape: [5, 3]}", "{shape: [6, 3]}"],
        "[x0, x1, x2]",
        "input 1 has shape (None, 5, 3), input 2 has (None, 6, 3); only axis -1 may differ",
    ),
    (
        "type: Concatenate, axis: 2",
        [VEC, VEC],
        "[x0, x1]",
        "axis 2 is out of range for inputs (None, 8), (None, 8)",
    ),
    (
        "type: Dot, axes: 1",
        ["{shape: [null]}", "{shape: [3]}"],
        "[x0, x1]",
        "axis 1 of input 0 (None, None) and axis 1 of input 1 (None, 3) differ",
    ),
]


@pytest.mark.parametrize(("node", "inputs", "refs", "message"), REFUSED)
def test_refused(node: str, inputs: list[str], refs: str, message: str) -> None:
    kind = node.split(", ")[0].removeprefix("type: ")
    line = 5 + len(inputs)
    assert infer_node(spec(node, *inputs, refs=refs), "out") == [
        f"{line}:3 E600 node `out` ({kind}): {message}"
    ]


def test_a_vocabulary_file_is_left_to_keras() -> None:
    """Allowed to name a file (--allow-files), its size is unknown until Keras reads it."""
    text = spec("type: StringLookup, vocabulary: words.txt", "{shape: [2], dtype: string}")
    inference = shapes.infer(api.lower(keraspec.loads(text), allow_files=True))
    assert inference.main.nodes["out"].output is shapes.UNKNOWN
    assert [d.code for d in inference.unchecked] == ["I600"]


# --- the same as Keras -------------------------------------------------------------------

# Every worked case is also what Keras does (shapes, dtypes, parameters, refusals).
CASES = [
    *(pytest.param(spec(n, *i), id=f"builds-{k}") for k, (n, i, *_) in enumerate(BUILDS)),
    *(pytest.param(spec(n, *i, refs=r), id=f"merges-{k}") for k, (n, i, r, _) in enumerate(MERGES)),
    *(
        pytest.param(spec(n, *i, refs=r), id=f"refused-{k}")
        for k, (n, i, r, _) in enumerate(REFUSED)
    ),
]


@pytest.mark.parametrize("text", CASES)
def test_worked_cases_are_what_keras_does(text: str) -> None:
    assert_same_as_keras(text)


def masked(body: str) -> str:
    """``e`` embeds ``t`` with a mask, ``f`` embeds ``u`` without; ``body`` makes ``out``."""
    return (
        "keraspec: 1\nname: t\ninputs:\n  t: {shape: [5], dtype: int32}\n"
        "  u: {shape: [5], dtype: int32}\nnodes:\n"
        "  e: {type: Embedding, input_dim: 9, output_dim: 4, mask_zero: true, inputs: t}\n"
        "  f: {type: Embedding, input_dim: 9, output_dim: 4, inputs: u}\n"
        f"{body}outputs: [out, e, f]\n"
    )


# Keras computes masks while building; none of these layers refuses one.
MASKED = [
    "  out: {type: BatchNormalization, inputs: e}\n",
    "  out: {type: Concatenate, axis: 1, inputs: [e, f]}\n",
    "  out: {type: Add, inputs: [e, f]}\n",
    "  out: {type: Maximum, inputs: [f, e]}\n",
    "  out: {type: Dot, axes: 2, inputs: [e, f]}\n",
    "  out: {type: Softmax, inputs: e}\n",
    "  m: {type: Masking, inputs: f}\n  out: {type: Concatenate, axis: 1, inputs: [m, e]}\n",
    "  out: {type: Multiply, inputs: [e, e, f]}\n",
]


@pytest.mark.parametrize("body", MASKED)
def test_masked_inputs_are_what_keras_does(body: str) -> None:
    assert_same_as_keras(masked(body))


def declare(shape: Shape, dtype: str = "float32") -> str:
    return (
        f"{{shape: {json.dumps(list(shape[1:]))}, dtype: {dtype}, "
        f"batch_size: {json.dumps(shape[0])}}}"
    )


def node_text(args: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {json.dumps(v)}" for k, v in args.items() if v is not None)


def one_node(args: dict[str, Any], shape: Shape, dtype: str = "float32") -> str:
    return spec(node_text(args), declare(shape, dtype))


def merged(args: dict[str, Any], inputs: list[Shape], dtype: str = "float32") -> str:
    refs = "[" + ", ".join(f"x{i}" for i in range(len(inputs))) + "]"
    return spec(node_text(args), *(declare(s, dtype) for s in inputs), refs=refs)


DIM = st.integers(1, 5)
MAYBE = st.one_of(DIM, st.none())
BATCH = st.sampled_from([None, None, 2])
DTYPES = st.sampled_from(["float32", "float16", "int32", "int64", "bool"])
POLICY = st.sampled_from([None, None, "float64", "mixed_float16", "bfloat16"])
EXAMPLES = settings(max_examples=30, deadline=None)


def shapes_of(rank: st.SearchStrategy[int], dim: st.SearchStrategy = MAYBE) -> st.SearchStrategy:
    """Shapes with the batch axis (rank counts it)."""
    return rank.flatmap(lambda r: st.tuples(BATCH, *[dim] * (r - 1)))


@EXAMPLES
@given(
    shape=shapes_of(st.integers(1, 4), st.one_of(DIM, st.none(), st.none())),
    units=DIM,
    use_bias=st.booleans(),
    lora_rank=st.sampled_from([None, 0, 1, 2]),
    policy=POLICY,
    dtype=DTYPES,
)
def test_dense_like_keras(shape, units, use_bias, lora_rank, policy, dtype) -> None:
    args = {"type": "Dense", "units": units, "use_bias": use_bias}
    assert_same_as_keras(one_node({**args, "lora_rank": lora_rank, "dtype": policy}, shape, dtype))


EQUATIONS = [
    "ab,bc->ac",
    "abc,cd->abd",
    "abc,cde->abde",
    "...b,bc->...c",
    "ab...,bc->ac...",
    "abc,bd->adc",
]


@EXAMPLES
@given(
    equation=st.sampled_from(EQUATIONS),
    shape=shapes_of(st.integers(2, 4)),
    output=st.lists(MAYBE, min_size=1, max_size=3),
    bias=st.sampled_from([None, "c", "d", "e", "cd", "de", "b"]),
    lora_rank=st.sampled_from([None, 1]),
)
def test_einsum_dense_like_keras(equation, shape, output, bias, lora_rank) -> None:
    args = {"type": "EinsumDense", "equation": equation, "output_shape": output}
    assert_same_as_keras(one_node({**args, "bias_axes": bias, "lora_rank": lora_rank}, shape))


@EXAMPLES
@given(
    shape=shapes_of(st.integers(1, 3)),
    dims=st.tuples(DIM, DIM),
    mask_zero=st.booleans(),
    lora_rank=st.sampled_from([None, 2]),
    policy=POLICY,
    dtype=st.sampled_from(["int32", "int64", "float32"]),
)
def test_embedding_like_keras(shape, dims, mask_zero, lora_rank, policy, dtype) -> None:
    args = {
        "type": "Embedding",
        "input_dim": dims[0],
        "output_dim": dims[1],
        "mask_zero": mask_zero,
    }
    assert_same_as_keras(one_node({**args, "lora_rank": lora_rank, "dtype": policy}, shape, dtype))


SAME_SHAPE = [
    {"type": "Activation", "activation": "tanh"},
    {"type": "ReLU", "max_value": 6.0},
    {"type": "LeakyReLU"},
    {"type": "ELU"},
    {"type": "Softmax", "axis": 1},
    {"type": "Dropout", "rate": 0.2},
    {"type": "GaussianDropout", "rate": 0.2},
    {"type": "GaussianNoise", "stddev": 0.1},
    {"type": "AlphaDropout", "rate": 0.2},
    {"type": "ActivityRegularization", "l1": 0.1},
    {"type": "Masking"},
    {"type": "Rescaling", "scale": 2.0},
    {"type": "Identity"},
    {"type": "Flatten"},
    {"type": "UnitNormalization", "axis": -2},
    {"type": "SpatialDropout1D", "rate": 0.3},
    {"type": "SpatialDropout2D", "rate": 0.3},
    {"type": "SpatialDropout3D", "rate": 0.3},
]


@settings(max_examples=60, deadline=None)
@given(
    args=st.sampled_from(SAME_SHAPE),
    shape=shapes_of(st.integers(1, 5)),
    dtype=DTYPES,
    policy=POLICY,
    autocast=st.sampled_from([None, False]),
)
def test_shape_keeping_layers_like_keras(args, shape, dtype, policy, autocast) -> None:
    if args["type"].startswith("Spatial"):
        autocast = None  # SpatialDropout takes no `autocast`
    assert_same_as_keras(one_node({**args, "dtype": policy, "autocast": autocast}, shape, dtype))


@EXAMPLES
@given(
    shape=shapes_of(st.integers(1, 4), st.one_of(DIM, st.none(), st.none())),
    shared=st.one_of(st.none(), st.integers(-1, 4), st.lists(st.integers(-1, 4), max_size=3)),
)
def test_prelu_like_keras(shape, shared) -> None:
    assert_same_as_keras(one_node({"type": "PReLU", "shared_axes": shared}, shape))


NORMALIZATIONS = st.sampled_from(
    ["BatchNormalization", "LayerNormalization", "RMSNormalization", "GroupNormalization"]
)


@settings(max_examples=50, deadline=None)
@given(
    type_=NORMALIZATIONS,
    shape=shapes_of(st.integers(1, 4), st.one_of(st.integers(1, 8), st.none())),
    axis=st.one_of(st.integers(-4, 3), st.lists(st.integers(-3, 3), min_size=1, max_size=3)),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    groups=st.sampled_from([-1, 1, 2, 4]),
    policy=POLICY,
)
def test_normalizations_like_keras(type_, shape, axis, flags, groups, policy) -> None:
    center, scale, renorm = flags
    args: dict[str, Any] = {"type": type_, "axis": axis, "dtype": policy}
    if type_ != "LayerNormalization" and isinstance(axis, list):
        args["axis"] = axis[0]  # validate accepts a list for LayerNormalization only
    if type_ != "RMSNormalization":
        args |= {"center": center, "scale": scale}
    if type_ == "BatchNormalization":
        args["renorm"] = renorm
    if type_ == "GroupNormalization":
        args["groups"] = groups
    assert_same_as_keras(one_node(args, shape))


@EXAMPLES
@given(
    shape=shapes_of(st.integers(1, 4), st.one_of(DIM, st.none())),
    axis=st.one_of(
        st.none(), st.integers(-3, 3), st.lists(st.integers(1, 3), max_size=2, unique=True)
    ),
    mean=st.sampled_from([None, 0.5, [1.0], [1.0, 2.0], [[1.0, 2.0]], [1.0, 2.0, 3.0]]),
)
def test_normalization_like_keras(shape, axis, mean) -> None:
    variance = None if mean is None else mean  # the same shape as `mean`
    args = {"type": "Normalization", "axis": axis, "mean": mean, "variance": variance}
    assert_same_as_keras(one_node(args, shape))


def factorings(total: int) -> st.SearchStrategy[list[int]]:
    """Target shapes with ``total`` values, one size possibly left to -1."""
    divisors = [d for d in range(1, total + 1) if total % d == 0]
    pairs = st.sampled_from(divisors).map(lambda d: [d, total // d])
    return st.one_of(
        st.just([total]), pairs, pairs.map(lambda p: [-1, p[1]]), pairs.map(lambda p: [p[0], -1, 1])
    )


@EXAMPLES
@given(
    shape=shapes_of(st.integers(1, 4), st.one_of(DIM, DIM, st.none())),
    data=st.data(),
    dtype=DTYPES,
)
def test_reshape_like_keras(shape, data, dtype) -> None:
    total = 1
    for dim in shape[1:]:
        total *= dim or 7
    wrong = st.lists(st.one_of(st.integers(-1, 6), st.none()), min_size=1, max_size=3)
    target = data.draw(st.one_of(factorings(total), wrong))
    assert_same_as_keras(one_node({"type": "Reshape", "target_shape": target}, shape, dtype))


@EXAMPLES
@given(
    shape=shapes_of(st.integers(1, 4)),
    dims=st.integers(1, 3).flatmap(lambda n: st.permutations(range(1, n + 1))),
    n=DIM,
    dtype=DTYPES,
)
def test_permute_and_repeat_vector_like_keras(shape, dims, n, dtype) -> None:
    assert_same_as_keras(one_node({"type": "Permute", "dims": list(dims)}, shape, dtype))
    assert_same_as_keras(one_node({"type": "RepeatVector", "n": n}, shape, dtype))


@EXAMPLES
@given(
    type_=st.sampled_from(["Resizing", "CenterCrop"]),
    shape=shapes_of(st.integers(2, 5)),
    size=st.tuples(DIM, DIM),
    channels_first=st.booleans(),
    policy=st.sampled_from([None, "int32", "mixed_float16"]),
)
def test_resizing_and_center_crop_like_keras(type_, shape, size, channels_first, policy) -> None:
    data_format = "channels_first" if channels_first else None
    args = {"type": type_, "height": size[0], "width": size[1], "data_format": data_format}
    assert_same_as_keras(one_node({**args, "dtype": policy}, shape))


@EXAMPLES
@given(
    shape=shapes_of(st.integers(1, 3)),
    count=st.integers(1, 6),
    mode=st.sampled_from(["one_hot", "multi_hot", "count", "int"]),
    policy=st.sampled_from([None, "int32", "int64", "float32", "mixed_float16"]),
)
def test_category_encoding_and_hashing_like_keras(shape, count, mode, policy) -> None:
    if mode != "int":
        args = {"type": "CategoryEncoding", "num_tokens": count, "output_mode": mode}
        assert_same_as_keras(one_node({**args, "dtype": policy}, shape, "int32"))
    args = {"type": "Hashing", "num_bins": count, "output_mode": mode}
    assert_same_as_keras(one_node({**args, "dtype": policy}, shape, "int32"))


@EXAMPLES
@given(
    shape=shapes_of(st.integers(1, 3)),
    vocabulary=st.one_of(st.none(), st.lists(st.sampled_from("abcdef"), min_size=1, max_size=5)),
    mode=st.sampled_from(["int", "one_hot", "multi_hot", "count", "tf_idf"]),
    oov=st.integers(0, 2),
    mask=st.sampled_from([None, "", "a"]),
    max_tokens=st.sampled_from([None, 4, 8]),
    pad=st.booleans(),
)
def test_string_lookup_like_keras(shape, vocabulary, mode, oov, mask, max_tokens, pad) -> None:
    args = {"type": "StringLookup", "vocabulary": vocabulary, "output_mode": mode}
    args |= {"num_oov_indices": oov, "mask_token": mask, "max_tokens": max_tokens}
    if mode == "tf_idf" and vocabulary:
        args["idf_weights"] = [1.0] * len(vocabulary)
    assert_same_as_keras(one_node({**args, "pad_to_max_tokens": pad}, shape, "string"))


@EXAMPLES
@given(
    shape=shapes_of(st.integers(1, 3)),
    vocabulary=st.one_of(st.none(), st.lists(st.integers(-1, 6), min_size=1, max_size=5)),
    mode=st.sampled_from(["int", "one_hot", "multi_hot", "count"]),
    invert=st.booleans(),
    mask=st.sampled_from([None, 0]),
)
def test_integer_lookup_like_keras(shape, vocabulary, mode, invert, mask) -> None:
    args = {"type": "IntegerLookup", "vocabulary": vocabulary, "output_mode": mode}
    assert_same_as_keras(one_node({**args, "invert": invert, "mask_token": mask}, shape, "int64"))


MERGING = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]


@settings(max_examples=50, deadline=None)
@given(
    type_=st.sampled_from(MERGING),
    inputs=st.lists(
        shapes_of(st.integers(1, 4), st.sampled_from([None, 1, 2, 3])), min_size=1, max_size=3
    ),
    batches=st.lists(st.sampled_from([None, None, 1, 2]), min_size=3, max_size=3),
    dtype=DTYPES,
    policy=POLICY,
)
def test_elementwise_merges_like_keras(type_, inputs, batches, dtype, policy) -> None:
    inputs = [(b, *s[1:]) for s, b in zip(inputs, batches, strict=False)]
    assert_same_as_keras(merged({"type": type_, "dtype": policy}, inputs, dtype))


def varied(base: Shape, count: int) -> st.SearchStrategy[list[Shape]]:
    """``count`` shapes like ``base``, each axis sometimes unknown or another size."""

    def one() -> st.SearchStrategy[Shape]:
        return st.tuples(*(st.sampled_from([d, d, None, 2]) for d in base))

    return st.lists(one(), min_size=count, max_size=count)


@settings(max_examples=50, deadline=None)
@given(
    base=shapes_of(st.integers(1, 4), DIM),
    count=st.integers(1, 3),
    other_rank=st.booleans(),
    axis=st.integers(-4, 3),
    data=st.data(),
)
def test_concatenate_like_keras(base, count, other_rank, axis, data) -> None:
    inputs = data.draw(varied(base, count))
    if other_rank and len(base) > 1:
        inputs.append(base[:-1])
    assert_same_as_keras(merged({"type": "Concatenate", "axis": axis}, inputs))


@settings(max_examples=50, deadline=None)
@given(
    first=shapes_of(st.integers(1, 4), DIM),
    second=shapes_of(st.integers(1, 4), DIM),
    axes=st.one_of(st.integers(-3, 3), st.lists(st.integers(-3, 3), min_size=2, max_size=2)),
    normalize=st.booleans(),
    data=st.data(),
)
def test_dot_like_keras(first, second, axes, normalize, data) -> None:
    if data.draw(st.booleans()):  # make the contracted axes agree, as a working Dot has them
        second = data.draw(varied(first, 1))[0]
    args = {"type": "Dot", "axes": axes, "normalize": normalize}
    assert_same_as_keras(merged(args, [first, second]))
