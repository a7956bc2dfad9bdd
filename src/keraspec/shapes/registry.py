"""Shape rules, one function per layer class or op, registered by name.

A rule gets the layer (its class, arguments with the catalog's defaults filled in,
and its compute dtype) and the tensors it is called on, and returns what Keras
would: the output tensor(s) and the shapes of the weights it creates. It raises
``ShapeError`` for what Keras would reject while building.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .tensor import Shape, ShapeError, Tensor, show


@dataclass(frozen=True)
class Result:
    outputs: Any  # a Tensor, or a tuple of them for a multi-output layer
    weights: tuple[Shape, ...] = ()


class NoRule(Exception):
    """No rule knows this layer class or op: its outputs stay unknown."""


@dataclass(frozen=True)
class Layer:
    """A layer as its rule sees it: ``args`` holds every constructor argument."""

    type: str
    args: Mapping[str, Any]
    dtype: str | None  # the compute dtype (``float16`` under ``mixed_float16``)
    nested: Callable[[Any, Inputs], Result] = field(repr=False, compare=False)

    def inner(self, value: Any, inputs: Inputs) -> Result:
        """Apply a layer given as an argument (a ``{type: ...}`` object or a layer's name)."""
        return self.nested(value, inputs)

    def __getitem__(self, name: str) -> Any:
        """An argument's value; a name the class does not take is a bug in the rule."""
        if name not in self.args:
            raise KeyError(f"{self.type} takes no argument `{name}`")
        return self.args[name]

    def out(self, shape: Shape) -> Tensor:
        return Tensor(tuple(shape), self.dtype)


@dataclass(frozen=True)
class Inputs:
    """The tensors a node is called on, nested as written (``Tensor``s and tuples)."""

    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    call: Mapping[str, Any] = field(default_factory=dict)

    def tensor(self) -> Tensor:
        """The one tensor a single-input layer takes."""
        first = self.first()
        if isinstance(first, tuple):  # Keras takes even [x] as a list, and fails on it
            raise ShapeError(
                f"expects one input tensor; received a list of {len(first)}",
                "write `inputs: x`, not `inputs: [x]`" if len(first) == 1 else None,
            )
        if not isinstance(first, Tensor):
            raise ShapeError("expects one input tensor; received none")
        return first

    def tensors(self) -> list[Tensor]:
        """The list of tensors a merging layer takes."""
        first = self.first()
        items = list(first) if isinstance(first, tuple) else [first]
        if not all(isinstance(t, Tensor) for t in items):
            raise ShapeError("expects a list of tensors")
        return items

    def first(self) -> Any:
        return self.args[0] if self.args else next(iter(self.kwargs.values()), None)

    def get(self, name: str) -> Any:
        return self.kwargs.get(name)


Rule = Callable[[Layer, Inputs], "Result | Tensor | tuple[Tensor, ...]"]
OpRule = Callable[[Inputs, Mapping[str, Any]], "Tensor | tuple[Tensor, ...]"]

LAYER_RULES: dict[str, Rule] = {}
OP_RULES: dict[str, OpRule] = {}


def layer(*names: str) -> Callable[[Rule], Rule]:
    """Register the decorated function as the shape rule of these layer classes."""
    return _registrar(LAYER_RULES, names)


def op(*names: str) -> Callable[[OpRule], OpRule]:
    """Register the decorated function as the shape rule of these ``keras.ops`` functions."""
    return _registrar(OP_RULES, names)


def _registrar(table: dict[str, Any], names: tuple[str, ...]) -> Callable[[Any], Any]:
    def register(rule: Any) -> Any:
        for name in names:
            assert name not in table, f"two rules for {name}"
            table[name] = rule
        return rule

    return register


def expect_rank(x: Tensor, ranks: int | tuple[int, ...], what: str = "input") -> Shape:
    """``x``'s shape when its rank (batch axis included) is one of ``ranks``."""
    allowed = (ranks,) if isinstance(ranks, int) else ranks
    assert x.shape is not None
    if len(x.shape) not in allowed:
        wanted = " or ".join(str(r) for r in allowed)
        raise ShapeError(
            f"expects a rank-{wanted} {what} (batch axis included); received {show(x.shape)}"
        )
    return x.shape


def at_least_rank(x: Tensor, rank: int, what: str = "input") -> Shape:
    assert x.shape is not None
    if len(x.shape) < rank:
        raise ShapeError(
            f"expects {'an' if what[0] in 'aeiou' else 'a'} {what} of rank {rank} or more "
            "(batch axis included); "
            f"received {show(x.shape)}"
        )
    return x.shape
