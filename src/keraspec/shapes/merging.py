"""Shape rules for merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot."""

from __future__ import annotations

from .registry import Inputs, Layer, layer
from .tensor import Shape, ShapeError, Tensor, show


@layer("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
def elementwise(lay: Layer, inputs: Inputs) -> Tensor:
    tensors = inputs.tensors()
    if lay.type == "Subtract" and len(tensors) != 2:
        raise ShapeError(f"takes exactly 2 inputs; received {len(tensors)}")
    shape: Shape = tensors[0].shape  # type: ignore[assignment]
    for i, t in enumerate(tensors[1:], start=1):
        merged = _elementwise(shape, t.shape)  # type: ignore[arg-type]
        if merged is None:
            raise ShapeError(
                f"input 0 has shape {show(tensors[0].shape)}, input {i} has {show(t.shape)}"
            )
        shape = merged
    return lay.out(shape)


def _elementwise(a: Shape, b: Shape) -> Shape | None:
    """Keras's merge shape: trailing axes broadcast, unknown axes stay unknown."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return a
    out = list(a[: len(a) - len(b)])
    for i, j in zip(a[len(a) - len(b) :], b, strict=True):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            return None
        else:
            out.append(i)
    return tuple(out)
