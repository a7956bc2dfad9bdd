"""Shape rules for core layers: Dense, Embedding, activations, dropout, normalization,
reshaping."""

from __future__ import annotations

from .registry import Inputs, Layer, Result, at_least_rank, layer
from .tensor import ShapeError, show


@layer("Dense")
def dense(lay: Layer, inputs: Inputs) -> Result:
    shape = at_least_rank(inputs.tensor(), 2)
    last = shape[-1]
    if last is None:
        raise ShapeError(f"the last axis of its input must be known; received {show(shape)}")
    units = lay["units"]
    weights = [(last, units)]
    if lay["use_bias"]:
        weights.append((units,))
    if lay["lora_rank"]:
        weights += [(last, lay["lora_rank"]), (lay["lora_rank"], units)]
    return Result(lay.out((*shape[:-1], units)), tuple(weights))
