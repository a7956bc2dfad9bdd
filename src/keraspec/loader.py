"""Stage 1, load: YAML text → plain Python data plus a map from data path to file:line:col.

PyYAML composes the node tree with its safe loader; we construct plain values
ourselves so that every value keeps its position, duplicate keys are caught
with both lines named, and no tag beyond plain YAML is ever honoured.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .diagnostics import Diagnostic, Location, SpecError
from .limits import DEFAULT, Limits, flag
from .scalars import LibyamlComposer, SpecLoader, ambiguity, tuple_syntax

Path_ = tuple[str | int, ...]

# Plain YAML: scalars, sequences, mappings (and the merge key). Anything else, such
# as !!python/object/apply, is rejected before it could mean anything.
ALLOWED_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")
)
MERGE_TAG = "tag:yaml.org,2002:merge"
# Depth and alias bounds: see limits.Limits (max_depth, max_alias_values).
MAX_DEPTH = DEFAULT.max_depth


# A position as stored: a Location, or a parser's mark (anything with a 0-based line
# and column), which becomes a Location when asked for. Marks cost nothing to keep,
# the parser made them, and most are never asked for.
Position = Location | yaml.Mark


@dataclass
class SourceMap:
    """Where each value of a loaded document came from."""

    file: str
    text: str
    keys: dict[Path_, Position] = field(default_factory=dict)
    values: dict[Path_, Position] = field(default_factory=dict)
    lines: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lines = self.text.splitlines()

    def value(self, path: Path_) -> Location:
        """The position of the value at ``path``, or of its nearest located ancestor."""
        return self._nearest(self.values, path)

    def key(self, path: Path_) -> Location:
        """The position of the mapping key that holds ``path`` (falls back to the value)."""
        if path in self.keys:
            return self.location(self.keys[path])
        return self._nearest(self.values, path)

    def _nearest(self, table: dict[Path_, Position], path: Path_) -> Location:
        for end in range(len(path), -1, -1):
            if path[:end] in table:
                return self.location(table[path[:end]])
        return self.at(1, 1)

    def location(self, position: Position) -> Location:
        return position if isinstance(position, Location) else self.mark(position)

    def at(self, line: int, column: int) -> Location:
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return Location(self.file, line, column, source)

    def mark(self, mark: yaml.Mark) -> Location:
        return self.at(mark.line + 1, mark.column + 1)


@dataclass
class Document:
    data: Any
    source: SourceMap
    # Errors that leave the data usable (an ambiguous YAML 1.1 scalar kept as its
    # text), so later stages still run and report theirs too.
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Names whose definition failed to expand, as (graph prefix, name) pairs: their
    # uses are not judged again (see expand/ and graph.Scope.unresolved).
    unresolved: frozenset[tuple[Any, ...]] = frozenset()
    # Places whose value stands for an error reported elsewhere (a `${...}` that uses
    # a failed parameter): later stages say nothing about them.
    silenced: frozenset[tuple[str, int, int]] = frozenset()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector (nested uses keep it paused).

    Loading and checking a spec allocate many small objects and free none until the
    end; the collector's passes over them would grow with the spec's size squared,
    and they find nothing: the trees a spec becomes hold no cycles worth collecting.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_file(path: str | Path, limits: Limits = DEFAULT) -> Document:
    path = Path(path)
    if path.is_symlink() and not _stays_in_folder(path):
        # A pull request can add `spec.yaml -> /proc/self/environ`: its content
        # would be echoed in messages. A spec is read where it is, or not at all.
        message = "cannot read file: it is a symlink to a file outside its folder"
        raise SpecError([Diagnostic.at(Location(str(path), 1, 1), "E001", message)])
    try:
        raw = _read_at_most(path, limits.max_file_size)
    except OSError as e:
        diag = Diagnostic.at(Location(str(path), 1, 1), "E001", f"cannot read file: {e.strerror}")
        raise SpecError([diag]) from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        before = raw[: e.start].decode("utf-8")  # valid up to the bad byte
        where = _position(before, len(before), SourceMap(str(path), ""))
        diag = Diagnostic.at(where, "E002", "file is not valid UTF-8 text")
        raise SpecError([diag]) from e
    return load_text(text, str(path), limits)


def _read_at_most(path: Path, size: int) -> bytes:
    """The file's bytes; past ``size`` it is refused unread (E109), whatever stat says."""
    with path.open("rb") as file:
        raw = file.read(size + 1)
    if len(raw) > size:
        message = f"the file is larger than {size:,} bytes"
        hint = f"raise the limit with {flag('max_file_size')} if the spec is meant to be this big"
        raise SpecError([Diagnostic.at(Location(str(path), 1, 1), "E109", message, hint)])
    return raw


def _stays_in_folder(path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(path.absolute().parent.resolve())
    except (OSError, RuntimeError):  # a symlink loop: reading it fails with its own error
        return True


def load_text(text: str, source: str = "<string>", limits: Limits = DEFAULT) -> Document:
    with paused_gc():
        return _load_text(text, source, limits)


def _load_text(text: str, source: str, limits: Limits) -> Document:
    smap = SourceMap(source, text)
    if len(text) > limits.max_file_size:  # characters: at least as many bytes
        message = f"the text is larger than {limits.max_file_size:,} bytes"
        raise SpecError([Diagnostic.at(smap.at(1, 1), "E109", message)])
    try:
        node = compose(text, limits.max_depth)
    except yaml.MarkedYAMLError as e:
        raise SpecError([_yaml_error(e, smap)]) from e
    except yaml.reader.ReaderError as e:
        where = _position(text, e.position, smap)
        char = chr(e.character) if isinstance(e.character, int) else e.character
        message = f"invalid YAML: character {char!r} (U+{ord(char):04X}) is not allowed"
        raise SpecError([Diagnostic.at(where, "E100", message)]) from e
    except yaml.YAMLError as e:
        raise SpecError([Diagnostic.at(smap.at(1, 1), "E100", str(e).splitlines()[0])]) from e
    except RecursionError as e:
        message = f"the document nests deeper than {limits.max_depth} levels"
        raise SpecError([Diagnostic.at(smap.at(1, 1), "E107", message)]) from e
    if node is None:
        raise SpecError([Diagnostic.at(smap.at(1, 1), "E103", "the file is empty")])
    if not isinstance(node, yaml.MappingNode):
        where = smap.mark(node.start_mark)
        raise SpecError([Diagnostic.at(where, "E103", "a spec must be a mapping at the top level")])
    most = limits.max_alias_values
    if "*" in text and (added := added_by_aliases(node)) > most:
        message = f"aliases expand the document by {added:,} values, more than the {most:,} allowed"
        hint = "aliases (*name) repeat their anchor's content; use fewer of them"
        raise SpecError([Diagnostic.at(smap.at(1, 1), "E106", message, hint)])
    builder = _Builder(smap, limits.max_depth)
    try:
        data = builder.build(node, ())
    except _TooDeep:
        data = None
    if builder.diagnostics:
        raise SpecError(builder.diagnostics)
    return Document(data, smap, builder.recoverable)


def load_value(text: str, source: str) -> Any:
    """One YAML value on its own, such as a ``--set`` value, read by the same rules as a file."""
    smap = SourceMap(source, text)
    try:
        node = compose(text)
    except yaml.YAMLError as e:
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise SpecError([Diagnostic.at(smap.at(1, 1), "E100", f"invalid YAML: {problem}")]) from e
    if node is None:
        return None
    builder = _Builder(smap)
    try:
        value = builder.build(node, ())
    except _TooDeep:
        value = None
    if builder.diagnostics or builder.recoverable:
        raise SpecError(builder.diagnostics + builder.recoverable)
    return value


def compose(text: str, max_depth: int = MAX_DEPTH) -> yaml.Node | None:
    """The document's node tree, exactly as PyYAML's pure-Python parser makes it.

    The pure parser is the reference, so a spec gets the same verdict on every
    machine. libyaml, when PyYAML has it, is used only where it is known to make
    the same tree (see ``_LIBYAML_DIFFERS``); whatever it objects to, the pure
    parser reads again, so that errors are reported in the pure parser's words.
    """
    if LibyamlComposer is not None and not _LIBYAML_DIFFERS.search(text):
        try:
            # Nested 64 deep or more, the pure parser may run out of stack (E107 at the
            # start of the file) where libyaml goes on: such a tree is read again.
            node = _single_node(LibyamlComposer(text, max_depth=max_depth))
        except Exception:  # any objection at all: the pure parser decides, below
            pass
        else:  # a scalar document (E103) is read again: where an empty one is differs
            if isinstance(node, yaml.CollectionNode):
                return node
    return _single_node(SpecLoader(text))  # its reader rejects unprintable characters


def _single_node(loader: Any) -> yaml.Node | None:
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


# Where libyaml (0.2.x) and PyYAML's pure parser read a text differently, libyaml is
# not used. Found by reading both scanners and by tests/test_libyaml.py, which
# compares them on random YAML:
# - tabs: libyaml accepts them in flow collections and after values;
# - `?`: in `[a?b]` libyaml reads a plain scalar, PyYAML an error (yaml/pyyaml#128);
# - `!` (tags): in `[!!str, a]` libyaml ends the tag at the comma, PyYAML does not;
# - `|#` or `>-#`: libyaml takes a comment right after a block scalar's indicators;
# - an empty value or key in a flow collection (`{a: }`, `{: b}`): PyYAML places
#   the empty value where the `:` ends, libyaml where the next token starts;
# - `%` directives, line breaks other than `\n` (`\r`, NEL, U+2028/9), a BOM,
#   surrogates and control characters.
# Other characters, ASCII or not, read alike.
_LIBYAML_DIFFERS = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
    r"|[?!]|[|>][-+0-9]*#|^%"
    r"|:(?:[ \n]|#[^\n]*)*[,\]}]|[{\[,](?:[ \n]|#[^\n]*)*:",
    re.MULTILINE,
)


def _position(text: str, offset: int, smap: SourceMap) -> Location:
    line = text.count("\n", 0, offset) + 1
    return smap.at(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _yaml_error(e: yaml.MarkedYAMLError, smap: SourceMap) -> Diagnostic:
    mark = e.problem_mark or e.context_mark
    where = smap.mark(mark) if mark else smap.at(1, 1)
    problem = e.problem or e.context or "invalid YAML"
    context = f" ({e.context})" if e.context and e.problem else ""
    hint = None
    if problem.startswith("but found another document"):
        return Diagnostic.at(where, "E100", "a spec holds one YAML document; found a second one")
    if "flow" in (e.context or "") and "'['" in problem:
        hint = 'inside `[...]` or `{...}`, quote references with an index: "enc[1]"'
    line = where.source_line or ""
    if "flow" in (e.context or "") and "'{'" in problem and "${" in line:
        hint = 'inside `[...]` or `{...}`, quote `${...}` values: "${w * 2}"'
    return Diagnostic.at(where, "E100", f"invalid YAML: {problem}{context}", hint)


def added_by_aliases(root: yaml.Node) -> int:
    """How many values the tree gains when its aliases are expanded."""
    written: dict[int, int] = {}
    return expanded_size(root, written) - len(written)


def expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many values the tree has once aliases are expanded, without expanding them.

    Each distinct node is measured once, so a "billion laughs" file costs microseconds;
    a node that contains itself counts as one here and is reported by the builder.
    """
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1
    if isinstance(node, yaml.SequenceNode):
        memo[key] = 1 + sum(expanded_size(item, memo) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        memo[key] = 1 + sum(expanded_size(k, memo) + expanded_size(v, memo) for k, v in node.value)
    return memo[key]


class _TooDeep(Exception):
    """Stops the walk at the first over-deep value (reported once, not per ancestor)."""


class _Builder:
    """Turns a composed YAML node tree into dicts, lists and scalars, recording positions."""

    def __init__(self, smap: SourceMap, max_depth: int = MAX_DEPTH):
        self.smap = smap
        self.max_depth = max_depth
        self.diagnostics: list[Diagnostic] = []
        self.constructor = SpecLoader("")
        self.recoverable: list[Diagnostic] = []
        self.active: set[int] = set()
        self.readings: dict[tuple[str, str, bool], Any] = {}

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.smap.values.setdefault(path, node.start_mark)
        if len(path) > self.max_depth:
            self._error(node, "E107", f"the document nests deeper than {self.max_depth} levels")
            raise _TooDeep
        if node.tag not in ALLOWED_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._error(node, "E102", f"unsupported YAML tag `{tag}`", _TAG_HINT)
            return None
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if id(node) in self.active:
            self._error(node, "E104", "an alias refers to a mapping or list that contains it")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        # Specs repeat their words (`Dense`, `relu`, `8`) and a scalar's value depends
        # only on its tag, text and quoting: each one without a problem is read once.
        key = (node.tag, node.value, bool(node.style))
        if key in self.readings:
            return self.readings[key]
        try:
            if not node.style and (problem := _plain_problem(node.value)):
                code, message, hint, fatal = problem
                (self._error if fatal else self._recoverable)(node, code, message, hint)
                return node.value
            # construct_document, not construct_object: it forgets the node afterwards, so
            # the constructor (a cycle, freed only by the collector) keeps no tree alive.
            value = self.constructor.construct_document(node)
        # An integer of thousands of digits (Python refuses to convert it), or a value
        # its explicit tag cannot read: `!!int ''`, `!!bool maybe`, `!!seq x`.
        except (ValueError, LookupError, yaml.constructor.ConstructorError):
            shown = node.value[:20] + "…" if len(node.value) > 20 else node.value
            self._error(node, "E100", f"invalid YAML: cannot read `{shown}` as a value")
            return None
        self.readings[key] = value
        return value

    def _recoverable(self, node: yaml.Node, code: str, message: str, hint: str) -> None:
        found = Diagnostic.at(self.smap.mark(node.start_mark), code, message, hint)
        if found not in self.recoverable:  # an alias repeats its anchor's values
            self.recoverable.append(found)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        own: dict[Any, Any] = {}
        merges: list[yaml.Node] = []
        first_seen: dict[Any, yaml.Node] = {}
        key_path = (*path, "<key>")
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append(value_node)
                continue
            key = self.build(key_node, key_path)
            if not _hashable(key):
                self._error(key_node, "E105", "a mapping key must be a plain scalar")
                continue
            if key in first_seen:
                first = self.smap.mark(first_seen[key].start_mark)
                self._error(
                    key_node,
                    "E101",
                    f"duplicate key `{key}` (first defined at line {first.line})",
                    "each key may appear once in a mapping; remove or rename one",
                )
                continue
            first_seen[key] = key_node
            self.smap.keys[(*path, key)] = key_node.start_mark
            own[key] = self.build(value_node, (*path, key))
        # Merged in after the own keys are built, so that positions of values a key
        # overrides point at the override, not at the anchor it came from.
        merged: dict[Any, Any] = {}
        for value_node in merges:
            merged.update(self._merge_source(value_node, path))
        return {**merged, **own}

    def _merge_source(self, node: yaml.Node, path: Path_) -> dict[Any, Any]:
        """A ``<<:`` value: one mapping or a list of them; earlier ones win, as in YAML."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        result: dict[Any, Any] = {}
        for source in reversed(sources):
            value = self.build(source, path)
            if isinstance(value, dict):
                result.update(value)
            else:
                self._error(source, "E105", "`<<` must merge a mapping or a list of mappings")
        return result

    def _error(self, node: yaml.Node, code: str, message: str, hint: str | None = None) -> None:
        where = self.smap.mark(node.start_mark)
        self.diagnostics.append(Diagnostic.at(where, code, message, hint))


def _plain_problem(text: str) -> tuple[str, str, str, bool] | None:
    """What is wrong with a plain scalar, as (code, message, hint, fatal), if anything."""
    if found := ambiguity(text):
        return "E108", *found, False
    if "(" in text and (hint := tuple_syntax(text)):
        if text.rstrip().endswith(")"):
            return (
                "E226",
                f"`{text}` is Python tuple syntax; YAML reads it as a string",
                hint,
                False,
            )
        # split at commas inside `{}`/`[]`: what follows is garbage, so stop here
        message = "Python tuple syntax inside `{...}` or `[...]`: YAML splits it at commas"
        return "E226", message, hint, True
    return None


_TAG_HINT = "keraspec reads plain YAML only: strings, numbers, booleans, null, lists and mappings"


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None
