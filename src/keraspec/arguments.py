"""What values layer arguments accept: sizes, rates, paddings, flags, and types.

Keras checks these only when a layer is built, with a traceback. Here they are
checked by ``validate`` without Keras: rules by argument name, with the ranges
Keras 3 accepts, then the type the catalog records for the argument (read from
Keras's docstrings by the catalog generator). A flag (an argument whose default
is true or false) must be true or false. ``null`` is accepted where Keras's own
default is None; elsewhere (``momentum: null``) Keras would fail on it.
"""

from __future__ import annotations

from typing import Any

from .diagnostics import written_as

POSITIVE_INTS = frozenset(
    {"units", "filters", "output_dim", "input_dim", "num_heads", "key_dim", "depth_multiplier"}
)
# Windows and steps: a positive integer, or a list of them (one per spatial axis).
WINDOWS = frozenset({"kernel_size", "strides", "pool_size", "dilation_rate"})
RATES = {  # argument → (lowest, highest, highest included)
    "rate": (0.0, 1.0, True),
    "dropout": (0.0, 1.0, True),
    "recurrent_dropout": (0.0, 1.0, True),
    "momentum": (0.0, 1.0, True),
}
PADDINGS = ("valid", "same", "causal")
NAMED_RULES = POSITIVE_INTS | WINDOWS | set(RATES) | {"epsilon", "padding"}


def problem(arg: str, value: Any, info: dict[str, Any]) -> str | None:
    """What is wrong with ``value`` for argument ``arg``, which the catalog describes as ``info``.

    The rules by name come first and are the authority where they exist (Keras
    takes `pool_size: [2]` although its docstring says "int").
    """
    if value is None and _not_nullable(arg, info):
        default = info.get("default")
        if "default" not in info:
            return "is required and cannot be null"
        return f"cannot be null (leave it out for the default, {written_as(default)})"
    if arg in NAMED_RULES:
        return named_problem(arg, value, info.get("default"))
    return named_problem(arg, value, info.get("default")) or type_problem(value, info)


def _not_nullable(arg: str, info: dict[str, Any]) -> bool:
    """Keras passes null on as None: fine where the default is None, not for a size,
    rate, window or typed value that has a default of its own (`momentum: null`).
    Flags are left alone (Keras reads None as false)."""
    if "default" in info and info["default"] is None:
        return False
    typed = info.get("type") in ("int", "ints", "float", "str")
    return arg in NAMED_RULES - POSITIVE_INTS or typed


def named_problem(arg: str, value: Any, default: Any) -> str | None:
    """What is wrong with ``value`` for argument ``arg`` (whose default is ``default``)."""
    if value is None and arg not in POSITIVE_INTS:
        return None  # null means "the default behaviour" for the others
    if arg in POSITIVE_INTS and not is_positive_int(value):
        return "must be a positive integer"
    if arg in WINDOWS and not (is_positive_int(value) or _positive_ints(value)):
        return "must be a positive integer or a list of them"
    # A dropout layer's `rate` has no default; MinMaxNorm's (a blend factor) has one.
    rated = arg in RATES and (arg != "rate" or default is None)
    if rated and not _in_range(value, *RATES[arg]):
        low, high, closed = RATES[arg]
        if closed:
            return f"must be a number from {low:g} to {high:g}"
        return f"must be at least {low:g} and less than {high:g}"
    if arg == "epsilon" and not (_number(value) and value > 0):
        return "must be a positive number"
    padding = isinstance(value, str) and value.lower() in PADDINGS
    if arg == "padding" and isinstance(default, str) and not padding:  # not ZeroPadding's
        return "must be `valid` or `same` (`causal` for Conv1D)"
    if isinstance(default, bool) and not isinstance(value, bool):
        return "must be true or false"
    return None


TYPES = {  # catalog type → (test, what the message says)
    # Keras's standardize_tuple also takes a 1D layer's int as a one-item list.
    "int": (lambda v: is_int(v) or (_ints(v) and len(v) == 1), "an integer"),
    "ints": (lambda v: is_int(v) or _ints(v), "an integer or a list of integers"),
    "float": (lambda v: _number(v), "a number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "a string"),
}


def type_problem(value: Any, info: dict[str, Any]) -> str | None:
    """What is wrong with ``value`` for an argument the catalog describes as ``info``."""
    kind = info.get("type")
    if kind is None or value is None or isinstance(value, dict):
        return None  # null is the default behaviour; a mapping gets E216 and its hint
    test, wanted = TYPES[kind]
    if not test(value):
        return f"must be {wanted}"
    if info.get("min") is not None and is_int(value) and value < info["min"]:
        return f"must be at least {info['min']}"
    choices = info.get("choices")
    if choices and value.lower() not in choices:  # Keras lower-cases these names
        return "must be " + " or ".join(f"`{c}`" for c in choices)
    return None


def is_int(value: Any) -> bool:
    """An integer, not a bool (which Python counts as one). Shape rules use it too."""
    return isinstance(value, int) and not isinstance(value, bool)


def _ints(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(is_int(v) for v in value)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_positive_int(value: Any) -> bool:
    return is_int(value) and value >= 1


def _positive_ints(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(is_positive_int(v) for v in value)


def _in_range(value: Any, low: float, high: float, closed: bool) -> bool:
    return _number(value) and low <= value and (value <= high if closed else value < high)
