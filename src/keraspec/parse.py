"""Loaded data → ``Spec``, with every Pydantic error turned into a located diagnostic."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from .diagnostics import Diagnostic, SpecError, did_you_mean, errors_in, sort_key
from .loader import Document, SourceMap
from .schema import YAML_CONTEXT, Spec

DataPath = tuple[Any, ...]


@dataclass
class Reporter:
    """Collects diagnostics located through a spec's source map."""

    source: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, path: DataPath, code: str, message: str, hint: str | None = None) -> None:
        """A diagnostic at the value at ``path``."""
        self.diagnostics.append(Diagnostic.at(self.source.value(path), code, message, hint))

    def key_error(self, path: DataPath, code: str, message: str, hint: str | None = None) -> None:
        """A diagnostic at the mapping key that holds ``path``."""
        self.diagnostics.append(Diagnostic.at(self.source.key(path), code, message, hint))


def parse(doc: Document) -> Spec:
    """The spec in ``doc``; ``SpecError`` lists every load and schema problem."""
    try:
        spec = parse_schema(doc)
    except SpecError as e:
        found = doc.diagnostics + not_already_reported(e.diagnostics, doc)
        raise SpecError(sorted(found, key=sort_key)) from None
    if errors_in(doc.diagnostics):  # warnings (an unused block) do not stop a load
        raise SpecError(doc.diagnostics)
    return spec


def not_already_reported(diagnostics: list[Diagnostic], doc: Document) -> list[Diagnostic]:
    """Drop later-stage diagnostics at a place the loader already reported: one mistake
    (``shape: (28, 28)``), one error."""
    seen = {(d.file, d.line, d.column) for d in doc.diagnostics} | doc.silenced
    return [d for d in diagnostics if (d.file, d.line, d.column) not in seen]


class SchemaError(SpecError):
    """Schema errors, with the data paths they concern (for ``parse_partial``)."""

    def __init__(self, diagnostics: list[Diagnostic], paths: list[DataPath]):
        super().__init__(diagnostics)
        self.paths = paths


def parse_schema(doc: Document) -> Spec:
    """Validate ``doc`` against the schema only (the loader's own errors are in ``doc``)."""
    try:
        spec = Spec.model_validate(doc.data, context=YAML_CONTEXT)
    except ValidationError as e:
        grouped = group_errors(e, doc.data)
        diagnostics = [_diagnostic(path, items, doc.source) for path, items in grouped.items()]
        raise SchemaError(diagnostics, list(grouped)) from None
    attach_source(spec, doc.source)
    return spec


def leaves(value: Any, path: DataPath) -> Iterator[tuple[DataPath, Any]]:
    """Every scalar in nested lists and mappings, with its data path."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, (*path, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    else:
        yield path, value


Unresolved = frozenset[tuple[Any, ...]]


def parse_partial(doc: Document, paths: list[DataPath]) -> tuple[Spec, Unresolved] | None:
    """The spec without the entries that have schema errors, and what was left out.

    Lets validate check references and the graph of everything else in the same
    run. Left-out names are ``(scope, name)`` pairs: scope ``()`` for the spec's own
    inputs and nodes, ``("models", m)`` for a sub-model's, ``"layers"``/``"models"``
    for definitions. ``paths`` are where the schema errors are (``SchemaError.paths``).
    None when an error is outside any named entry.
    """
    data = {**doc.data}
    dropped: set[tuple[Any, ...]] = set()
    for path in paths:
        if not _drop_entry(data, path, dropped):
            return None
    try:
        spec = Spec.model_validate(data, context=YAML_CONTEXT)
    except ValidationError:
        return None
    attach_source(spec, doc.source)
    return spec, frozenset(dropped)


def _drop_entry(data: dict[str, Any], path: DataPath, dropped: set[tuple[Any, ...]]) -> bool:
    """Remove the named entry that ``path`` lies in; False when there is none."""
    if len(path) >= 4 and path[0] == "models" and path[2] == "nodes":
        model = data.get("models", {}).get(path[1])
        if isinstance(model, dict) and isinstance(model.get("nodes"), dict):
            nodes = _without(model["nodes"], path[3])
            data["models"] = {**data["models"], path[1]: {**model, "nodes": nodes}}
            dropped.add((("models", path[1]), path[3]))
            return True
    bad_name = path[-1:] == ("[key]",)
    if len(path) >= 2 and path[0] == "inputs" and isinstance(data.get("inputs"), dict):
        # A stand-in keeps the input declared (a model needs one); its uses are not judged.
        stand_in = {} if bad_name else {path[1]: {"shape": []}}
        data["inputs"] = {**_without(data["inputs"], path[1]), **stand_in}
        dropped.add(((), path[1]))
        return True
    named_entry = len(path) >= 2 and path[0] in ("nodes", "layers", "models")
    if named_entry and isinstance(data.get(path[0]), dict):
        data[path[0]] = _without(data[path[0]], path[1])
        dropped.add(((), path[1]) if path[0] == "nodes" else (path[0], path[1]))
        return True
    if path and path[0] == "outputs":
        # A stand-in keeps positions (and counts) of the other outputs; it is never judged.
        dropped.add(((), STAND_IN))
        if len(path) >= 2 and isinstance(data.get("outputs"), (list, dict)):
            data["outputs"] = _replaced(data["outputs"], path[1], STAND_IN)
        else:
            data["outputs"] = [STAND_IN]
        return True
    if len(path) >= 2 and path[0] == "compile" and isinstance(data.get("compile"), dict):
        data["compile"] = _without(data["compile"], path[1])  # just the bad field
        return True
    if path and path[0] in ("compile", "description", "fit", "distribute"):
        data.pop(path[0], None)
        return True
    return False


STAND_IN = "keraspec_left_out"  # takes the place of an output with a schema error


def _replaced(entries: list | dict, key: Any, value: Any) -> list | dict:
    if isinstance(entries, dict):
        return {k: (value if k == key else v) for k, v in entries.items()}
    return [value if i == key else v for i, v in enumerate(entries)]


def _without(entries: dict[Any, Any], key: Any) -> dict[Any, Any]:
    return {k: v for k, v in entries.items() if k != key}


def attach_source(spec: Spec, source: SourceMap | None) -> None:
    spec._source = source


def source_of(spec: Spec) -> SourceMap:
    """Where ``spec`` was read from; a spec built in Python maps every path to ``<spec>``."""
    return spec._source if spec._source is not None else SourceMap("<spec>", "")


def group_errors(error: ValidationError, data: Any) -> dict[DataPath, list[dict[str, Any]]]:
    """Pydantic's errors by the data path they concern (a union reports once per branch)."""
    grouped: dict[DataPath, list[dict[str, Any]]] = {}
    for item in error.errors(include_url=False):
        path = data_path(item["loc"], data)
        if item["type"] == "missing":
            path = (*path, item["loc"][-1])
        if item["loc"][-1] == "[key]":
            path = (*path, "[key]")
        grouped.setdefault(path, []).append(item)
    return grouped


def data_path(loc: tuple[Any, ...], data: Any) -> DataPath:
    """The part of a Pydantic ``loc`` that names real keys and indexes in ``data``.

    Union branches and validator names also appear in ``loc``; they are skipped.
    """
    path: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict):
            part = _actual_key(node, part)
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_dict or in_list):
            continue
        node = node[part]
        path.append(part)
    return tuple(path)


def _actual_key(mapping: dict[Any, Any], part: Any) -> Any:
    """Pydantic reports keys as strings; find the YAML key (``1``, ``1.5``, null) it means."""
    if isinstance(part, str) and part in mapping:
        return part
    # the mapping's own key object: `False` for loc 0, `1.5` for loc "1.5"
    matches = [k for k in mapping if not isinstance(k, str) and (k == part or str(k) == str(part))]
    return matches[0] if matches else part


def _diagnostic(path: DataPath, items: list[dict[str, Any]], smap: SourceMap) -> Diagnostic:
    first = items[0]
    kind = first["type"]
    if path and path[-1] == "[key]":
        where = smap.key(path[:-1])
        key, written = path[-2], _token_at(where)
        if written and written != str(key):  # `no:` is read as false, `1.5:` as a float
            message = f"invalid key `{written}` in {describe(path[:-2])}: YAML reads it as {key!r}"
            return Diagnostic.at(where, "E203", message, f'quote it: "{written}"')
        message = f"invalid key `{key}` in {describe(path[:-2])}: {_reason(first)}"
        return Diagnostic.at(where, "E203", message)
    if kind == "missing":
        key = path[-1]
        where = smap.key(path[:-1])
        return Diagnostic.at(where, "E202", f"{describe(path[:-1])} is missing `{key}`")
    if kind == "extra_forbidden":
        key = path[-1]
        hint = did_you_mean(str(key), allowed_keys(first["loc"][:-1]))
        return Diagnostic.at(
            smap.key(path), "E201", f"unknown key `{key}` in {describe(path[:-1])}", hint
        )
    received = ""
    if not isinstance(first["input"], (dict, list)):
        received = f" Received: {_label(path)}={first['input']!r}"
    reason = _reason(first)
    if len(items) > 1:  # one per union branch: "expected a list or a mapping"
        options = dict.fromkeys(_reason(i).removeprefix("input should be ") for i in items)
        reason = "expected " + " or ".join(options)
    message = f"invalid {describe(path)}: {reason}.{received}"
    return Diagnostic.at(smap.value(path), "E203", message)


def _token_at(where: Any) -> str | None:
    """The plain mapping key as written at ``where`` (up to its colon)."""
    if not where.source_line or where.column < 1:
        return None
    return where.source_line[where.column - 1 :].split(":", 1)[0].strip() or None


def _reason(item: dict[str, Any]) -> str:
    message = item["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    # Pydantic speaks Python; a spec author writes YAML.
    for python, yaml_words in _YAML_WORDS:
        message = python.sub(yaml_words, message)
    return message[0].lower() + message[1:] if message else message


_YAML_WORDS = [
    (re.compile(r"valid dictionary or instance of \w+"), "mapping"),
    (re.compile(r"valid (tuple|list)"), "list"),
    (re.compile(r"valid dictionary"), "mapping"),
    (
        re.compile(r"Dictionary should have at least (\d+) items? after validation, not \d+"),
        r"mapping should have at least \1 entry",
    ),
    (
        re.compile(r"List should have at least (\d+) items? after validation, not \d+"),
        r"list should have at least \1 entry",
    ),
]


def _label(path: DataPath) -> str:
    if len(path) > 1 and isinstance(path[-1], int):
        return f"{path[-2]}[{path[-1]}]"
    return str(path[-1]) if path else "value"


_SECTIONS = {
    "inputs": "input",
    "nodes": "node",
    "layers": "shared layer",
    "models": "model",
    "outputs": "output",
}


def describe(path: DataPath) -> str:
    """A readable name for a place in the spec: ``node `h1` of model `encoder` ``."""
    if not path:
        return "the spec"
    parts: list[str] = []
    rest = list(path)
    while len(rest) >= 2 and rest[0] in _SECTIONS and rest[0] != "outputs":
        parts.insert(0, f"{_SECTIONS[rest[0]]} `{rest[1]}`")
        rest = rest[2:]
    if rest:
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
        parts.insert(0, f"`{field}`")
    return " of ".join(parts)


def allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the schema model that sits at ``loc`` (for did-you-mean hints)."""
    current: Any = Spec
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    model = _as_model(current)
    return list(model.model_fields) if model else []


def _step(annotation: Any, part: Any) -> Any:
    model = _as_model(annotation)
    if model is not None:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict:
        return args[1]
    if origin is list:
        return args[0]
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if getattr(arg, "__name__", None) == part:
                return arg
            found = _step(arg, part)
            if found is not None:
                return found
    if origin is typing.Annotated:
        return _step(args[0], part)
    return None


def _as_model(annotation: Any) -> type[BaseModel] | None:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def require_valid(diagnostics: list[Diagnostic]) -> None:
    if errors := errors_in(diagnostics):
        raise SpecError(errors)
