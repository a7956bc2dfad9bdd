"""Shape rules for core layers: Dense, EinsumDense, Embedding, activations, dropout and
noise, normalization, reshaping, and the preprocessing layers whose shapes follow from
their arguments (rescaling, resizing, lookups, hashing, category encoding).

Each rule mirrors the Keras 3 layer's ``build`` (which weights, which shapes) and
``compute_output_shape``/``compute_output_spec``, including their quirks, which are
noted where they differ from what one would guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from .registry import Inputs, Layer, NoRule, Result, at_least_rank, expect_rank, layer
from .tensor import Shape, ShapeError, Tensor, axis_index, show, size


def is_float(dtype: str | None) -> bool:
    return dtype is not None and (dtype.startswith("float") or dtype.startswith("bfloat"))


def passed_through(lay: Layer, x: Tensor, shape: Shape) -> Tensor:
    """The output of a layer that keeps its input's dtype (Flatten, Reshape, Permute,
    Identity): Keras autocasts float inputs to the compute dtype, other dtypes stay."""
    autocast = lay["autocast"] is not False
    return Tensor(tuple(shape), lay.dtype if autocast and is_float(x.dtype) else x.dtype)


def sized(x: Tensor, weights: Sequence[Sequence[int | None]], what: str) -> tuple[Shape, ...]:
    """``weights`` when every axis is known: Keras cannot create a variable of unknown size."""
    if any(dim is None for w in weights for dim in w):
        raise ShapeError(f"{what} must be known to size its weights; received {x}")
    return tuple(tuple(w) for w in weights)  # type: ignore[misc]


def listed(value: Any) -> list[Any]:
    """An argument that takes one value or a list of them (frozen lists are tuples)."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def pick_axis(axis: Any, x: Tensor) -> int:
    """A Python-style axis of ``x`` (batch axis included) as an index."""
    if not isinstance(axis, int):
        raise ShapeError(f"an axis must be an integer; received {axis!r}")
    index = axis_index(axis, x.rank)
    if index is None:
        raise ShapeError(f"axis {axis} is out of range for input {x}")
    return index


def integer(lay: Layer, name: str, least: int | None = None, optional: bool = False) -> Any:
    """An integer argument (``None`` too when ``optional``); Keras fails on anything else."""
    value = lay[name]
    if value is None and optional:
        return None
    if not isinstance(value, int) or (least is not None and value < least):
        wanted = "an integer" if least is None else f"an integer of at least {least}"
        raise ShapeError(f"`{name}` must be {wanted}; received {value!r}")
    return value


def integers(lay: Layer, name: str) -> list[int]:
    """An argument taking an integer or a list of them (``None``: none)."""
    values = listed(lay[name])
    if not all(isinstance(v, int) for v in values):
        raise ShapeError(f"`{name}` must be an integer or a list of them; received {lay[name]!r}")
    return values


def lora_rank(lay: Layer, constraint: str) -> int | None:
    """The LoRA rank, 0 and None meaning none, as Keras reads it."""
    rank = integer(lay, "lora_rank", 0, optional=True)
    if rank and lay[constraint] is not None:
        raise ShapeError(f"`lora_rank` cannot be used with `{constraint}` (Keras refuses both)")
    return rank


def number(lay: Layer, name: str, low: float = 0.0, high: float | None = None) -> float:
    """A number argument in ``[low, high]`` (``null`` reaches Keras as None, which fails)."""
    value = lay[name]
    if not isinstance(value, (int, float)) or value < low or (high is not None and value > high):
        span = f"from {low:g}" + ("" if high is None else f" to {high:g}")
        raise ShapeError(f"`{name}` must be a number {span}; received {value!r}")
    return value


def seeded(lay: Layer, amount: str) -> None:
    """Keras makes a seed generator, which takes an integer seed, only when ``amount`` > 0."""
    seed = lay["seed"]
    wrong = seed is not None and (not isinstance(seed, int) or isinstance(seed, bool))
    if number(lay, amount, 0.0, 1.0) > 0 and wrong:
        raise ShapeError(f"`seed` must be an integer; received {seed!r}")


def relu_arguments(lay: Layer) -> None:
    if lay["max_value"] is not None:
        number(lay, "max_value")
    number(lay, "negative_slope")
    number(lay, "threshold")


def dropout_arguments(lay: Layer) -> None:
    seeded(lay, "rate")
    shape = lay["noise_shape"]
    if shape is not None and not (
        isinstance(shape, (list, tuple))
        and all(d is None or (isinstance(d, int) and d > 0) for d in shape)
    ):
        raise ShapeError(f"`noise_shape` must be positive sizes or nulls; received {shape!r}")


def given(lay: Layer, *names: str) -> None:
    """Arguments Keras converts with float(): ``null`` reaches it as None and fails."""
    for name in names:
        if lay[name] is None:
            raise ShapeError(f"`{name}` must be a number; received None")


def regularization_arguments(lay: Layer) -> None:
    for name in ("l1", "l2"):  # null is 0
        if lay[name] is not None:
            number(lay, name)


# What each layer's constructor refuses, beyond what `validate` checks by argument name.
ARGUMENT_CHECKS: dict[str, Callable[[Layer], Any]] = {
    "ReLU": relu_arguments,
    "LeakyReLU": lambda lay: number(lay, "negative_slope"),
    "Dropout": dropout_arguments,
    "AlphaDropout": lambda lay: seeded(lay, "rate"),
    "GaussianDropout": lambda lay: seeded(lay, "rate"),
    "GaussianNoise": lambda lay: seeded(lay, "stddev"),
    "SpatialDropout1D": lambda lay: seeded(lay, "rate"),
    "SpatialDropout2D": lambda lay: seeded(lay, "rate"),
    "SpatialDropout3D": lambda lay: seeded(lay, "rate"),
    "ActivityRegularization": regularization_arguments,
    "BatchNormalization": lambda lay: given(lay, "momentum", "epsilon"),
}


def check_arguments(lay: Layer) -> None:
    if check := ARGUMENT_CHECKS.get(lay.type):
        check(lay)


# --- Dense, EinsumDense, Embedding -------------------------------------------------


@layer("Dense")
def dense(lay: Layer, inputs: Inputs) -> Result:
    shape = at_least_rank(inputs.tensor(), 2)
    last = shape[-1]
    if last is None:
        raise ShapeError(f"the last axis of its input must be known; received {show(shape)}")
    rank = lora_rank(lay, "kernel_constraint")
    units = lay["units"]
    weights = [(last, units)]
    if lay["use_bias"]:
        weights.append((units,))
    if rank:
        weights += [(last, rank), (rank, units)]
    return Result(lay.out((*shape[:-1], units)), tuple(weights))


@layer("Embedding")
def embedding(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    rank = lora_rank(lay, "embeddings_constraint")
    rows, dim = lay["input_dim"], lay["output_dim"]
    weights = [(rows, dim)]
    if rank:
        weights += [(rows, rank), (rank, dim)]
    # The output is the compute dtype whatever the indices' dtype (int, or float cast).
    return Result(lay.out((*x.shape, dim)), tuple(weights))  # type: ignore[misc]


# Keras's three accepted forms; `...` is replaced by `0` before matching, as Keras does.
EINSUM_FORMS = (
    (re.compile("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)"), False),
    (re.compile("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)"), True),
    (re.compile("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0"), False),
)


@layer("EinsumDense")
def einsum_dense(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    equation, bias_axes = lay["equation"], lay["bias_axes"]
    if not isinstance(equation, str):
        raise ShapeError(f"`equation` must be a string; received {equation!r}")
    if bias_axes is not None and not (isinstance(bias_axes, str) and bias_axes):
        raise ShapeError(f"`bias_axes` must name output axes; received {bias_axes!r}")
    specs, left = einsum_form(equation)
    try:
        kernel, bias, out = einsum_shapes(specs, left, lay, x.shape)  # type: ignore[arg-type]
    except IndexError:  # where Keras indexes past the input or output shape
        raise ShapeError(
            f"equation `{equation}` has more axes than input {x} or `output_shape` "
            f"{lay['output_shape']!r} give"
        ) from None
    weights = [kernel] if bias is None else [kernel, bias]
    if rank := lora_rank(lay, "kernel_constraint"):
        weights += [(*kernel[:-1], rank), (rank, kernel[-1])]
    return Result(lay.out(out), sized(x, weights, "every axis the kernel takes from its input"))


def einsum_form(equation: str) -> tuple[Sequence[str], bool]:
    """The input, kernel and output letters, and whether ``...`` leads (elided on the left)."""
    for pattern, left in EINSUM_FORMS:
        if found := pattern.match(equation.replace("...", "0")):
            return found.groups(), left
    raise ShapeError(
        f"equation `{equation}` is not of the form ab,bc->ac, ...b,bc->...c or ab...,bc->ac..."
    )


def einsum_shapes(specs: Sequence[str], left: bool, lay: Layer, shape: Shape) -> tuple:
    """Kernel, bias and output shapes, as Keras's ``_analyze_split_string`` computes them
    (elided axes on the left are inserted in reverse order, as Keras does)."""
    in_spec, w_spec, out_spec = specs
    out = [shape[0], *einsum_output(lay)]
    elided = len(shape) - len(in_spec)
    if left:
        for i in range(1, elided):
            out.insert(1, shape[i])
    else:
        out += shape[len(shape) - max(elided, 0) :]
    shift = elided if left else 0
    in_map = {d: i + elided - len(shape) if left else i for i, d in enumerate(in_spec)}
    out_map = {d: i + shift for i, d in enumerate(out_spec)}
    for d in in_spec:
        have, want = shape[in_map[d]], out[out_map[d]] if d in out_map else None
        if want is not None and want != have:
            raise ShapeError(f"axis `{d}` is {have} in the input but {want} in `output_shape`")
    for d in out_spec:
        if d not in in_spec and d not in w_spec:
            raise ShapeError(f"output axis `{d}` is in neither the input nor the kernel")
    kernel = []
    for d in w_spec:
        if d not in out_map and d not in in_map:
            raise ShapeError(f"kernel axis `{d}` is in neither the input nor the output")
        kernel.append(out[out_map[d]] if d in out_map else shape[in_map[d]])
    return tuple(kernel), einsum_bias(lay["bias_axes"], out_spec, out, shift, elided), tuple(out)


def einsum_output(lay: Layer) -> list[int | None]:
    partial = lay["output_shape"]
    sizes = [partial] if isinstance(partial, int) else partial
    # Keras calls tuple() on anything but an integer, so "" is ().
    if not isinstance(sizes, (list, tuple, str)) or not all(
        d is None or (isinstance(d, int) and d >= 0) for d in sizes
    ):
        raise ShapeError(f"`output_shape` must be sizes (null: unknown); received {partial!r}")
    return list(sizes)


def einsum_bias(axes: str | None, out_spec: str, out: list, shift: int, elided: int) -> Any:
    if axes is None:
        return None
    for char in axes:
        if char not in out_spec:
            raise ShapeError(f"bias axis `{char}` is not in the output `{out_spec}`")
    sizes = {char: out[i + shift] for i, char in enumerate(out_spec)}
    first = min(out_spec.find(char) for char in axes)
    bias = [sizes[c] if c in axes else 1 for c in out_spec[first:]]
    # Keras pads for axes elided on the right even when they were elided on the left.
    return (*bias, *([1] * elided if not shift else []))


# --- activations, dropout, noise: the input's shape in the compute dtype ---------------

SAME_SHAPE = (
    "Activation",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Softmax",  # its `axis` is only used when called: Keras accepts any at build
    "Dropout",  # `noise_shape` too
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "ActivityRegularization",
    "Masking",
    "Rescaling",
)


@layer(*SAME_SHAPE)
def same_shape(lay: Layer, inputs: Inputs) -> Tensor:
    check_arguments(lay)
    return lay.out(inputs.tensor().shape)  # type: ignore[arg-type]


@layer("Identity")
def identity(lay: Layer, inputs: Inputs) -> Tensor:
    x = inputs.tensor()
    return passed_through(lay, x, x.shape)  # type: ignore[arg-type]


@layer("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")
def spatial_dropout(lay: Layer, inputs: Inputs) -> Tensor:
    check_arguments(lay)
    rank = int(lay.type[-2]) + 2  # 1D: (batch, steps, channels)
    return lay.out(expect_rank(inputs.tensor(), rank))


@layer("PReLU")
def prelu(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    alpha: list[int | None] = list(x.shape[1:])  # type: ignore[index]
    for axis in integers(lay, "shared_axes"):
        # Keras sets alpha[axis - 1], so shared axis 0 is (Python-style) the last one.
        if axis_index(axis - 1, len(alpha)) is None:
            raise ShapeError(f"shared axis {axis} is out of range for input {x}")
        alpha[axis - 1] = 1
    weights = sized(x, [alpha], "every axis of its input not in `shared_axes`")
    return Result(lay.out(x.shape), weights)  # type: ignore[arg-type]


# --- normalization ---------------------------------------------------------------------


@layer("BatchNormalization")
def batch_normalization(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    check_arguments(lay)
    channels = (x.shape[pick_axis(lay["axis"], x)],)  # type: ignore[index]
    count = 2 + bool(lay["scale"]) + bool(lay["center"])  # moving mean and variance
    count += 3 if lay["renorm"] else 0  # moving stddev, renorm mean and stddev
    weights = sized(x, [channels] * count, f"axis {lay['axis']} of its input")
    return Result(lay.out(x.shape), weights)  # type: ignore[arg-type]


def given_axes(lay: Layer) -> list[Any]:
    """``axis``: one or a list (``null`` reaches Keras as None, which it refuses)."""
    if lay["axis"] is None:
        raise ShapeError("`axis` must be an integer or a list of them; received None")
    return listed(lay["axis"])


def normalized_axes(lay: Layer, x: Tensor) -> tuple[int | None, ...]:
    """The sizes of the axes a LayerNormalization/RMSNormalization weight spans: Keras
    sorts ``axis`` as written, so ``[-1, 2]`` keeps both entries."""
    return tuple(x.shape[pick_axis(a, x)] for a in sorted(given_axes(lay)))  # type: ignore[index]


@layer("LayerNormalization")
def layer_normalization(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    shape = normalized_axes(lay, x)
    count = bool(lay["scale"]) + bool(lay["center"])
    weights = sized(x, [shape] * count, f"axis {lay['axis']} of its input")
    return Result(lay.out(x.shape), weights)  # type: ignore[arg-type]


@layer("RMSNormalization")
def rms_normalization(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    weights = sized(x, [normalized_axes(lay, x)], f"axis {lay['axis']} of its input")
    return Result(lay.out(x.shape), weights)  # type: ignore[arg-type]


@layer("GroupNormalization")
def group_normalization(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    channels = x.shape[pick_axis(lay["axis"], x)]  # type: ignore[index]
    if channels is None:
        raise ShapeError(f"axis {lay['axis']} of its input must be known; received {x}")
    groups = integer(lay, "groups", -1)
    if groups == 0:
        raise ShapeError("`groups` must be positive, or -1 for one group per channel; received 0")
    groups = channels if groups == -1 else groups
    if channels < groups or channels % groups:
        raise ShapeError(f"{groups} groups do not divide the {channels} channels of input {x}")
    count = bool(lay["scale"]) + bool(lay["center"])
    return Result(lay.out(x.shape), ((channels,),) * count)  # type: ignore[arg-type]


@layer("UnitNormalization")
def unit_normalization(lay: Layer, inputs: Inputs) -> Tensor:
    x = inputs.tensor()
    for axis in given_axes(lay):
        pick_axis(axis, x)
    return lay.out(x.shape)  # type: ignore[arg-type]


@layer("Normalization")
def normalization(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    axis = lay["axis"]
    # Keras calls tuple() on a non-integer axis, so a string is its characters.
    axes = [] if axis is None else list(axis) if isinstance(axis, (list, tuple, str)) else [axis]
    kept = sorted(pick_axis(a, x) for a in axes)
    if len(set(kept)) < len(kept):
        raise ShapeError(f"`axis` {axis!r} names an axis of input {x} twice")
    shape = tuple(x.shape[a] for a in kept)  # type: ignore[index]
    sized(x, [shape], f"axis {axis} of its input")
    if (lay["mean"] is None) != (lay["variance"] is None):
        raise ShapeError("`mean` and `variance` must be given together")
    if lay["mean"] is None:  # weights to adapt: mean, variance and a count
        return Result(lay.out(x.shape), (shape, shape, ()))  # type: ignore[arg-type]
    given = value_shape(lay["mean"])
    if len(given) > len(shape) or value_shape(lay["variance"]) != given:
        raise ShapeError(f"`mean` and `variance` must have one shape, of at most {len(shape)} axes")
    for have, want in zip(reversed(given), reversed(shape), strict=False):
        if have not in (1, want):
            raise ShapeError(f"`mean` of shape {show(given)} does not broadcast to {show(shape)}")
    return Result(lay.out(x.shape))  # type: ignore[arg-type]


def value_shape(value: Any) -> Shape:
    """The shape of a number or nested list, as ``np.shape`` gives it."""
    shape: list[int] = []
    while isinstance(value, (list, tuple)):
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


# --- reshaping -------------------------------------------------------------------------


@layer("Flatten")
def flatten(lay: Layer, inputs: Inputs) -> Tensor:
    x = inputs.tensor()
    return passed_through(lay, x, (x.shape[0], size(x.shape[1:])))  # type: ignore[index]


@layer("Reshape")
def reshape(lay: Layer, inputs: Inputs) -> Tensor:
    x = inputs.tensor()
    target = lay["target_shape"]
    if not isinstance(target, (list, tuple, str)):
        raise ShapeError(f"`target_shape` must be a list of sizes; received {target!r}")
    # Keras takes what is not an integer for a size it cannot know.
    target = [d if isinstance(d, int) else None for d in target]
    if any(d is not None and d < -1 for d in target) or target.count(-1) > 1:
        raise ShapeError(f"`target_shape` takes sizes and at most one -1; received {target}")
    have = size(x.shape[1:])  # type: ignore[index]
    if have is None or None in target:  # Keras cannot check, nor solve the -1
        unsolved = (None if d == -1 else d for d in target)
        return passed_through(lay, x, (x.shape[0], *unsolved))  # type: ignore[index]
    known = size(d for d in target if d != -1)
    if -1 in target and known and have % known == 0:
        target[target.index(-1)] = have // known
    elif -1 in target or known != have:
        raise ShapeError(
            f"cannot reshape input {x} ({have} values per sample) to {show(tuple(target))}"
        )
    return passed_through(lay, x, (x.shape[0], *target))  # type: ignore[index]


@layer("Permute")
def permute(lay: Layer, inputs: Inputs) -> Tensor:
    dims = lay["dims"]
    if not isinstance(dims, (list, tuple)) or not all(isinstance(d, int) for d in dims):
        raise ShapeError(f"`dims` must be a list of axes; received {dims!r}")
    if sorted(dims) != list(range(1, len(dims) + 1)):
        raise ShapeError(f"`dims` must order the axes 1 to {len(dims)}; received {dims}")
    x = inputs.tensor()
    shape = expect_rank(x, len(dims) + 1)
    return passed_through(lay, x, (shape[0], *(shape[d] for d in dims)))


@layer("RepeatVector")
def repeat_vector(lay: Layer, inputs: Inputs) -> Tensor:
    n = lay["n"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ShapeError(f"`n` must be a positive integer; received {n!r}")
    batch, features = expect_rank(inputs.tensor(), 2)
    return lay.out((batch, n, features))


# --- image preprocessing ---------------------------------------------------------------


@layer("Resizing", "CenterCrop")
def resize(lay: Layer, inputs: Inputs) -> Tensor:
    x = inputs.tensor()
    height_width = [integer(lay, name, 0, optional=True) for name in ("height", "width")]
    if lay["factor"] is not None:
        raise ShapeError(f"{lay.type} takes no `factor`; received {lay['factor']!r}")
    if lay.type == "CenterCrop":
        expect_rank(x, (4, 3))
    shape = list(x.shape)  # type: ignore[arg-type]
    # Keras takes any input but rank 4 as one unbatched image: it then overwrites
    # the batch axis (and a rank-2 input becomes (height, width)).
    first = 0 if x.rank != 4 else 1
    first += lay["data_format"] == "channels_first"
    if first + 1 >= len(shape):
        raise ShapeError(f"expects an image input (batch axis included); received {x}")
    shape[first : first + 2] = height_width
    return lay.out(shape)


# --- categorical preprocessing: output dtypes set by the layer, not the policy ---------


@layer("CategoryEncoding")
def category_encoding(lay: Layer, inputs: Inputs) -> Tensor:
    shape: Shape = inputs.tensor().shape  # type: ignore[assignment]
    tokens, mode = lay["num_tokens"], lay["output_mode"]
    if not isinstance(tokens, int) or tokens < 1:
        raise ShapeError(f"`num_tokens` must be a positive integer; received {tokens!r}")
    if mode not in ("one_hot", "multi_hot", "binary", "count"):
        raise ShapeError(f"unknown `output_mode` {mode!r}")
    if mode == "one_hot" and (shape[-1] != 1 or len(shape) == 1):
        return lay.out((*shape, tokens))
    # multi_hot/count read the last axis as the sample: a rank-1 input loses its batch axis.
    return lay.out((*shape[:-1], tokens))


@layer("Hashing")
def hashing(lay: Layer, inputs: Inputs) -> Tensor:
    shape: Shape = inputs.tensor().shape  # type: ignore[assignment]
    mode, dtype = hashing_mode(lay), lay["dtype"]
    if dtype is None:
        dtype = "int64" if mode == "int" else "float32"
    elif isinstance(dtype, str) and dtype.startswith("mixed_"):
        dtype = "float32"  # Keras uses the policy's variable dtype
    if mode == "int":
        if dtype not in ("int32", "int64"):
            raise ShapeError(f'output_mode "int" needs dtype int32 or int64; received {dtype}')
        return Tensor(shape, dtype)
    # Unlike CategoryEncoding, one_hot too replaces the last axis.
    return Tensor((*shape[:-1], lay["num_bins"]), dtype if isinstance(dtype, str) else None)


def hashing_mode(lay: Layer) -> str:
    mode, bins = lay["output_mode"], lay["num_bins"]
    if mode not in ("int", "one_hot", "multi_hot", "count"):
        raise ShapeError(f"unknown `output_mode` {mode!r}")
    # Keras only compares `num_bins` with 0 until it sizes an output with it.
    if (
        not isinstance(bins, (int, float))
        or bins <= 0
        or (mode != "int" and not isinstance(bins, int))
    ):
        raise ShapeError(f"`num_bins` must be a positive integer; received {bins!r}")
    if mode == "int" and lay["sparse"]:
        raise ShapeError('`sparse` needs an output_mode other than "int"')
    salted(lay)
    return mode


def salted(lay: Layer) -> None:
    salt = lay["salt"]
    pair = isinstance(salt, (list, tuple)) and len(salt) == 2
    if not (salt is None or isinstance(salt, int) or pair):
        raise ShapeError(f"`salt` must be an integer or a pair of them; received {salt!r}")


@layer("StringLookup", "IntegerLookup")
def lookup(lay: Layer, inputs: Inputs) -> Tensor:
    shape: Shape = inputs.tensor().shape  # type: ignore[assignment]
    mode = lookup_mode(lay)
    tokens = vocabulary_size(lay, mode)
    if mode == "int":  # int64 indices (or terms, when inverted), whatever `dtype` says
        return Tensor(shape, "int64")
    depth = lay["max_tokens"] if lay["pad_to_max_tokens"] else tokens
    if mode == "one_hot" and not (len(shape) > 1 and shape[-1] == 1):
        return Tensor((*shape, depth), "float32")
    return Tensor((*shape[:-1], depth), "float32")


LOOKUP_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def lookup_mode(lay: Layer) -> str:
    """The output mode, once the arguments Keras checks together are consistent."""
    mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(lay["output_mode"], lay["output_mode"])
    max_tokens = integer(lay, "max_tokens", optional=True)
    oov = integer(lay, "num_oov_indices")
    vocabulary, weights = lay["vocabulary"], lay["idf_weights"]
    checks = [
        (mode not in LOOKUP_MODES, f"unknown `output_mode` {mode!r}"),
        (
            max_tokens is not None and max_tokens <= 1,
            f"`max_tokens` must be 2 or more; received {max_tokens}",
        ),
        (lay["pad_to_max_tokens"] and max_tokens is None, "`pad_to_max_tokens` needs `max_tokens`"),
        (oov < 0, f"`num_oov_indices` must be 0 or more; received {oov}"),
        (lay["invert"] and mode != "int", '`invert` needs output_mode "int"'),
        (lay["sparse"] and mode == "int", '`sparse` needs an output_mode other than "int"'),
        (weights is not None and mode != "tf_idf", '`idf_weights` needs output_mode "tf_idf"'),
        (
            mode == "tf_idf" and vocabulary is not None and weights is None,
            "tf_idf with a `vocabulary` needs `idf_weights`",
        ),
    ]
    for wrong, message in checks:
        if wrong:
            raise ShapeError(message)
    lookup_arguments(lay)
    return mode


def lookup_arguments(lay: Layer) -> None:
    """The arguments a lookup's constructor refuses that do not change its shape."""
    terms = str if lay.type == "StringLookup" else int
    vocabulary, mask, salt = lay["vocabulary"], lay["mask_token"], lay["salt"]
    if lay["oov_method"] not in ("floormod", "farmhash"):
        raise ShapeError(
            f'`oov_method` must be "floormod" or "farmhash"; received {lay["oov_method"]!r}'
        )
    if terms is int and lay["vocabulary_dtype"] != "int64":
        raise ShapeError(
            f'`vocabulary_dtype` must be "int64"; received {lay["vocabulary_dtype"]!r}'
        )
    if terms is int and salt is not None and lay["oov_method"] != "farmhash":
        raise ShapeError('`salt` needs oov_method "farmhash"')
    salted(lay)
    if terms is str and mask is not None and not isinstance(mask, str):
        raise ShapeError(f"`mask_token` must be a string; received {mask!r}")
    if isinstance(vocabulary, (list, tuple)) and not all(isinstance(t, terms) for t in vocabulary):
        raise ShapeError(
            f"`vocabulary` must hold {terms.__name__} terms; received {list(vocabulary)!r}"
        )


def vocabulary_size(lay: Layer, mode: str) -> int | None:
    """Tokens plus OOV indices (and the mask, in int mode), as Keras's ``set_vocabulary``
    counts them; None without a vocabulary, which Keras leaves unknown until ``adapt``."""
    vocabulary = lay["vocabulary"]
    if isinstance(vocabulary, str):
        raise NoRule(f"{lay.type} (vocabulary file)")  # its size is in the file
    if vocabulary is None:
        return None
    if not isinstance(vocabulary, (list, tuple)):
        raise ShapeError(f"`vocabulary` must be a list of terms; received {vocabulary!r}")
    mask, oov = lay["mask_token"], lay["oov_token"]
    specials = [mask] * (mask is not None and mode == "int") + [oov] * lay["num_oov_indices"]
    tokens = list(vocabulary)
    if not tokens:
        raise ShapeError("`vocabulary` is empty")
    if tokens[: len(specials)] == specials:  # given with the special tokens first
        tokens = tokens[len(specials) :]
    if not tokens:  # Keras's lookup table cannot be empty
        raise ShapeError(f"`vocabulary` {vocabulary!r} holds only the special tokens")
    repeated = sorted({str(t) for t in tokens if tokens.count(t) > 1})
    if repeated:
        raise ShapeError(f"`vocabulary` repeats {', '.join(repeated)}")
    for special, what in ((mask, "mask"), (oov if lay["invert"] else None, "OOV")):
        if special is not None and special in tokens:
            raise ShapeError(f"`vocabulary` contains the {what} token {special!r}")
    total = len(specials) + len(tokens)
    if lay["max_tokens"] is not None and total > lay["max_tokens"]:
        raise ShapeError(f"`vocabulary` makes {total} entries; max_tokens is {lay['max_tokens']}")
    return total
