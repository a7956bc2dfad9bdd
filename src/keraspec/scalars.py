"""How a plain (unquoted) YAML scalar is read, and when that depends on the YAML version.

PyYAML implements YAML 1.1, where ``no`` is false, ``0755`` is octal and ``1:30`` is
90; YAML 1.2 (and most other tools) read those as a string, 755 and a string. A
spec must not mean different things to different readers, so a scalar the two
versions read differently is an error (E108) unless it is quoted. Python tuple
syntax, which YAML reads as a string, is caught here too (E226).
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import yaml

from .diagnostics import written_as

_STR = "tag:yaml.org,2002:str"


class SpecLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 floats (``1e-3`` is a number), no timestamps, no ``=``."""


_DROPPED = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
_YAML11_STARTS = frozenset(SpecLoader.yaml_implicit_resolvers)


class NestsTooDeep(Exception):
    """A node sits deeper than a composer was asked to go."""


try:  # PyYAML built with libyaml
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml: the pure parser only
    CParser = None

if CParser is not None:

    class LibyamlComposer(CParser, yaml.resolver.BaseResolver):  # type: ignore[misc]
        """libyaml's parser and composer, resolving plain scalars as SpecLoader does."""

        yaml_implicit_resolvers = SpecLoader.yaml_implicit_resolvers

        def __init__(self, text: str, max_depth: int):
            CParser.__init__(self, text)
            yaml.resolver.BaseResolver.__init__(self)
            self.scalar_tags: dict[tuple[str, tuple[bool, bool]], str] = {}
            self.depth = 0
            self.max_depth = max_depth

        # libyaml calls these back from C for every node. A scalar's tag depends only
        # on its text and quoting (SpecLoader has no path resolvers), so each distinct
        # scalar is resolved once; the path hooks, around each node written out, count
        # how deep it sits instead.
        def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
            if kind is not yaml.ScalarNode:
                return super().resolve(kind, value, implicit)
            key = (value, implicit)
            if key not in self.scalar_tags:
                self.scalar_tags[key] = super().resolve(kind, value, implicit)
            return self.scalar_tags[key]

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            self.depth += 1
            if self.depth > self.max_depth:
                raise NestsTooDeep(self.max_depth)

        def ascend_resolver(self) -> None:
            self.depth -= 1

else:  # pragma: no cover
    LibyamlComposer = None

# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULL_12 = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_12 = {"true": True, "True": True, "TRUE": True, "false": False, "False": False}
_BOOL_12["FALSE"] = False
_INT_12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_12 = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def yaml12_value(text: str) -> Any:
    """What a YAML 1.2 core-schema reader makes of a plain scalar."""
    if _NULL_12.match(text):
        return None
    if text in _BOOL_12:
        return _BOOL_12[text]
    if _INT_12.match(text):
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    if _FLOAT_12.match(text):
        body = text.lstrip("+-").lower()
        if body == ".inf":
            return -math.inf if text.startswith("-") else math.inf
        return math.nan if body == ".nan" else float(text)
    return text


_READER = SpecLoader("")  # resolves and constructs single scalars; holds no document


def read_plain(text: str) -> Any:
    """What keraspec (PyYAML with the changes above) makes of a plain scalar."""
    node = yaml.ScalarNode(_READER.resolve(yaml.ScalarNode, text, (True, False)), text)
    return _READER.construct_document(node)  # which, unlike construct_object, forgets the node


def version_dependent(text: str) -> tuple[Any, Any] | None:
    """``(keraspec's reading, YAML 1.2's)`` when they differ, else None."""
    ours, theirs = read_plain(text), yaml12_value(text)
    if same_value(ours, theirs):
        return None
    return ours, theirs


def same_value(a: Any, b: Any) -> bool:
    """Equal as loaded data: types too (``1`` is not ``true``), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


# First characters of plain scalars that YAML 1.2 reads as something other than a
# string (null, booleans, numbers); YAML 1.1's are the keys of the resolver table.
_YAML12_STARTS = frozenset("~nNtTfF0123456789+-.")


def ambiguity(text: str) -> tuple[str, str] | None:
    """The E108 message and hint for a plain scalar, if its meaning depends on the version."""
    if text and text[0] not in _YAML12_STARTS and text[0] not in _YAML11_STARTS:
        return None  # a string to both, decided by its first character: `d17`, `relu`
    return _ambiguity(text)


@functools.lru_cache(maxsize=4096)  # specs repeat their words: Dense, relu, inputs ...
def _ambiguity(text: str) -> tuple[str, str] | None:
    readings = version_dependent(text)
    if readings is None:
        return None
    ours, theirs = readings
    yaml11, yaml12 = written_as(ours), written_as(theirs)
    message = f"`{text}` is ambiguous: YAML 1.1 reads it as {yaml11}, YAML 1.2 as {yaml12}"
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return message, f'write true or false for a boolean, "{text}" for the string'
    return message, f'write the number you mean, or "{text}" for the string'


def tuple_syntax(text: str) -> str | None:
    """A hint when a plain scalar is Python tuple syntax, which YAML reads as a string."""
    if not text.lstrip().startswith("("):
        return None
    if text.rstrip().endswith(")"):
        return "write a YAML list: " + text.strip().replace("(", "[").replace(")", "]")
    # `{kernel_size: (3, 3), ...}`: inside `{}` or `[]` YAML splits the tuple at commas
    return "parentheses are not YAML syntax: write a list, e.g. [3, 3]"


def needs_quotes(text: str) -> bool:
    """Whether a string must be quoted when written so that every reader gets a string."""
    return not isinstance(yaml12_value(text), str) or tuple_syntax(text) is not None
