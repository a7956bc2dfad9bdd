"""What static inference knows about a tensor: its shape (batch axis first) and dtype.

A shape entry is an ``int`` or ``None`` (unknown, like Keras's ``None``). A tensor
whose shape is ``None`` altogether came from a layer without a rule: nothing
downstream of it is checked. Nothing here imports beyond the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Shape = tuple[int | None, ...]


class ShapeError(Exception):
    """A layer cannot take the tensors it is given; the message names both shapes."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Tensor:
    shape: Shape | None
    dtype: str | None = "float32"

    @property
    def known(self) -> bool:
        return self.shape is not None

    @property
    def rank(self) -> int:
        assert self.shape is not None
        return len(self.shape)

    def __str__(self) -> str:
        return show(self.shape)


UNKNOWN = Tensor(None, None)


def show(shape: Shape | None) -> str:
    """A shape as Keras prints it: ``(None, 32)``, ``(None,)``."""
    if shape is None:
        return "(unknown)"
    return str(tuple(shape))


def size(shape: Iterable[int | None]) -> int | None:
    """The number of elements, or None when an axis is unknown."""
    total = 1
    for dim in shape:
        if dim is None:
            return None
        total *= dim
    return total


def params(weights: Iterable[Shape]) -> int:
    return sum(math.prod(w) for w in weights)  # type: ignore[arg-type]


def same_dim(a: int | None, b: int | None) -> bool:
    """Whether two axes can be equal: unknown matches anything."""
    return a is None or b is None or a == b


def compatible(a: Sequence[int | None], b: Sequence[int | None]) -> bool:
    return len(a) == len(b) and all(same_dim(x, y) for x, y in zip(a, b, strict=True))


def broadcast(a: Shape, b: Shape, unknown_wins: bool = False) -> Shape | None:
    """The NumPy broadcast of two shapes, as Keras computes it; None when they clash.

    ``unknown_wins``: an unknown axis stays unknown even against a known one, as
    Keras's merge layers compute it (ops take the known size).
    """
    rank = max(len(a), len(b))
    result: list[int | None] = []
    for x, y in zip(_pad(a, rank), _pad(b, rank), strict=True):
        if unknown_wins and (x is None or y is None):
            result.append(None)
        elif x == 1 or x is None:
            result.append(x if y == 1 else y)
        elif y == 1 or y is None or x == y:
            result.append(x)
        else:
            return None
    return tuple(result)


def _pad(shape: Shape, rank: int) -> Shape:
    return (1,) * (rank - len(shape)) + tuple(shape)


def axis_index(axis: int, rank: int) -> int | None:
    """A Python-style axis (``-1`` is the last) as an index, or None when out of range."""
    index = axis + rank if axis < 0 else axis
    return index if 0 <= index < rank else None
