"""The ``${...}`` evaluator: what it computes, what it refuses, and that it never escapes."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keraspec.expr import ExprError, evaluate

NAMES = {
    "width": 64,
    "alpha": 0.5,
    "depths": [3, 4, 6, 3],
    "flag": True,
    "act": "relu",
    "big": [[0] * 200] * 60,  # as a nested-list "bomb" would build it
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("width", 64),
        ("width * 2 + 1", 129),
        ("width / 3", 64 / 3),
        ("width // 3", 21),
        ("width % 5", 4),
        ("2 ** 10", 1024),
        ("-width", -64),
        ("depths[2]", 6),
        ("depths[-1]", 3),
        ("max(8, int(width * alpha + 4) // 8 * 8)", 32),
        ("min(depths)", 3),
        ("len(depths)", 4),
        ("round(2.5) + ceil(0.1) + floor(1.9) + abs(-2)", 2 + 1 + 1 + 2),
        ("width if flag else 0", 64),
        ("1 if width > 100 else 2", 2),
        ("width > 32 and not flag", False),
        ("width > 32 or flag", True),
        ("0 < alpha <= 1", True),
        ("act == 'relu'", True),
        ("3 in depths", True),
        ("[width, width * 2]", [64, 128]),
        ("(1, 2)", [1, 2]),
        ("true and not false", True),
        ("null", None),
        ("(" * 190 + "1" + ")" * 190, 1),  # nesting is bounded by the length limit
    ],
)
def test_evaluates(text: str, value: object) -> None:
    assert evaluate(text, NAMES) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("widht", "unknown parameter `widht`"),
        ("width.real", "`width.real` is not allowed in an expression"),
        ("__import__('os').system('true')", "the functions allowed are"),
        ("open('/etc/passwd')", "the functions allowed are"),
        ("eval('1')", "the functions allowed are"),
        ("(lambda: 1)()", "the functions allowed are"),
        ("[x for x in depths]", "is not allowed in an expression"),
        ("{'a': 1}", "is not allowed in an expression"),
        ("max(*depths)", "`*` is not allowed"),
        ("int(x=1)", "the functions allowed are"),
        ("depths[10]", "index 10 is out of range"),
        ("act[0]", "only lists can be indexed"),
        ("1 / 0", "division by zero in `1 / 0`"),
        ("2 ** 65", "exponent in `2 ** 65` is larger than 64"),
        ("9 ** 64", "too large"),
        ("act * 1000", "needs numbers, got text 'relu', 1000"),
        ("depths * 1000", "needs numbers, got a list, 1000"),
        ("1 +", "invalid expression"),
        ("1 < 'a'", "cannot compare"),
        ("x := 1", "invalid expression"),
        ("a" * 401, "longer than 400 characters"),
        ("(-0.25) ** 0.5", "the result is a complex, not a number, string or list"),
        ("float('inf')", "the result is inf, not a finite number"),
        ("1e308 * 10", "the result is inf, not a finite number"),
        ("round(7, -2 ** 62)", "round's digits must be a whole number from -64 to 64"),
        ("int('9999999999999999999999')", "integer with 74 bits is too large"),
        ("[depths, depths, depths] * 1", "needs numbers"),
        ("big", "a list of more than 10,000 values is too large"),
        ("+".join(["1"] * 150), "more than 200 parts"),
    ],
)
def test_refuses(text: str, message: str) -> None:
    with pytest.raises(ExprError, match=None) as caught:
        evaluate(text, NAMES)
    assert message in str(caught.value)


def test_unknown_name_hint() -> None:
    with pytest.raises(ExprError) as caught:
        evaluate("widht * 2", NAMES)
    assert caught.value.hint == "did you mean `width`?"


def integer_expressions() -> st.SearchStrategy[tuple[str, int]]:
    """Arithmetic over small integers, with the value Python gives."""
    leaves = st.integers(-50, 50).map(lambda n: (f"({n})", n))

    def combine(children: st.SearchStrategy) -> st.SearchStrategy:
        ops = st.sampled_from(["+", "-", "*", "//", "%"])
        return st.tuples(children, ops, children).filter(_defined).map(_apply)

    return st.recursive(leaves, combine, max_leaves=12)


def _defined(parts: tuple) -> bool:
    _, op, (_, right) = parts
    return not (op in ("//", "%") and right == 0)


def _apply(parts: tuple) -> tuple[str, int]:
    (ltext, left), op, (rtext, right) = parts
    value = {
        "+": left + right,
        "-": left - right,
        "*": left * right,
        "//": left // right if right else None,
        "%": left % right if right else None,
    }[op]
    return f"({ltext} {op} {rtext})", value


@settings(max_examples=300, deadline=None)
@given(integer_expressions())
def test_integer_arithmetic_agrees_with_python(case: tuple[str, int]) -> None:
    text, value = case
    if len(text) > 400 or abs(value).bit_length() > 64:
        return
    assert evaluate(text, {}) == value


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_any_text_evaluates_or_raises_expr_error(text: str) -> None:
    with contextlib.suppress(ExprError):
        evaluate(text, NAMES)
