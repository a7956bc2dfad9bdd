"""The small expression language of ``${...}``: arithmetic, comparisons, conditionals.

Parsed with Python's own ``ast`` and then evaluated by walking a whitelist of node
types: never ``eval``, no attribute access, no calls but the functions in
``FUNCTIONS``, and every size bounded, so a hostile spec cannot run code, hang or
exhaust memory through an expression.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from .diagnostics import did_you_mean, written_as

MAX_LENGTH = 400  # characters in one expression
MAX_NODES = 200  # syntax-tree nodes in one expression
MAX_INT_BITS = 64  # integers stay within what a layer argument can use
MAX_EXPONENT = 64
MAX_TEXT = 10_000  # characters in a string value, interpolated ones included
MAX_ITEMS = 10_000  # values in a list value, nested lists included

BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


def _round(number: Any, digits: int | None = None) -> Any:
    if digits is not None and (not isinstance(digits, int) or abs(digits) > MAX_EXPONENT):
        raise ValueError(f"round's digits must be a whole number from -64 to 64, got {digits!r}")
    return round(number, digits)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "int": int,
    "float": float,
    "round": _round,
    "len": len,
    "ceil": math.ceil,
    "floor": math.floor,
}
Number = (int, float)


class ExprError(ValueError):
    """An expression that cannot be read or evaluated; the message says why.

    ``unknown_name`` is set when the cause is a name that is not defined.
    """

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        unknown_name: str | None = None,
        reported: bool = False,
    ):
        super().__init__(message)
        self.hint = hint
        self.unknown_name = unknown_name
        self.reported = reported  # it uses a value whose own error is reported already


class _Poisoned:
    """The value of a parameter whose expression failed (and was reported)."""

    def __repr__(self) -> str:
        return "<failed>"


POISONED = _Poisoned()


def evaluate(text: str, names: Mapping[str, Any]) -> Any:
    """The value of the expression ``text`` with ``names`` bound."""
    tree = parse(text)
    return _Evaluator(names).visit(tree.body)


def parse(text: str) -> ast.Expression:
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ExprError(f"invalid expression `{text}`: {e.msg}") from None
    except (RecursionError, MemoryError):
        raise ExprError(f"invalid expression `{text}`: nested too deeply") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExprError(f"expression has more than {MAX_NODES} parts")
    return tree


class _Evaluator:
    def __init__(self, names: Mapping[str, Any]):
        self.names = names

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise ExprError(f"`{ast.unparse(node)}` is not allowed in an expression")
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> Any:
        if not isinstance(node.value, (int, float, str, bool, type(None))):
            raise ExprError(f"`{ast.unparse(node)}` is not allowed in an expression")
        return bounded(node.value)

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.names:
            if self.names[node.id] is POISONED:  # reported where it failed: say nothing more
                raise ExprError(f"`{node.id}` failed", reported=True)
            return bounded(self.names[node.id])
        if node.id in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[node.id]
        hint = did_you_mean(node.id, self.names)
        if node.id == "i" and not hint:
            hint = "`i` is defined only in the values of a repeated node (not its `when`/`repeat`)"
        raise ExprError(f"unknown parameter `{node.id}`", hint, unknown_name=node.id)

    def visit_List(self, node: ast.List) -> list[Any]:
        return bounded([self.visit(item) for item in node.elts])

    visit_Tuple = visit_List

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        _numbers(node, value)
        return -value if isinstance(node.op, ast.USub) else +value

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        op = BINARY.get(type(node.op))
        if op is None:
            raise ExprError(f"operator in `{ast.unparse(node)}` is not allowed")
        _numbers(node, left, right)
        if op is operator.pow and abs(right) > MAX_EXPONENT:
            raise ExprError(f"exponent in `{ast.unparse(node)}` is larger than {MAX_EXPONENT}")
        try:
            return bounded(op(left, right))
        except ZeroDivisionError:
            raise ExprError(f"division by zero in `{ast.unparse(node)}`") from None
        except OverflowError:
            raise ExprError(f"`{ast.unparse(node)}` is too large") from None

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        is_and = isinstance(node.op, ast.And)
        value = None
        for item in node.values:  # short-circuits, like Python
            value = self.visit(item)
            if bool(value) != is_and:
                return value
        return value

    def visit_Compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.visit(right_node)
            try:
                if not COMPARE[type(op_node)](left, right):
                    return False
            except TypeError:
                raise ExprError(f"cannot compare in `{ast.unparse(node)}`") from None
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body if self.visit(node.test) else node.orelse)

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        value, index = self.visit(node.value), self.visit(node.slice)
        if not isinstance(value, list) or isinstance(index, bool) or not isinstance(index, int):
            raise ExprError(f"`{ast.unparse(node)}`: only lists can be indexed, by integers")
        if not -len(value) <= index < len(value):
            raise ExprError(f"`{ast.unparse(node)}`: index {index} is out of range")
        return bounded(value[index])

    def visit_Call(self, node: ast.Call) -> Any:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords:
            allowed = ", ".join(FUNCTIONS)
            raise ExprError(f"`{ast.unparse(node)}`: the functions allowed are {allowed}")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise ExprError(f"`{ast.unparse(node)}`: `*` is not allowed")
        args = [self.visit(a) for a in node.args]
        try:
            return bounded(FUNCTIONS[name](*args))
        except (TypeError, ValueError, OverflowError) as e:
            raise ExprError(f"`{ast.unparse(node)}`: {e}") from None


def _numbers(node: ast.AST, *values: Any) -> None:
    if not all(isinstance(v, Number) for v in values):
        shown = ", ".join(kind(v) for v in values)
        raise ExprError(f"`{ast.unparse(node)}` needs numbers, got {shown}")


def kind(value: Any) -> str:
    """A value as the spec would write it: `2`, `true`, `null`, `text 'relu'`, `a list`."""
    if isinstance(value, str):
        return f"text {written_as(value)}"
    if isinstance(value, list):
        return "a list"
    return repr(value) if isinstance(value, dict) else written_as(value)


def size(value: Any) -> int:
    """How many values ``value`` holds, nested lists counted through."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if isinstance(item, list):
            stack.extend(item)
    return count


def bounded(value: Any) -> Any:
    """``value`` if it is a plain, finite, reasonably sized value; else ``ExprError``.

    Lists are checked to the last element, so nothing large or foreign (a mapping
    from a YAML parameter) hides inside one.
    """
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_ITEMS:
            raise ExprError(f"a list of more than {MAX_ITEMS:,} values is too large")
        if isinstance(item, list):
            stack.extend(item)
        else:
            _plain(item)
    return value


def _plain(value: Any) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ExprError(f"integer with {value.bit_length()} bits is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise ExprError(f"the result is {value}, not a finite number")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise ExprError(f"a string of {len(value):,} characters is longer than {MAX_TEXT:,}")
    if not isinstance(value, (int, float, str)):
        what = "mapping" if isinstance(value, dict) else type(value).__name__
        raise ExprError(f"the result is a {what}, not a number, string or list")
