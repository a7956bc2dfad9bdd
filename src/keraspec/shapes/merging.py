"""Shape rules for merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot.

All of them take a list of tensors (``inputs: [a, b]``); called on one tensor
(``inputs: a``) Keras refuses them. Their output is in the compute dtype, whatever
the inputs' dtypes.
"""

from __future__ import annotations

from .registry import Inputs, Layer, layer
from .tensor import Shape, ShapeError, Tensor, broadcast


def listed_inputs(inputs: Inputs) -> list[Tensor]:
    if not isinstance(inputs.first(), tuple):
        raise ShapeError(
            f"takes a list of tensors (`inputs: [a, b]`); received one, {inputs.first()}"
        )
    return inputs.tensors()


def mismatch(tensors: list[Tensor], i: int) -> ShapeError:
    return ShapeError(f"input 0 has shape {tensors[0]}, input {i} has {tensors[i]}")


@layer("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
def elementwise(lay: Layer, inputs: Inputs) -> Tensor:
    tensors = listed_inputs(inputs)
    if lay.type == "Subtract" and len(tensors) != 2:
        raise ShapeError(f"takes exactly 2 inputs; received {len(tensors)}")
    # Keras broadcasts the axes after the batch axis, aligned on the right; the batch
    # axis is whichever one is known, and two known batch sizes must agree.
    batches = {t.shape[0] for t in tensors} - {None}  # type: ignore[index]
    if len(batches) > 1:
        raise ShapeError(f"inputs have different batch sizes: {', '.join(str(t) for t in tensors)}")
    shape: Shape = tensors[0].shape[1:]  # type: ignore[index]
    for i, t in enumerate(tensors[1:], start=1):
        merged = broadcast(shape, t.shape[1:], unknown_wins=True)  # type: ignore[index]
        if merged is None:
            raise mismatch(tensors, i)
        shape = merged
    return lay.out((next(iter(batches), None), *shape))


@layer("Concatenate")
def concatenate(lay: Layer, inputs: Inputs) -> Tensor:
    tensors = listed_inputs(inputs)
    axis = lay["axis"]
    if not isinstance(axis, int):
        raise ShapeError(f"`axis` must be an integer; received {axis!r}")
    # Keras's own steps, whose Python indexing decides which axes are out of range: it
    # deletes `axis` from shapes longer than `axis`, then adds up sizes until one is
    # unknown, so a later input's axis may never be read.
    try:
        check_joinable(tensors, [without(t.shape, axis) for t in tensors], axis)  # type: ignore[arg-type]
        out = list(tensors[0].shape)  # type: ignore[arg-type]
        for t in tensors[1:]:
            if out[axis] is None or t.shape[axis] is None:  # type: ignore[index]
                out[axis] = None
                break
            out[axis] += t.shape[axis]  # type: ignore[index]
    except IndexError:
        shown = ", ".join(str(t) for t in tensors)
        raise ShapeError(f"axis {axis} is out of range for inputs {shown}") from None
    # The other axes are the first input's, even where a later input knows them.
    return lay.out(out)


def without(shape: Shape, axis: int) -> Shape:
    kept = list(shape)
    if len(kept) > axis:
        del kept[axis]
    return tuple(kept)


def check_joinable(tensors: list[Tensor], others: list[Shape], axis: int) -> None:
    """The axes other than ``axis`` (the batch axis too) may be unknown, not known apart."""
    for i, rest in enumerate(others):
        if len(rest) != len(others[0]):
            raise mismatch(tensors, i)
    for sizes in zip(*others, strict=True):
        if len(set(sizes) - {None}) > 1:
            j, i = clash(sizes)
            raise ShapeError(
                f"input {j} has shape {tensors[j]}, input {i} has {tensors[i]}; "
                f"only axis {axis} may differ"
            )


def clash(sizes: tuple[int | None, ...]) -> tuple[int, int]:
    """The first two inputs whose sizes are known and differ."""
    known = [(i, n) for i, n in enumerate(sizes) if n is not None]
    return known[0][0], next(i for i, n in known if n != known[0][1])


@layer("Dot")
def dot(lay: Layer, inputs: Inputs) -> Tensor:
    tensors = listed_inputs(inputs)
    if len(tensors) != 2:
        raise ShapeError(f"takes exactly 2 inputs; received {len(tensors)}")
    a, b = (list(t.shape) for t in tensors)  # type: ignore[arg-type]
    axes = lay["axes"]
    pair = isinstance(axes, (list, tuple)) and len(axes) == 2
    if not isinstance(axes, int) and not (pair and all(isinstance(n, int) for n in axes)):
        raise ShapeError(f"`axes` must be an integer or a pair of them; received {axes!r}")
    if isinstance(axes, int):
        # Keras wraps a negative axis into each input's rank (and -1 of a rank-3 input
        # is 2), but indexes with a pair as written.
        axes = [axes % len(a), axes % len(b)] if axes < 0 else [axes, axes]
    try:
        if a[axes[0]] != b[axes[1]]:  # an unknown axis matches only an unknown one
            raise ShapeError(
                f"axis {axes[0]} of input 0 {tensors[0]} and axis {axes[1]} of input 1 "
                f"{tensors[1]} differ"
            )
        a.pop(axes[0])
        b.pop(axes[1])
        b.pop(0)  # the batch axis (Keras pops it even when the axes took it)
    except IndexError:
        raise ShapeError(
            f"axes {lay['axes']} are out of range for inputs {tensors[0]} and {tensors[1]}"
        ) from None
    out = a + b
    return lay.out([*out, 1] if len(out) == 1 else out)  # Keras never returns (batch,)
