"""Static rules of convolution, pooling, padding, cropping and upsampling layers.

Explicit cases pin output shapes, parameter counts and whole diagnostics, Keras's
quirks included (each case is also built with Keras); Hypothesis then compares
random layers, arguments and input shapes with what Keras builds.
"""

from __future__ import annotations

import json
from typing import Any

import keras
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keraspec
from keraspec import shapes
from keraspec.emit.keras_model import ModelBuilder
from keraspec.lower import lower as lower_ir
from shape_oracle import assert_same_as_keras, infer_node, located

pytestmark = pytest.mark.keras


def spec(shape: str, node: str, batch: int | None = None) -> str:
    """One input ``x`` and one node ``y`` (line 6, column 3)."""
    sized = f", batch_size: {batch}" if batch else ""
    return (
        f"keraspec: 1\nname: t\ninputs:\n  x: {{shape: {shape}{sized}}}\n"
        f"nodes:\n  y: {{{node}, inputs: x}}\noutputs: [y]\n"
    )


# What Keras builds: output shape (batch axis first) and count_params().
BUILDS = [
    # Conv: (n - span) // stride + 1 for valid, (n - 1) // stride + 1 for same and causal
    ("[28, 28, 3]", "type: Conv2D, filters: 8, kernel_size: 3", (None, 26, 26, 8), 224),
    (
        "[3, 28, 28]",
        "type: Conv2D, filters: 8, kernel_size: 3, data_format: channels_first",
        (None, 8, 26, 26),
        224,
    ),
    (
        "[null, 9, 4]",
        "type: Conv2D, filters: 6, kernel_size: [3, 1], strides: 2, padding: same, groups: 2",
        (None, None, 5, 6),
        42,
    ),
    (  # LoRA adds (3, 3, 4, 2) and (2, 6) to the (3, 3, 4, 6) kernel
        "[9, 9, 4]",
        "type: Conv2D, filters: 6, kernel_size: 3, use_bias: false, lora_rank: 2",
        (None, 7, 7, 6),
        300,
    ),
    (
        "[16, 4]",
        "type: Conv1D, filters: 2, kernel_size: 3, padding: causal, dilation_rate: 4",
        (None, 16, 2),
        26,
    ),
    (
        "[7, 7, 7, 2]",
        "type: Conv3D, filters: 4, kernel_size: [3, 2, 1], strides: [2, 1, 3]",
        (None, 3, 6, 3, 4),
        52,
    ),
    # Transposed: valid is (n - 1) * stride + max(span, stride) without output_padding
    (
        "[5, 5, 3]",
        "type: Conv2DTranspose, filters: 4, kernel_size: 3, strides: 2",
        (None, 11, 11, 4),
        112,
    ),
    (
        "[5, 5, 3]",
        "type: Conv2DTranspose, filters: 4, kernel_size: 1, strides: 3",
        (None, 15, 15, 4),
        16,
    ),
    (
        "[5, 5, 3]",
        "type: Conv2DTranspose, filters: 4, kernel_size: 3, strides: 2, padding: same, "
        "output_padding: 1",
        (None, 10, 10, 4),
        112,
    ),
    (  # same with output_padding: (n - 1) * stride + span % 2 + output_padding, here 0
        "[1, 1, 3]",
        "type: Conv2DTranspose, filters: 4, kernel_size: 2, padding: same, output_padding: 0",
        (None, 0, 0, 4),
        52,
    ),
    (
        "[3, null]",
        "type: Conv1DTranspose, filters: 3, kernel_size: 3, dilation_rate: 2, "
        "data_format: channels_first",
        (None, 3, None),
        30,
    ),
    (
        "[4, 4, 4, 2]",
        "type: Conv3DTranspose, filters: 1, kernel_size: 2, strides: 2, use_bias: false",
        (None, 8, 8, 8, 1),
        16,
    ),
    (  # depthwise and separable convolutions allow strides and dilation together
        "[9, 9, 3]",
        "type: DepthwiseConv2D, kernel_size: 3, depth_multiplier: 2, strides: 2, dilation_rate: 2",
        (None, 3, 3, 6),
        60,
    ),
    (
        "[3, 10]",
        "type: DepthwiseConv1D, kernel_size: 3, data_format: channels_first",
        (None, 3, 8),
        12,
    ),
    (
        "[9, 9, 3]",
        "type: SeparableConv2D, filters: 8, kernel_size: 3, depth_multiplier: 2",
        (None, 7, 7, 8),
        110,
    ),
    (
        "[10, 4]",
        "type: SeparableConv1D, filters: 5, kernel_size: 3, padding: same, use_bias: false",
        (None, 10, 5),
        32,
    ),
    # Pooling: strides default to the pool size
    ("[7, 7, 3]", "type: MaxPooling2D", (None, 3, 3, 3), 0),
    (
        "[7, 7, 3]",
        "type: MaxPooling2D, pool_size: 3, strides: 1, padding: same",
        (None, 7, 7, 3),
        0,
    ),
    (
        "[3, 9]",
        "type: AveragePooling1D, pool_size: 4, data_format: channels_first",
        (None, 3, 2),
        0,
    ),
    (
        "[5, null, 6, 2]",
        "type: AvgPool3D, pool_size: [2, 3, 4], strides: [1, 2, 3]",
        (None, 4, None, 1, 2),
        0,
    ),
    ("[null, 4]", "type: GlobalAveragePooling1D", (None, 4), 0),
    ("[6, 6, 3]", "type: GlobalMaxPooling2D, keepdims: true", (None, 1, 1, 3), 0),
    (
        "[3, 6, 6, 6]",
        "type: GlobalAvgPool3D, keepdims: true, data_format: channels_first",
        (None, 3, 1, 1, 1),
        0,
    ),
    # Adaptive pooling checks neither the input's rank nor a zero output size
    ("[7, 3]", "type: AdaptiveAveragePooling2D, output_size: 4", (None, 4, 4, 3), 0),
    ("[9, 9, 3]", "type: AdaptiveMaxPooling2D, output_size: [3, 0]", (None, 3, 0, 3), 0),
    # Padding: an int, a pair, or an int or a pair per axis
    ("[7, 3]", "type: ZeroPadding1D", (None, 9, 3), 0),
    (
        "[3, 7]",
        "type: ZeroPadding1D, padding: [1, 4], data_format: channels_first",
        (None, 3, 12),
        0,
    ),
    ("[5, 5, 3]", "type: ZeroPadding2D, padding: 2", (None, 9, 9, 3), 0),
    ("[5, 5, 3]", "type: ZeroPadding2D, padding: [1, 2]", (None, 7, 9, 3), 0),
    ("[5, 5, 3]", "type: ZeroPadding2D, padding: [[0, 1], 3]", (None, 6, 11, 3), 0),
    # A lone negative int is not checked by ZeroPadding2D/3D: it crops, down to zero
    ("[2, null, 3]", "type: ZeroPadding2D, padding: -1", (None, 0, None, 3), 0),
    ("[4, 4, 4, 1]", "type: ZeroPadding3D", (None, 6, 6, 6, 1), 0),
    ("[7, 3]", "type: Cropping1D", (None, 5, 3), 0),
    ("[7, 7, 3]", "type: Cropping2D", (None, 7, 7, 3), 0),
    (
        "[3, 7, 7]",
        "type: Cropping2D, cropping: [[1, 2], 3], data_format: channels_first",
        (None, 3, 4, 1),
        0,
    ),
    ("[4, 5, 6, 1]", "type: Cropping3D", (None, 2, 3, 4, 1), 0),
    ("[null, 3]", "type: UpSampling1D, size: 3", (None, None, 3), 0),
    (
        "[2, 3, 1]",
        "type: UpSampling2D, size: [2, 3], interpolation: bilinear",
        (None, 4, 9, 1),
        0,
    ),
    ("[1, 2, 3, 4]", "type: UpSampling3D, data_format: channels_first", (None, 1, 4, 6, 8), 0),
]


@pytest.mark.parametrize(("shape", "node", "output", "params"), BUILDS)
def test_output_shape_and_parameters(shape: str, node: str, output: tuple, params: int) -> None:
    text = spec(shape, node)
    assert infer_node(text) == shapes.NodeShapes("y", shapes.Tensor(output, "float32"), params)
    assert_same_as_keras(text)


def test_the_batch_axis_and_the_compute_dtype_are_kept() -> None:
    text = spec("[8, 8, 3]", "type: Conv2D, filters: 2, kernel_size: 3, dtype: mixed_float16", 4)
    assert infer_node(text).output == shapes.Tensor((4, 6, 6, 2), "float16")
    assert_same_as_keras(text)


# Keras standardises these with a tuple of one, so it takes [2] as well as 2; the
# catalog's types (from the docstrings) say integer, so validate refuses them (E227).
LISTS_OF_ONE = [
    ("type: MaxPooling1D, pool_size: [2]", (None, 4, 2)),
    ("type: AdaptiveAveragePooling1D, output_size: [3]", (None, 3, 2)),
    (
        "type: Conv1DTranspose, filters: 1, kernel_size: 2, dilation_rate: [2], "
        "output_padding: [0]",
        (None, 11, 1),
    ),
]


@pytest.mark.parametrize(("node", "output"), LISTS_OF_ONE)
def test_1d_layers_take_a_list_of_one_as_keras_does(node: str, output: tuple) -> None:
    program = lower_ir(keraspec.loads(spec("[9, 2]", node)))
    assert shapes.infer(program).main.nodes["y"].output.shape == output
    keras.backend.clear_session(free_memory=False)
    assert ModelBuilder(program).build().get_layer("y").output.shape == output


# What Keras refuses, reported at the node (line 6, column 3) as E600.
REFUSALS = [
    (
        "[7, 3]",
        "type: Conv2D, filters: 4, kernel_size: 3",
        "Conv2D): expects a rank-4 input (batch axis included); received (None, 7, 3)",
    ),
    (
        "[7, 7, 7, 3]",
        "type: Conv2D, filters: 4, kernel_size: 3",
        "Conv2D): expects a rank-4 input (batch axis included); received (None, 7, 7, 7, 3)",
    ),
    (
        "[2, 8, 3]",
        "type: Conv2D, filters: 4, kernel_size: 3",
        "Conv2D): kernel 3 is larger than the input length 2 along axis 1 of (None, 2, 8, 3)",
    ),
    (
        "[8, 3, 3]",
        "type: Conv2D, filters: 4, kernel_size: 2, dilation_rate: [1, 3]",
        "Conv2D): kernel 2 dilated by 3 spans 4, larger than the input length 3 along axis 2 "
        "of (None, 8, 3, 3)",
    ),
    (
        "[8, 8, null]",
        "type: Conv2D, filters: 4, kernel_size: 3",
        "Conv2D): the channel axis (-1) of its input must be known; received (None, 8, 8, None)",
    ),
    (
        "[null, 6]",
        "type: Conv1DTranspose, filters: 3, kernel_size: 3, data_format: channels_first",
        "Conv1DTranspose): the channel axis (1) of its input must be known; "
        "received (None, None, 6)",
    ),
    (
        "[8, 8, 3]",
        "type: Conv2D, filters: 4, kernel_size: 3, groups: 2",
        "Conv2D): the 3 input channels of (None, 8, 8, 3) must be divisible by `groups` 2",
    ),
    (
        "[8, 8, 4]",
        "type: Conv2D, filters: 3, kernel_size: 3, groups: 2",
        "Conv2D): `filters` 3 must be divisible by `groups` 2",
    ),
    (
        "[8, 8, 4]",
        "type: Conv2D, filters: 3, kernel_size: 3, groups: 0",
        "Conv2D): `groups` must be a positive integer; received 0",
    ),
    (
        "[8, 8, 4]",
        "type: Conv2D, filters: 4, kernel_size: 3, strides: [1, 2], dilation_rate: 2",
        "Conv2D): `strides` above 1 cannot be combined with `dilation_rate` above 1; "
        "received strides [1, 2] and dilation_rate 2",
    ),
    (
        "[8, 8, 4]",
        "type: Conv2D, filters: 4, kernel_size: 3, padding: causal",
        "Conv2D): `padding` must be `valid` or `same`; received 'causal'",
    ),
    (
        "[8, 4]",
        "type: DepthwiseConv1D, kernel_size: 3, padding: causal",
        "DepthwiseConv1D): `padding` must be `valid` or `same`; received 'causal'",
    ),
    (
        "[8, 8, 4]",
        "type: Conv2D, filters: 4, kernel_size: [3, 3, 3]",
        "Conv2D): `kernel_size` must be an integer or a list of 2; received [3, 3, 3]",
    ),
    (
        "[8, 8, 4]",
        "type: Conv2D, filters: 4, kernel_size: 3, data_format: channels_middle",
        "Conv2D): `data_format` must be `channels_last` or `channels_first`; "
        "received 'channels_middle'",
    ),
    (
        "[8, 8, 4]",
        "type: Conv2DTranspose, filters: 4, kernel_size: 3, strides: [2, 1], output_padding: 1",
        "Conv2DTranspose): `output_padding` 1 must be less than `strides` [2, 1] on every axis",
    ),
    (  # convolutions lower-case `padding`, pooling layers do not
        "[8, 8, 4]",
        "type: MaxPooling2D, padding: SAME",
        "MaxPooling2D): `padding` must be `valid` or `same` (in lower case); received 'SAME'",
    ),
    (
        "[2, 8, 4]",
        "type: MaxPooling2D, pool_size: 3",
        "MaxPooling2D): pool size 3 is larger than the input length 2 along axis 1 "
        "of (None, 2, 8, 4)",
    ),
    (
        "[8, 8, 4]",
        "type: GlobalAveragePooling1D",
        "GlobalAveragePooling1D): expects a rank-3 input (batch axis included); "
        "received (None, 8, 8, 4)",
    ),
    (
        "[8, 4]",
        "type: AdaptiveAveragePooling1D, output_size: [2, 2]",
        "AdaptiveAveragePooling1D): `output_size` must be an integer or a list of 1; "
        "received [2, 2]",
    ),
    (
        "[8, 4]",
        "type: AdaptiveMaxPooling1D, output_size: -1",
        "AdaptiveMaxPooling1D): the output (None, -1, 4) would have a negative size",
    ),
    (  # adaptive pooling takes `data_format` as written, other layers lower-case it
        "[8, 4]",
        "type: AdaptiveMaxPooling1D, output_size: 2, data_format: CHANNELS_LAST",
        "AdaptiveMaxPooling1D): `data_format` must be `channels_last` or `channels_first`; "
        "received 'CHANNELS_LAST'",
    ),
    (
        "[1, 8, 4]",
        "type: ZeroPadding2D, padding: -1",
        "ZeroPadding2D): the output (None, -1, 6, 4) would have a negative size",
    ),
    (
        "[8, 4]",
        "type: ZeroPadding1D, padding: -1",
        "ZeroPadding1D): `padding` cannot be negative; received -1",
    ),
    (
        "[8, 8, 4]",
        "type: ZeroPadding2D, padding: [-1, 2]",
        "ZeroPadding2D): `padding` cannot be negative; received -1",
    ),
    (
        "[8, 8, 4]",
        "type: ZeroPadding2D, padding: [1, 2, 3]",
        "ZeroPadding2D): `padding` must be an integer or a list of 2 (an integer or a pair "
        "per axis); received [1, 2, 3]",
    ),
    (
        "[8, 8, 4]",
        "type: Cropping2D, cropping: -1",
        "Cropping2D): `cropping` cannot be negative; received -1",
    ),
    (
        "[3, 8, 4]",
        "type: Cropping2D, cropping: [[1, 2], 0]",
        "Cropping2D): cropping 1 + 2 leaves nothing of the input length 3 along axis 1 "
        "of (None, 3, 8, 4)",
    ),
    (
        "[8, 4]",
        "type: Cropping1D, cropping: [4, 4]",
        "Cropping1D): cropping 4 + 4 leaves nothing of the input length 8 along axis 1 "
        "of (None, 8, 4)",
    ),
    (
        "[8, 4]",
        "type: UpSampling1D, size: [2]",
        "UpSampling1D): `size` must be an integer; received [2]",
    ),
    (
        "[8, 8, 4]",
        "type: UpSampling2D, size: 0",
        "UpSampling2D): `size` must be positive; received 0",
    ),
]


@pytest.mark.parametrize(("shape", "node", "message"), REFUSALS)
def test_what_keras_refuses_is_an_error_at_the_node(shape: str, node: str, message: str) -> None:
    text = spec(shape, node)
    assert infer_node(text, validate=False) == [f"6:3 E600 node `y` ({message}"]
    assert_same_as_keras(text)


def test_a_refusal_stops_nothing_else_and_validate_reports_it() -> None:
    text = spec("[2, 8, 3]", "type: MaxPooling2D, pool_size: 3").replace(
        "outputs: [y]",
        "  z: {type: Conv2D, filters: 1, kernel_size: 9, inputs: x}\noutputs: [y, z]",
    )
    assert [located(d) for d in keraspec.validate(keraspec.loads(text))] == [
        "6:3 E600 node `y` (MaxPooling2D): pool size 3 is larger than the input length 2 "
        "along axis 1 of (None, 2, 8, 3)",
        "7:3 E600 node `z` (Conv2D): kernel 9 is larger than the input length 2 "
        "along axis 1 of (None, 2, 8, 3)",
    ]


# Against Keras: random layers of the family, arguments and input shapes -------------

SPATIAL = st.sampled_from([None, None, *range(1, 13)])  # None: a variable-length axis
CHANNELS = st.sampled_from([*range(1, 7), *range(1, 7), None])  # unknown: refused
BATCH = st.sampled_from([None, None, None, 1, 3])
DATA_FORMATS = st.sampled_from([None, "channels_last", "channels_first"])
PADDINGS = st.sampled_from(["valid", "same", "valid", "same", "causal"])


def window(n: int, low: int, high: int, listed: bool = True) -> st.SearchStrategy[Any]:
    """An int-or-list argument: one int, or one per spatial axis.

    Not ``listed``: the catalog types the argument as an integer (from Keras's
    docstring), so validate refuses the list of one that Keras itself accepts.
    """
    one = st.integers(low, high)
    return st.one_of(one, st.lists(one, min_size=n, max_size=n)) if listed else one


def pairs(n: int, low: int) -> st.SearchStrategy[Any]:
    """Padding or cropping: an int, a pair (1D), or an int or a pair per axis."""
    one = st.integers(0, 3)
    pair = st.lists(one, min_size=2, max_size=2)
    if n == 1:
        return st.one_of(one, pair)
    return st.one_of(st.integers(low, 3), st.lists(st.one_of(one, pair), min_size=n, max_size=n))


@st.composite
def input_shapes(draw: st.DrawFn, n: int, data_format: str | None, exact: bool = False) -> list:
    """Spatial axes and channels (mostly known), at times one axis too few or too many."""
    count = n if exact else draw(st.sampled_from([n] * 6 + [n - 1, n + 1]))
    spatial = draw(st.lists(SPATIAL, min_size=count, max_size=count))
    channels = draw(CHANNELS)
    return [channels, *spatial] if data_format == "channels_first" else [*spatial, channels]


def draw_some(draw: st.DrawFn, **options: st.SearchStrategy[Any]) -> dict[str, Any]:
    """Each optional argument, given or left to its default."""
    return {k: draw(s) for k, s in options.items() if draw(st.booleans())}


@st.composite
def convolutions(draw: st.DrawFn, n: int) -> tuple[str, dict[str, Any]]:
    family = draw(st.sampled_from(["Conv", "Conv", "Transpose", "Depthwise", "Separable"]))
    family = "Conv" if n == 3 and family in ("Depthwise", "Separable") else family
    listed = not (n == 1 and family == "Transpose")
    args = {"kernel_size": draw(window(n, 1, 4))}
    args |= draw_some(
        draw, strides=window(n, 1, 3), dilation_rate=window(n, 1, 3, listed), padding=PADDINGS
    )
    args |= draw_some(draw, use_bias=st.booleans())
    if family == "Conv":
        groups = draw(st.integers(1, 3))
        args |= {"filters": groups * draw(st.integers(1, 3)), "groups": groups}
        args |= draw_some(draw, lora_rank=st.integers(1, 2))
        return f"Conv{n}D", args
    if family == "Transpose":
        args |= {"filters": draw(st.integers(1, 4))}
        args |= draw_some(draw, output_padding=window(n, 0, 2, listed))
        return f"Conv{n}DTranspose", args
    args |= draw_some(draw, depth_multiplier=st.integers(1, 3))
    if family == "Depthwise":
        return f"DepthwiseConv{n}D", args
    return f"SeparableConv{n}D", {**args, "filters": draw(st.integers(1, 4))}


@st.composite
def poolings(draw: st.DrawFn, n: int) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["MaxPooling", "AveragePooling", "MaxPool", "AvgPool"] * 2))
    adaptive = "AdaptiveMaxPooling" if kind.startswith("Max") else "AdaptiveAveragePooling"
    kind = draw(st.sampled_from([kind, f"Global{kind}", adaptive]))
    if kind.startswith("Global"):
        return f"{kind}{n}D", draw_some(draw, keepdims=st.booleans())
    if kind.startswith("Adaptive"):
        return f"{kind}{n}D", {"output_size": draw(window(n, 0, 5, n > 1))}
    args = {"pool_size": draw(window(n, 1, 4, n > 1))}
    return f"{kind}{n}D", args | draw_some(
        draw, strides=window(n, 1, 3), padding=st.sampled_from(["valid", "same"])
    )


@st.composite
def reshapings(draw: st.DrawFn, n: int) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["ZeroPadding", "Cropping", "UpSampling"]))
    if kind == "ZeroPadding":  # a lone negative int is allowed in 2D and 3D
        return f"ZeroPadding{n}D", draw_some(draw, padding=pairs(n, -2))
    if kind == "Cropping":
        return f"Cropping{n}D", draw_some(draw, cropping=pairs(n, 0))
    size = st.integers(1, 3) if n == 1 else window(n, 1, 3)
    return f"UpSampling{n}D", draw_some(draw, size=size)


def node_text(type_: str, args: dict[str, Any], data_format: str | None) -> str:
    if data_format and type_ not in ("Cropping1D", "UpSampling1D"):  # these have none
        args = {**args, "data_format": data_format}
    return ", ".join([f"type: {type_}", *(f"{k}: {json.dumps(v)}" for k, v in args.items())])


@st.composite
def single_layers(draw: st.DrawFn, family: Any) -> str:
    n, data_format = draw(st.integers(1, 3)), draw(DATA_FORMATS)
    type_, args = draw(family(n))
    shape = draw(input_shapes(n, data_format))
    return spec(json.dumps(shape), node_text(type_, args, data_format), draw(BATCH))


@st.composite
def chains(draw: st.DrawFn) -> str:
    """Two or three 2D layers in a row: unknown and zero sizes flow from one to the next."""
    data_format = draw(DATA_FORMATS)
    shape = draw(input_shapes(2, data_format, exact=True))
    family = st.one_of(convolutions(2), poolings(2), reshapings(2))
    layers = draw(st.lists(family, min_size=2, max_size=3))
    nodes = "".join(
        f"  n{i}: {{{node_text(t, a, data_format)}, inputs: {f'n{i - 1}' if i else 'x'}}}\n"
        for i, (t, a) in enumerate(layers)
    )
    return (
        f"keraspec: 1\nname: t\ninputs:\n  x: {{shape: {json.dumps(shape)}}}\n"
        f"nodes:\n{nodes}outputs: [n{len(layers) - 1}]\n"
    )


@settings(max_examples=30, deadline=None)
@given(single_layers(convolutions))
def test_convolutions_as_keras_builds_them(text: str) -> None:
    assert_same_as_keras(text)


@settings(max_examples=30, deadline=None)
@given(single_layers(poolings))
def test_pooling_as_keras_builds_it(text: str) -> None:
    assert_same_as_keras(text)


@settings(max_examples=30, deadline=None)
@given(single_layers(reshapings))
def test_padding_cropping_and_upsampling_as_keras_builds_them(text: str) -> None:
    assert_same_as_keras(text)


@settings(max_examples=30, deadline=None)
@given(chains())
def test_chains_of_2d_layers_as_keras_builds_them(text: str) -> None:
    assert_same_as_keras(text)
