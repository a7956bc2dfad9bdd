"""Shape rules for attention layers: MultiHeadAttention, GroupQueryAttention, Attention,
AdditiveAttention.

Keras gives these layers their output shapes without tracing the attention itself,
so it checks little: the quirks below (scores of MultiHeadAttention sized by the
query's second axis, GroupQueryAttention's features read on axis 2) are Keras's.
"""

from __future__ import annotations

from typing import Any

from ..arguments import is_int, is_positive_int
from .core import integer
from .registry import Inputs, Layer, Result, layer
from .tensor import Shape, ShapeError, Tensor, show


def query_value_key(inputs: Inputs) -> tuple[Tensor, Tensor, Tensor | None]:
    """The ``query``, ``value`` and optional ``key`` tensors of a multi-head layer."""
    value = inputs.get("value")
    if not isinstance(value, Tensor):
        raise ShapeError(
            "needs a `value` tensor besides the query: inputs: {query: ..., value: ...}"
        )
    key = inputs.get("key")
    if key is not None and not isinstance(key, Tensor):
        raise ShapeError("`key` must be one tensor")
    return inputs.tensor(), value, key


def known_size(t: Tensor, name: str, axis: int = -1) -> int:
    """The size of ``axis`` of ``t``, which a projection kernel needs."""
    shape: Shape = t.shape  # type: ignore[assignment]
    if not -len(shape) <= axis < len(shape):
        raise ShapeError(
            f"expects a {name} of rank {axis + 1} or more (batch axis included); "
            f"received {show(shape)}"
        )
    if shape[axis] is None:
        which = "the last axis" if axis == -1 else f"axis {axis}"
        raise ShapeError(f"{which} of the {name} must be known; received {show(shape)}")
    return shape[axis]  # type: ignore[return-value]


def same_key_and_value(value: Tensor, key: Tensor) -> None:
    """Keras compares these axes exactly: an unknown axis matches only an unknown one."""
    if value.shape[1:-1] != key.shape[1:-1]:  # type: ignore[index]
        raise ShapeError(
            "`value` and `key` must agree on every axis but the last; received "
            f"{show(value.shape)} and {show(key.shape)}"
        )


def check_flash(lay: Layer) -> None:
    if lay["flash_attention"] and lay["dropout"] > 0:
        raise ShapeError("`dropout` must be 0 when `flash_attention` is on")


def projection(dim: int, heads: int, size: int, bias: bool) -> list[Shape]:
    return [(dim, heads, size), (heads, size)] if bias else [(dim, heads, size)]


@layer("MultiHeadAttention")
def multi_head_attention(lay: Layer, inputs: Inputs) -> Result:
    query, value, key = query_value_key(inputs)
    key, key_name = (key, "key") if key else (value, "value")
    check_flash(lay)
    same_key_and_value(value, key)
    heads, key_dim, bias = integer(lay, "num_heads", 1), integer(lay, "key_dim", 1), lay["use_bias"]
    value_dim = integer(lay, "value_dim", 1, optional=True) or key_dim
    weights = projection(known_size(query, "query"), heads, key_dim, bias)
    weights += projection(known_size(key, key_name), heads, key_dim, bias)
    if lay["use_gate"]:
        weights += projection(query.shape[-1], heads, value_dim, bias)  # type: ignore[index, arg-type]
    weights += projection(known_size(value, "value"), heads, value_dim, bias)
    check_attention_axes(lay["attention_axes"], value)
    out = output_dims(lay["output_shape"], query)
    weights.append((heads, value_dim, *out))
    if bias:
        weights.append(out)
    output = lay.out((*query.shape[:-1], *out))  # type: ignore[index]
    if not inputs.call.get("return_attention_scores"):
        return Result(output, tuple(weights))
    length = known_rank(query, 2, "query")[1]  # Keras sizes both score axes by it
    scores = lay.out((query.shape[0], heads, length, length))  # type: ignore[index]
    return Result((output, scores), tuple(weights))


def output_dims(output_shape: Any, query: Tensor) -> Shape:
    if not output_shape:
        return (query.shape[-1],)  # type: ignore[index]
    dims = (output_shape,) if isinstance(output_shape, int) else output_shape
    if not isinstance(dims, (list, tuple)) or not all(is_positive_int(d) for d in dims):
        wanted = "a positive integer or a list of them"
        raise ShapeError(f"`output_shape` must be {wanted}; received {output_shape!r}")
    return tuple(dims)


def check_attention_axes(axes: Any, value: Tensor) -> None:
    """Keras indexes the projected value (rank + 1) by these axes, a negative one counted
    from its second-to-last axis."""
    if axes is None:
        return
    axes = (axes,) if isinstance(axes, int) else axes
    if not isinstance(axes, (list, tuple)) or not all(is_int(a) for a in axes):
        raise ShapeError(
            f"`attention_axes` must be an integer or a list of them; received {axes!r}"
        )
    rank = value.rank + 1
    for axis in axes:
        index = axis if axis >= 0 else rank - 1 + axis
        if not -rank <= index < rank:
            raise ShapeError(
                f"`attention_axes` has an axis out of range for value {show(value.shape)}: "
                f"{list(axes)}"
            )


def known_rank(t: Tensor, rank: int, name: str) -> Shape:
    if t.rank < rank:
        raise ShapeError(
            f"expects a {name} of rank {rank} or more (batch axis included); "
            f"received {show(t.shape)}"
        )
    return t.shape  # type: ignore[return-value]


@layer("GroupQueryAttention")
def group_query_attention(lay: Layer, inputs: Inputs) -> Result:
    query, value, key = query_value_key(inputs)
    key, key_name = (key, "key") if key else (value, "value")
    heads, groups = integer(lay, "num_query_heads", 1), integer(lay, "num_key_value_heads", 1)
    size = integer(lay, "head_dim", 1)
    bias = lay["use_bias"]
    if heads % groups:
        raise ShapeError(
            f"`num_query_heads` ({heads}) must be a multiple of `num_key_value_heads` ({groups})"
        )
    check_flash(lay)
    # Keras's projections read features on axis 2 ("bqm"), the last one of a rank-3 input.
    weights = projection(known_size(query, "query", 2), heads, size, bias)
    weights += projection(known_size(key, key_name, 2), groups, size, bias)
    if lay["use_gate"]:
        weights += projection(query.shape[2], heads, size, bias)  # type: ignore[index, arg-type]
    weights += projection(known_size(value, "value", 2), groups, size, bias)
    features = known_size(query, "query")
    weights += [(heads, size, features), (features,)] if bias else [(heads, size, features)]
    if query.shape[-1] != value.shape[-1]:  # type: ignore[index]
        raise ShapeError(
            "`query` and `value` must have the same last axis; received "
            f"{show(query.shape)} and {show(value.shape)}"
        )
    same_key_and_value(value, key)
    output = lay.out(query.shape)  # type: ignore[arg-type]
    if not inputs.call.get("return_attention_scores"):
        return Result(output, tuple(weights))
    scores = lay.out((query.shape[0], heads, query.shape[1], key.shape[1]))  # type: ignore[index]
    return Result((output, scores), tuple(weights))


@layer("Attention", "AdditiveAttention")
def dot_attention(lay: Layer, inputs: Inputs) -> Result:
    if lay["score_mode"] not in ("dot", "concat"):
        raise ShapeError(f"`score_mode` must be `dot` or `concat`; received {lay['score_mode']!r}")
    query, value, key = query_value_list(inputs)
    if lay.type == "AdditiveAttention":
        weights = [(known_size(query, "query"),)] if lay["use_scale"] else []
    else:  # two scalars
        weights = [()] * (bool(lay["use_scale"]) + (lay["score_mode"] == "concat"))
    output = lay.out((*query.shape[:-1], value.shape[-1]))  # type: ignore[index]
    if not inputs.call.get("return_attention_scores"):
        return Result(output, tuple(weights))
    steps = known_rank(key, 2, "key")[-2]
    return Result((output, lay.out((*query.shape[:-1], steps))), tuple(weights))  # type: ignore[index]


def query_value_list(inputs: Inputs) -> tuple[Tensor, Tensor, Tensor]:
    """``[query, value]`` or ``[query, value, key]``: the key defaults to the value."""
    if not isinstance(inputs.first(), tuple):
        raise ShapeError(
            "must be called on a list, [query, value] or [query, value, key]; "
            f"received one tensor {show(inputs.tensor().shape)}"
        )
    tensors = inputs.tensors()
    if not 2 <= len(tensors) <= 3:
        raise ShapeError(
            f"takes [query, value] or [query, value, key]; received a list of {len(tensors)}"
        )
    mask = inputs.get("mask")
    if mask is not None and not (isinstance(mask, tuple) and 2 <= len(mask) <= 3):
        raise ShapeError("`mask` must be a list, [query_mask, value_mask]")
    return tensors[0], tensors[1], tensors[-1]
