"""Shape rules for convolution, pooling, padding, cropping and upsampling layers.

Sizes follow Keras 3's ``compute_conv_output_shape``, ``compute_pooling_output_shape``
and ``compute_conv_transpose_output_shape``; weights follow each layer's ``build``.
What Keras refuses when it makes or builds the layer is refused here too.
``data_format: null`` is Keras's default image data format, ``channels_last``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..arguments import is_int, is_positive_int
from ..diagnostics import written_as
from ..ir import thaw
from .registry import Inputs, Layer, Result, expect_rank, layer
from .tensor import Shape, ShapeError, Tensor, show

Dims = tuple[int | None, ...]
Ints = tuple[int, ...]


# Arguments ---------------------------------------------------------------------------


def _rank(lay: Layer) -> int:
    """The number of spatial axes, from the class name: ``Conv2DTranspose`` → 2."""
    found = re.search(r"(\d)D", lay.type)
    assert found is not None, lay.type
    return int(found.group(1))


def _arg(lay: Layer, name: str) -> Any:
    value = lay[name]
    if isinstance(value, Mapping) and "repr" in value:  # a catalog default Keras writes as tuples
        return ast.literal_eval(value["repr"])
    return value


def _echo(value: Any) -> str:
    return written_as(thaw(value))


def _positive(lay: Layer, name: str) -> int:
    value = lay[name]
    if not is_positive_int(value):
        raise ShapeError(f"`{name}` must be a positive integer; received {_echo(value)}")
    return value


def _ints(lay: Layer, name: str, n: int, low: int = 1) -> Ints:
    """An int-or-list argument as ``n`` ints of at least ``low`` (Keras's ``standardize_tuple``)."""
    value = _arg(lay, name)
    items = (value,) * n if is_int(value) else value
    if not (isinstance(items, Sequence) and len(items) == n and all(map(is_int, items))):
        raise ShapeError(f"`{name}` must be an integer or a list of {n}; received {_echo(value)}")
    if min(items) < low:
        least = "positive" if low == 1 else "0 or more"
        raise ShapeError(f"`{name}` must be {least}; received {_echo(value)}")
    return tuple(items)


def _pairs(lay: Layer, name: str, n: int, signed: bool = False) -> tuple[Ints, ...]:
    """Padding or cropping per spatial axis as (before, after) pairs.

    1D takes an int or one pair; 2D and 3D an int, or a list with an int or a pair
    per axis. Only a lone int given to ZeroPadding2D/3D may be negative (``signed``).
    """
    value = _arg(lay, name)
    if n == 1:
        return (_pair(value, name),)
    if is_int(value):
        if value < 0 and not signed:
            raise ShapeError(f"`{name}` cannot be negative; received {value}")
        return ((value, value),) * n
    if not isinstance(value, Sequence) or len(value) != n:
        raise ShapeError(
            f"`{name}` must be an integer or a list of {n} (an integer or a pair per axis); "
            f"received {_echo(value)}"
        )
    return tuple(_pair(v, name) for v in value)


def _pair(value: Any, name: str) -> Ints:
    pair = (value, value) if is_int(value) else value
    if not (isinstance(pair, Sequence) and len(pair) == 2 and all(map(is_int, pair))):
        raise ShapeError(f"`{name}` takes integers, alone or in pairs; received {_echo(value)}")
    if min(pair) < 0:
        raise ShapeError(f"`{name}` cannot be negative; received {_echo(value)}")
    return tuple(pair)


def _channels_last(lay: Layer, exact: bool = False) -> bool:
    """Whether ``data_format`` puts channels last.

    ``exact`` (adaptive pooling): any false value means the default, and the name is
    not lower-cased; elsewhere only null is the default.
    """
    value = lay.args.get("data_format")  # Cropping1D and UpSampling1D have none
    if value is None or (exact and not value):
        return True
    text = value if exact else str(value).lower()
    if text not in ("channels_last", "channels_first"):
        raise ShapeError(
            f"`data_format` must be `channels_last` or `channels_first`; received {_echo(value)}"
        )
    return text == "channels_last"


def _padding(lay: Layer, allowed: tuple[str, ...], exact: bool = False) -> str:
    """The ``padding`` mode; convolutions lower-case it, pooling layers (``exact``) do not."""
    value = lay["padding"]
    text = value if exact or not isinstance(value, str) else value.lower()
    if text not in allowed:
        names = " or ".join(f"`{a}`" for a in allowed)
        case = " (in lower case)" if exact and str(value).lower() in allowed else ""
        raise ShapeError(f"`padding` must be {names}{case}; received {_echo(value)}")
    return text


# Shapes ------------------------------------------------------------------------------


def _image(inputs: Inputs, n: int) -> Shape:
    return expect_rank(inputs.tensor(), n + 2)


def _spatial(shape: Shape, last: bool) -> Dims:
    return tuple(shape[1:-1] if last else shape[2:])


def _first_axis(last: bool) -> int:
    return 1 if last else 2


def _assemble(shape: Shape, spatial: Dims, last: bool, channels: Any = ...) -> Shape:
    """``shape`` with new spatial axes (and channels, when given)."""
    if channels is ...:
        channels = shape[-1] if last else shape[1]
    return (shape[0], *spatial, channels) if last else (shape[0], channels, *spatial)


def _channels(shape: Shape, last: bool) -> int:
    """The channel count a layer makes its weights from: it must be known."""
    channels = shape[-1] if last else shape[1]
    if channels is None:
        axis = -1 if last else 1
        raise ShapeError(
            f"the channel axis ({axis}) of its input must be known; received {show(shape)}"
        )
    return channels


def _out(lay: Layer, shape: Shape) -> Tensor:
    """The output tensor; Keras refuses a negative size (a zero size it keeps)."""
    if any(d is not None and d < 0 for d in shape):
        raise ShapeError(f"the output {show(shape)} would have a negative size")
    return lay.out(shape)


def _bias(lay: Layer, units: int) -> list[Shape]:
    return [(units,)] if lay["use_bias"] else []


# Windows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    kernel: Ints
    strides: Ints
    dilation: Ints
    padding: str


def _window(lay: Layer, n: int, paddings: tuple[str, ...], strided_dilation: bool) -> Window:
    """Kernel, strides, dilation and padding; ``strided_dilation``: may both exceed 1."""
    kernel = _ints(lay, "kernel_size", n)
    strides = _ints(lay, "strides", n)
    dilation = _ints(lay, "dilation_rate", n)
    if not strided_dilation and max(strides) > 1 and max(dilation) > 1:
        raise ShapeError(
            "`strides` above 1 cannot be combined with `dilation_rate` above 1; received "
            f"strides {_echo(lay['strides'])} and dilation_rate {_echo(lay['dilation_rate'])}"
        )
    return Window(kernel, strides, dilation, _padding(lay, paddings))


def _lengths(shape: Shape, last: bool, window: Window, what: str = "kernel") -> Dims:
    """Output lengths of a convolution or pooling window along each spatial axis."""
    spans = zip(_spatial(shape, last), window.kernel, window.strides, window.dilation, strict=True)
    out: list[int | None] = []
    for axis, (n, k, s, d) in enumerate(spans, start=_first_axis(last)):
        span = d * (k - 1) + 1
        if n is None:
            out.append(None)
        elif window.padding != "valid":  # same, causal
            out.append((n - 1) // s + 1)
        elif span <= n:
            out.append((n - span) // s + 1)
        else:
            dilated = f" dilated by {d} spans {span}," if d > 1 else " is"
            raise ShapeError(
                f"{what} {k}{dilated} larger than the input length {n} "
                f"along axis {axis} of {show(shape)}"
            )
    return tuple(out)


def _transpose_length(
    n: int | None, k: int, s: int, d: int, extra: int | None, padding: str
) -> int | None:
    """``_get_output_shape_given_tf_padding`` of keras/src/backend/common/backend_utils.py."""
    if n is None:
        return None
    span = (k - 1) * d + 1
    if padding == "valid":
        return (n - 1) * s + span + (max(span, s) - span if extra is None else extra)
    return n * s if extra is None else (n - 1) * s + span % 2 + extra


# Convolutions ------------------------------------------------------------------------

CONV = ("Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D")
TRANSPOSE = tuple(f"{name}Transpose" for name in CONV)
VALID_SAME = ("valid", "same")


@layer(*CONV)
def conv(lay: Layer, inputs: Inputs) -> Result:
    n = _rank(lay)
    window = _window(lay, n, (*VALID_SAME, "causal") if n == 1 else VALID_SAME, False)
    filters, groups = _positive(lay, "filters"), _positive(lay, "groups")
    if filters % groups:
        raise ShapeError(f"`filters` {filters} must be divisible by `groups` {groups}")
    last = _channels_last(lay)
    shape = _image(inputs, n)
    channels = _channels(shape, last)
    if channels % groups:
        raise ShapeError(
            f"the {channels} input channels of {show(shape)} must be divisible by `groups` {groups}"
        )
    kernel = (*window.kernel, channels // groups, filters)
    weights = [kernel, *_bias(lay, filters)]
    if lay["lora_rank"]:  # LoRA's two factors of the kernel
        rank = _positive(lay, "lora_rank")
        weights += [(*kernel[:-1], rank), (rank, filters)]
    output = _assemble(shape, _lengths(shape, last, window), last, filters)
    return Result(_out(lay, output), tuple(weights))


@layer(*TRANSPOSE)
def conv_transpose(lay: Layer, inputs: Inputs) -> Result:
    n = _rank(lay)
    window = _window(lay, n, VALID_SAME, False)
    filters = _positive(lay, "filters")
    extra = _output_padding(lay, n, window.strides)
    last = _channels_last(lay)
    shape = _image(inputs, n)
    channels = _channels(shape, last)
    spatial = _spatial(shape, last)
    sizes = zip(spatial, window.kernel, window.strides, window.dilation, extra, strict=True)
    lengths = tuple(_transpose_length(*size, window.padding) for size in sizes)
    return Result(
        _out(lay, _assemble(shape, lengths, last, filters)),
        ((*window.kernel, filters, channels), *_bias(lay, filters)),
    )


def _output_padding(lay: Layer, n: int, strides: Ints) -> tuple[int | None, ...]:
    if lay["output_padding"] is None:
        return (None,) * n
    extra = _ints(lay, "output_padding", n, low=0)
    if any(e >= s for e, s in zip(extra, strides, strict=True)):
        raise ShapeError(
            f"`output_padding` {_echo(lay['output_padding'])} must be less than `strides` "
            f"{_echo(lay['strides'])} on every axis"
        )
    return extra


@layer("DepthwiseConv1D", "DepthwiseConv2D")
def depthwise_conv(lay: Layer, inputs: Inputs) -> Result:
    n = _rank(lay)
    window = _window(lay, n, VALID_SAME, True)
    multiplier = _positive(lay, "depth_multiplier")
    last = _channels_last(lay)
    shape = _image(inputs, n)
    channels = _channels(shape, last)
    output = _assemble(shape, _lengths(shape, last, window), last, channels * multiplier)
    weights = ((*window.kernel, channels, multiplier), *_bias(lay, channels * multiplier))
    return Result(_out(lay, output), weights)


@layer("SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D")
def separable_conv(lay: Layer, inputs: Inputs) -> Result:
    n = _rank(lay)
    window = _window(lay, n, VALID_SAME, True)
    multiplier, filters = _positive(lay, "depth_multiplier"), _positive(lay, "filters")
    last = _channels_last(lay)
    shape = _image(inputs, n)
    channels = _channels(shape, last)
    weights = (
        (*window.kernel, channels, multiplier),
        (*(1,) * n, channels * multiplier, filters),
        *_bias(lay, filters),
    )
    output = _assemble(shape, _lengths(shape, last, window), last, filters)
    return Result(_out(lay, output), weights)


# Pooling -----------------------------------------------------------------------------

POOLING = tuple(
    f"{kind}{n}D"
    for kind in ("MaxPooling", "AveragePooling", "MaxPool", "AvgPool")
    for n in (1, 2, 3)
)
GLOBAL_POOLING = tuple(
    f"Global{kind}{n}D"
    for kind in ("MaxPooling", "AveragePooling", "MaxPool", "AvgPool")
    for n in (1, 2, 3)
)
ADAPTIVE_POOLING = tuple(
    f"Adaptive{kind}Pooling{n}D" for kind in ("Max", "Average") for n in (1, 2, 3)
)


@layer(*POOLING)
def pooling(lay: Layer, inputs: Inputs) -> Tensor:
    n = _rank(lay)
    pool = _ints(lay, "pool_size", n)
    strides = pool if lay["strides"] is None else _ints(lay, "strides", n)
    window = Window(pool, strides, (1,) * n, _padding(lay, VALID_SAME, exact=True))
    last = _channels_last(lay)
    shape = _image(inputs, n)
    return _out(lay, _assemble(shape, _lengths(shape, last, window, "pool size"), last))


@layer(*GLOBAL_POOLING)
def global_pooling(lay: Layer, inputs: Inputs) -> Tensor:
    n = _rank(lay)
    last = _channels_last(lay)
    shape = _image(inputs, n)
    if lay["keepdims"]:
        return lay.out(_assemble(shape, (1,) * n, last))
    return lay.out((shape[0], shape[-1] if last else shape[1]))


@layer(*ADAPTIVE_POOLING)
def adaptive_pooling(lay: Layer, inputs: Inputs) -> Tensor:
    """No input rank check in Keras: any input gets ``output_size`` as its spatial axes."""
    n = _rank(lay)
    size = lay["output_size"]
    size = (size,) * n if is_int(size) else size
    if not (isinstance(size, Sequence) and len(size) == n):
        raise ShapeError(
            f"`output_size` must be an integer or a list of {n}; received {_echo(size)}"
        )
    if not all(s is None or is_int(s) for s in size):
        raise ShapeError(f"`output_size` must be made of integers; received {_echo(size)}")
    last = _channels_last(lay, exact=True)
    x = inputs.tensor()
    shape = x.shape if last else expect_rank(x, tuple(range(2, 10)))
    assert shape is not None
    return _out(lay, _assemble(shape, tuple(size), last))


# Padding, cropping, upsampling -------------------------------------------------------


@layer("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def zero_padding(lay: Layer, inputs: Inputs) -> Tensor:
    n = _rank(lay)
    pads = _pairs(lay, "padding", n, signed=True)
    last = _channels_last(lay)
    shape = _image(inputs, n)
    spatial = zip(_spatial(shape, last), pads, strict=True)
    lengths = tuple(None if d is None else d + a + b for d, (a, b) in spatial)
    return _out(lay, _assemble(shape, lengths, last))


@layer("Cropping1D", "Cropping2D", "Cropping3D")
def cropping(lay: Layer, inputs: Inputs) -> Tensor:
    n = _rank(lay)
    crops = _pairs(lay, "cropping", n)
    last = _channels_last(lay)
    shape = _image(inputs, n)
    lengths: list[int | None] = []
    spatial = zip(_spatial(shape, last), crops, strict=True)
    for axis, (d, (a, b)) in enumerate(spatial, start=_first_axis(last)):
        if d is not None and a + b >= d:
            raise ShapeError(
                f"cropping {a} + {b} leaves nothing of the input length {d} "
                f"along axis {axis} of {show(shape)}"
            )
        lengths.append(None if d is None else d - a - b)
    return lay.out(_assemble(shape, tuple(lengths), last))


@layer("UpSampling1D", "UpSampling2D", "UpSampling3D")
def up_sampling(lay: Layer, inputs: Inputs) -> Tensor:
    n = _rank(lay)
    if n == 1 and not is_int(lay["size"]):  # UpSampling1D takes one integer, not a list
        raise ShapeError(f"`size` must be an integer; received {_echo(lay['size'])}")
    size = _ints(lay, "size", n)
    if n == 2 and not isinstance(lay["interpolation"], str):  # Keras lower-cases it
        raise ShapeError(
            f"`interpolation` must be a string; received {_echo(lay['interpolation'])}"
        )
    last = _channels_last(lay)
    shape = _image(inputs, n)
    spatial = zip(_spatial(shape, last), size, strict=True)
    return lay.out(_assemble(shape, tuple(None if d is None else d * f for d, f in spatial), last))
