"""What names stand for while a spec expands: where values came from, scopes, targets.

``Src`` locates a value (file, data path, and the block uses it came through);
``Scope`` holds the names visible where a node is written; each name stands for a
``Target``: a flat node, an alias of another reference, a block's several outputs,
a node dropped by ``when``, or a failed expansion.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..diagnostics import Location, Note
from ..loader import Document, SourceMap

DataPath = tuple[Any, ...]


@dataclass(frozen=True)
class Src:
    """Where a value was written: a file's source map, a data path, and the use sites."""

    smap: SourceMap
    path: DataPath
    via: tuple[Note, ...] = ()

    def at(self, *sub: Any) -> Src:
        return Src(self.smap, (*self.path, *sub), self.via)

    def value(self) -> Location:
        return self._via(self.smap.value(self.path))

    def key(self) -> Location:
        return self._via(self.smap.key(self.path))

    def _via(self, where: Location) -> Location:
        if not self.via:
            return where
        # Built directly: dataclasses.replace costs more than the rest of expansion.
        return Location(where.file, where.line, where.column, where.source_line, self.via)

    def used(self, message: str, **block: Any) -> tuple[Note, ...]:
        """The use-site chain of content expanded from here, innermost first.

        ``block`` is a block use's ``block``, ``use`` and ``repeat`` (see ``Note``).
        """
        where = self.key()
        return (Note(message, where.file, where.line, where.column, **block), *self.via)


@dataclass
class SpecFile:
    """A loaded spec file: the root, or one that ``use:`` includes."""

    doc: Document
    env: dict[str, Any] | None = None  # its params, evaluated on first use

    @property
    def src(self) -> Src:
        return Src(self.doc.source, ())

    def section(self, key: str) -> dict[Any, Any]:
        value = self.doc.data.get(key) if isinstance(self.doc.data, dict) else None
        return value if isinstance(value, dict) else {}


@dataclass
class Ref:
    """A reference as written (``x``, ``x[1]``), to be resolved in the scope it was written in."""

    scope: Scope
    text: str
    src: Src


@dataclass
class Concrete:
    name: str


@dataclass
class Alias:
    ref: Ref


@dataclass
class Outputs:
    refs: list[Ref]
    block: str


@dataclass
class Dropped:
    inputs: Any
    src: Src
    scope: Scope


@dataclass
class Failed:
    placeholder: str


Target = Concrete | Alias | Outputs | Dropped | Failed


@dataclass
class GraphOut:
    """The flat nodes of one model (the spec's own, or a sub-model's)."""

    out_path: DataPath  # () or ("models", name): graph.Scope's prefix
    inputs: set[str] = field(default_factory=set)
    nodes: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Src] = field(default_factory=dict)


@dataclass
class Scope:
    """The names visible where a node is written: the spec's, or one block expansion's."""

    file: SpecFile
    env: dict[str, Any]
    graph: GraphOut
    prefix: str = ""
    block: str | None = None  # inside a block, names must be the block's own
    chain: tuple[str, ...] = ()  # blocks being expanded, outermost first
    refs: dict[str, Target] = field(default_factory=dict)


@dataclass
class BlockDef:
    """A block definition as written, with where it was written and the file it lives in."""

    name: str
    data: dict[str, Any]
    src: Src
    home: SpecFile
    key: str  # file#name: identifies the block across includes

    def value(self, key: str) -> Any:
        return self.data.get(key)

    def seen_from(self, via: tuple[Note, ...]) -> BlockDef:
        return replace(self, src=replace(self.src, via=via))


def names_of(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def single_input(inputs: Any) -> str | None:
    """The one reference in ``inputs`` (``x`` or ``[x]``), else None."""
    if isinstance(inputs, str):
        return inputs
    if isinstance(inputs, list) and len(inputs) == 1 and isinstance(inputs[0], str):
        return inputs[0]
    return None


def indexed(name: str, index: str | None) -> str:
    return name if index is None else f"{name}[{index}]"
