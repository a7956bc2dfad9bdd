"""``keraspec fmt``: a spec rewritten in one canonical layout, its comments kept.

The text is read by PyYAML's pure parser, the loader's reference, twice: as events
(the tree: keys, values, anchors, quoting) and as tokens. Whatever lies between two
tokens is white space or a comment, so every comment is found exactly. Each one is
attached to the entry it belongs to (above it, or at the end of its line) and moves
with that entry when keys are put in order. The layout is then written afresh:

- top-level keys in the order of ``TOP_LEVEL``, a node's keys as ``node_rank`` says;
  what users name (nodes, inputs, layers, models, blocks, params) keeps its order;
- 2-space indentation; sections (``nodes:``, ``inputs:`` ...) in block style; any
  other mapping or list on one line in flow style when it fits in ``WIDTH`` columns
  and holds no comment, in block style otherwise;
- scalars exactly as written (quotes, number spellings, ``${...}``), except a plain
  string that flow style would misread (``enc[1]`` inside ``[...]``) or that spans
  lines, which is double-quoted, and an empty value, written ``null``;
- one blank line where the author left one or more, none at the start of a block;
  an end-of-line comment keeps its column when the line leaves room for it.

Meaning never changes: ``format_text`` reads its result back with the loader and
raises ``FormatError`` (a bug in keraspec) if the data differs or if formatting the
result again would change it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .diagnostics import SpecError
from .limits import DEFAULT, Limits
from .loader import load_file, load_text
from .scalars import SpecLoader, same_value
from .schema import SPEC_KEY_ORDER

WIDTH = 100
INDENT = "  "

# The schema's order (schema.SPEC_KEY_ORDER) with the composition sections: `params`
# first, as everything may use them, then `blocks`, before the graph that uses them;
# the training sections after `compile`. Unknown keys follow, in their order.
_AFTER_DESCRIPTION = SPEC_KEY_ORDER.index("description") + 1
TOP_LEVEL = (
    *SPEC_KEY_ORDER[:_AFTER_DESCRIPTION],
    "params",
    "blocks",
    *SPEC_KEY_ORDER[_AFTER_DESCRIPTION:],
)
GRAPH_KEYS = ("params", "inputs", "nodes", "outputs")  # a sub-model's or a block's
COMPILE_KEYS = ("optimizer", "loss", "loss_weights", "metrics", "run_eagerly", "jit_compile")
NODE_KINDS = ("type", "layer", "model", "op", "block", "use")
# After a node's kind and arguments (in their order): how it is wired and expanded.
NODE_WIRING = ("with", "inputs", "call", "repeat", "prefix", "when")

BLANK = ""  # a blank line, among the comment lines kept with an entry
_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_FLOW_INDICATORS = frozenset(",?[]{}")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}
_PRINTABLE = re.compile(
    "[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_YAML_TAG = "tag:yaml.org,2002:"


class FormatError(Exception):
    """Formatting would change what the spec means, or is unstable: a bug in keraspec."""


# --- The tree -------------------------------------------------------------------


@dataclass(eq=False)
class Scalar:
    text: str  # as it is written: one line, or a block scalar's header line
    value: str  # the parser's value (before resolving: `1` is "1")
    plain: bool
    block_lines: list[str] | None = None  # a block scalar's content, as in the source
    origin: int = 0  # a block scalar's entry's column in the source (its lines move with it)
    anchor: str | None = None
    tag: str | None = None


@dataclass(eq=False)
class Alias:
    target: Node


@dataclass(eq=False)
class Collection:
    is_map: bool
    entries: list[Entry] = field(default_factory=list)
    anchor: str | None = None
    tag: str | None = None
    flow: bool = False  # written in flow style in the source
    column: int = 0  # where its entries start in the source (in a block list, the `-`)
    trailing: list[str] = field(default_factory=list)  # comment lines after the last entry
    parent: Entry | None = None


@dataclass(eq=False)
class Entry:
    key: Node | None  # None in a list
    value: Node
    parent: Collection
    line: int  # where the entry starts in the source: its key, or its `-`
    column: int
    value_end: int = 0  # the text index where its value ends
    leading: list[str] = field(default_factory=list)  # comment lines and BLANKs above it
    eol: tuple[str, int] | None = None  # the comment ending its line, and that column


Node = Scalar | Alias | Collection


@dataclass
class Document:
    root: Collection
    header: list[str] = field(default_factory=list)  # comment lines above the first key


def key_of(entry: Entry) -> Any:
    """A mapping entry's key as a string (for ordering), or None."""
    key = entry.key.target if isinstance(entry.key, Alias) else entry.key
    return key.value if isinstance(key, Scalar) else None


def is_block_scalar(node: Node) -> bool:
    return isinstance(node, Scalar) and node.block_lines is not None


# --- Reading --------------------------------------------------------------------


class _Source:
    """A text's lines, and the line and column of a text index (YAML's line breaks)."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in _BREAK.finditer(text)]
        self.lines = _BREAK.split(text)

    def line(self, index: int) -> int:
        return bisect_right(self.starts, index) - 1

    def column(self, index: int) -> int:
        return index - self.starts[self.line(index)]


class _TreeReader:
    """The tree, from PyYAML's events; token positions locate entries and scalars' text."""

    def __init__(self, source: _Source, tokens: list[yaml.Token]):
        self.source = source
        self.scalar_start = {
            t.end_mark.index: t.start_mark.index for t in tokens if isinstance(t, yaml.ScalarToken)
        }
        self.dashes = [t.start_mark.index for t in tokens if isinstance(t, yaml.BlockEntryToken)]
        self.events: Iterator[yaml.Event] = iter(yaml.parse(source.text, Loader=SpecLoader))
        self.anchors: dict[str, Node] = {}
        self.entries: list[Entry] = []  # in document order, parents before children
        self.end = 0  # where the last node read ends

    def root(self) -> Collection:
        for event in self.events:
            if isinstance(event, yaml.MappingStartEvent):
                return self.collection(event)
        raise AssertionError("the loader accepted a document that is not a mapping")

    def node(self, event: yaml.Event) -> Node:
        self.end = event.end_mark.index
        if isinstance(event, yaml.AliasEvent):
            return Alias(self.anchors[event.anchor])
        if isinstance(event, yaml.ScalarEvent):
            node: Node = self.scalar(event)
        else:
            node = self.collection(event)
        if event.anchor:
            self.anchors[event.anchor] = node
        return node

    def scalar(self, event: yaml.ScalarEvent) -> Scalar:
        plain = not event.style
        if plain and not event.value:  # `key:` with nothing after it: no token at all
            text = '""' if event.tag else "null"  # `!!str` alone is the empty string
            return Scalar(text, "", plain, anchor=event.anchor, tag=event.tag)
        start = self.scalar_start[event.end_mark.index]
        text = self.source.text[start : event.end_mark.index]
        scalar = Scalar(text, event.value, plain, anchor=event.anchor, tag=event.tag)
        if event.style in ("|", ">"):
            first, last = self.source.line(start), self.source.line(event.end_mark.index)
            if self.source.column(event.end_mark.index) == 0:
                last -= 1  # the token ends with its last line break
            scalar.text = self.source.lines[first][self.source.column(start) :].rstrip()
            scalar.block_lines = self.source.lines[first + 1 : last + 1]
        elif _BREAK.search(text):
            scalar.text = quoted(event.value)  # on one line, where indentation cannot matter
        return scalar

    def collection(self, start: yaml.Event) -> Collection:
        is_map = isinstance(start, yaml.MappingStartEvent)
        flow = bool(start.flow_style)
        collection = Collection(is_map, anchor=start.anchor, tag=start.tag, flow=flow)
        for event in self.events:
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                self.end = event.end_mark.index
                break
            self.entry(collection, event, flow)
        if collection.entries:
            collection.column = collection.entries[0].column
        return collection

    def entry(self, parent: Collection, event: yaml.Event, flow: bool) -> None:
        at = event.start_mark.index
        if not parent.is_map and not flow:  # a block list's entry starts at its `-`
            at = self.dashes[bisect_left(self.dashes, at + 1) - 1]
        entry = Entry(None, None, parent, self.source.line(at), self.source.column(at))
        self.entries.append(entry)
        parent.entries.append(entry)
        if parent.is_map:
            entry.key = self.node(event)
            if is_block_scalar(entry.key):  # `? |` keys: written on one line
                key = entry.key
                entry.key = Scalar(quoted(key.value), key.value, False, None, key.anchor, key.tag)
            event = next(self.events)
        entry.value = self.node(event)
        entry.value_end = self.end
        if is_block_scalar(entry.value):
            entry.value.origin = entry.column
        if isinstance(entry.value, Collection):
            entry.value.parent = entry


def quoted(value: str) -> str:
    """``value`` as a double-quoted YAML scalar on one line."""
    chars = (_ESCAPES.get(c) or (c if _PRINTABLE.match(c) else _escape(c)) for c in value)
    return '"' + "".join(chars) + '"'


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


# --- Comments -------------------------------------------------------------------


@dataclass
class _Comment:
    text: str
    line: int
    column: int
    after: int  # index where the token before it ends (`,` skipped)
    eol: bool


class _CommentPlacer:
    """Attaches each comment, and each run of blank lines, to an entry or a collection."""

    def __init__(self, source: _Source, tokens: list[yaml.Token], reader: _TreeReader):
        self.source = source
        self.tokens = tokens
        self.entries = reader.entries
        self.starts = [(e.line, i) for i, e in enumerate(self.entries)]
        self.ending: dict[int, Entry] = {}  # the outermost entry whose value ends there
        for entry in reversed(self.entries):
            if not _block_collection(entry.value):
                self.ending[entry.value_end] = entry

    def place(self, document: Document) -> None:
        for gap, after in self.gaps():
            blank = False
            for item in self.items(gap, after):
                if item is None:
                    blank = True
                    continue
                owner = self.eol_entry(item) if item.eol else None
                if owner is not None:
                    owner.eol = (item.text, item.column)
                    continue
                target = self.lines_for(item, document)
                if blank:
                    target.append(BLANK)
                target.append(item.text)
                blank = False
            if blank:  # blank lines right before the next entry (or after the header)
                end = self.source.line(gap[1])
                following = self.next_entry(end - 1)
                if self.previous_entry(end) is None:
                    document.header.append(BLANK)
                elif following is not None:
                    following.leading.append(BLANK)

    def gaps(self) -> Iterator[tuple[tuple[int, int], int]]:
        """Stretches of text between tokens, with where the last real token before ends."""
        reached, after = 0, 0
        for token in self.tokens:
            start, end = token.start_mark.index, token.end_mark.index
            if start > reached:
                yield (reached, start), after
            if end > start and not isinstance(token, yaml.FlowEntryToken):
                after = end
            reached = max(reached, end)

    def items(self, gap: tuple[int, int], after: int) -> Iterator[_Comment | None]:
        """The gap's comments, and None for each blank line in it."""
        text = self.source.text
        first = self.source.line(gap[0])
        for line in range(first, self.source.line(gap[1]) + 1):
            begin = max(gap[0], self.source.starts[line])
            end = min(gap[1], self.source.starts[line] + len(self.source.lines[line]))
            piece = text[begin:end].strip(" \t\ufeff")
            if piece.startswith("#"):
                at = text.index("#", begin)
                eol = bool(text[self.source.starts[line] : at].strip(" \t\ufeff"))
                yield _Comment(piece.rstrip(), line, self.source.column(at), after, eol)
            elif not piece and self.whole_line(line, gap):
                yield None

    def whole_line(self, line: int, gap: tuple[int, int]) -> bool:
        start = self.source.starts[line]
        return gap[0] <= start and start + len(self.source.lines[line]) <= gap[1]

    def eol_entry(self, comment: _Comment) -> Entry | None:
        """The entry an end-of-line comment belongs to: the outermost one ending right
        before it (a block mapping or list ends later), else the one it sits inside."""
        if comment.after in self.ending:
            return self.ending[comment.after]
        inside = [
            e
            for e in self.entries
            if self.source.starts[e.line] + e.column <= comment.after < e.value_end
        ]
        return inside[-1] if inside else None

    def next_entry(self, line: int) -> Entry | None:
        """The first entry starting after ``line`` (the outermost, when several do)."""
        i = bisect_right(self.starts, (line, len(self.entries)))
        return self.entries[self.starts[i][1]] if i < len(self.starts) else None

    def previous_entry(self, line: int) -> Entry | None:
        i = bisect_left(self.starts, (line, -1))
        return self.entries[self.starts[i - 1][1]] if i > 0 else None

    def lines_for(self, comment: _Comment, document: Document) -> list[str]:
        """Where a full-line comment goes: above the entry after it, unless it is indented
        deeper than that entry and ends an enclosing block instead."""
        following = self.next_entry(comment.line)
        before = self.previous_entry(comment.line)
        if before is None:
            return document.header
        if following is not None and comment.column <= following.column:
            return following.leading
        collection: Collection | None = before.parent
        while collection is not None:
            if collection.column <= comment.column:
                if following is not None and _contains(collection, following):
                    return following.leading
                return collection.trailing
            collection = collection.parent.parent if collection.parent else None
        return following.leading if following is not None else document.root.trailing


def _block_collection(node: Node) -> bool:
    return isinstance(node, Collection) and not node.flow


def _contains(collection: Collection, entry: Entry) -> bool:
    parent: Collection | None = entry.parent
    while parent is not None:
        if parent is collection:
            return True
        parent = parent.parent.parent if parent.parent else None
    return False


# --- Canonical order --------------------------------------------------------------

# What each mapping holds, by where it is; a section is always written in block style.
_ROOT_CHILDREN = {
    "params": "values",
    "blocks": "graphs",
    "inputs": "values",
    "layers": "values",
    "models": "graphs",
    "nodes": "nodes",
    "compile": "compile",
}
_ROOT_VALUES = ("keraspec", "name", "description", "outputs")
_GRAPH_CHILDREN = {"inputs": "values", "nodes": "nodes"}
_SECTION_ENTRIES = {"values": "value", "graphs": "graph", "nodes": "node"}


def _root_child(key: Any) -> str:
    """Top-level mappings are sections (`fit`, unknown ones too), except `outputs`."""
    return _ROOT_CHILDREN.get(key) or ("value" if key in _ROOT_VALUES else "values")


def _rank_by(order: tuple[str, ...]) -> Callable[[Any], int]:
    return lambda key: order.index(key) if key in order else len(order)


def node_rank(keys: list[Any]) -> Callable[[Any], int]:
    """A node's keys: what it calls first, then its arguments, then its wiring."""
    kind = "type" if "type" in keys else next((k for k in NODE_KINDS if k in keys), None)
    return lambda key: 0 if key == kind else 2 + NODE_WIRING.index(key) if key in NODE_WIRING else 1


class _Arranger:
    """Puts keys in canonical order and marks sections, by where each mapping is."""

    def __init__(self) -> None:
        self.sections: set[int] = set()
        self.seen: set[int] = set()

    def arrange(self, node: Node, role: str) -> None:
        node = node.target if isinstance(node, Alias) else node
        if not isinstance(node, Collection) or id(node) in self.seen:
            return
        self.seen.add(id(node))
        if not node.is_map:
            for entry in node.entries:
                self.arrange(entry.value, "value")
            return
        keys = [key_of(e) for e in node.entries]
        role = "value" if role == "graph" and not set(keys) & set(GRAPH_KEYS) else role
        rank, children = self.plan(role, keys)
        if role not in ("value", "node"):
            self.sections.add(id(node))
        node.entries.sort(key=lambda e: rank(key_of(e)))  # stable: ties keep their order
        for entry in node.entries:
            self.arrange(entry.value, children(key_of(entry)))

    def plan(self, role: str, keys: list[Any]) -> tuple[Callable[[Any], int], Callable[[Any], str]]:
        """How a mapping's keys are ordered, and what each of its values is."""
        keep = _rank_by(())
        if role == "root":
            return _rank_by(TOP_LEVEL), _root_child
        if role == "graph":
            return _rank_by(GRAPH_KEYS), lambda k: _GRAPH_CHILDREN.get(k, "value")
        if role == "compile":
            return _rank_by(COMPILE_KEYS), lambda k: "value"
        if role in _SECTION_ENTRIES:
            return keep, lambda k: _SECTION_ENTRIES[role]
        if role == "node":
            return node_rank(keys), lambda k: "value"
        return (_rank_by(("type",)) if "type" in keys else keep), lambda k: "value"


# --- Writing --------------------------------------------------------------------


class _Writer:
    """Writes the arranged tree, block or flow style decided entry by entry."""

    def __init__(self, sections: set[int]):
        self.sections = sections
        self.out: list[str] = []
        self.done: set[int] = set()  # anchored nodes written: later uses are aliases

    def document(self, document: Document) -> str:
        root = document.root
        self.comments(document.header, "", opens=True)  # a blank line after it stays
        props = self.props(root)
        if props:
            self.out.append(props.rstrip())
        if root.entries:
            self.block(root, "")
        else:
            self.out.append("{}")
        return "\n".join(self.out) + "\n"

    def block(self, collection: Collection, indent: str) -> None:
        for i, entry in enumerate(collection.entries):
            self.comments(entry.leading, indent, opens=i == 0)
            self.entry(entry, indent)
        self.comments(collection.trailing, indent, closes=True)

    def comments(
        self, lines: list[str], indent: str, opens: bool = False, closes: bool = False
    ) -> None:
        """Comment lines; a run of blank lines becomes one, and none opens or closes a block."""
        kept: list[str] = []
        for line in lines:
            if line == BLANK and (kept[-1:] == [BLANK] or (opens and not kept)):
                continue
            kept.append(line)
        if closes and kept[-1:] == [BLANK]:
            kept.pop()
        self.out += [indent + line if line else "" for line in kept]

    def entry(self, entry: Entry, indent: str) -> None:
        head = indent + ("-" if entry.key is None else self.key(entry.key) + ":")
        value = self.resolve(entry.value)
        start = len(self.out)
        if self.aliased(value):
            self.out.append(f"{head} *{value.anchor}")
        elif isinstance(value, Collection):
            self.collection_entry(entry, value, head, indent)
        elif is_block_scalar(value):
            self.out.append(f"{head} {self.props(value)}{value.text}")
            self.mark_done(value)
            shift = len(indent) - value.origin
            self.out += [_shifted(line, shift) for line in value.block_lines or []]
        else:
            self.out.append(f"{head} {self.inline(entry.value, self.done)}")
        if entry.eol is not None:
            line = self.out[start]
            text, column = entry.eol
            self.out[start] = line + " " * max(2, column - len(line)) + text

    def collection_entry(self, entry: Entry, value: Collection, head: str, indent: str) -> None:
        if value.entries and id(value) not in self.sections:
            done = set(self.done)
            text = self.inline(value, done)
            if text is not None and len(head) + 1 + len(text) <= WIDTH:
                self.done = done
                self.out.append(f"{head} {text}")
                return
        if not value.entries:
            self.out.append(f"{head} {self.inline(value, self.done)}")
            return
        props = self.props(value)
        self.mark_done(value)
        inner = indent + INDENT
        compact = entry.key is None and not props and entry.eol is None
        if not compact:
            self.out.append(f"{head} {props}".rstrip())
            self.block(value, inner)
            return
        first = value.entries[0]  # `- key: value`: the first entry shares the `-` line
        self.comments([line for line in first.leading if line != BLANK], indent, opens=True)
        first.leading = []
        start = len(self.out)
        self.block(value, inner)
        self.out[start] = indent + "- " + self.out[start][len(inner) :]

    def key(self, node: Node) -> str:
        text = self.inline(node, self.done)
        assert text is not None, "keys are scalars: the loader refuses other keys"
        return text

    def inline(self, node: Node, done: set[int], in_flow: bool = False) -> str | None:
        """``node`` on one line (flow style for collections), or None if it cannot be."""
        node = self.resolve(node)
        if node.anchor and id(node) in done:
            return "*" + node.anchor
        if node.anchor:
            done.add(id(node))
        props = self.props(node)
        if isinstance(node, Scalar):
            if node.block_lines is not None:
                return None
            unsafe = in_flow and node.plain and _misread_in_flow(node.text)
            return props + (quoted(node.value) if unsafe else node.text)
        if (id(node) in self.sections and node.entries) or _has_comments(node):
            return None
        parts = []
        for entry in node.entries:
            key = self.inline(entry.key, done, in_flow=True) if node.is_map else None
            value = self.inline(entry.value, done, in_flow=True)
            if value is None or (node.is_map and key is None):
                return None
            parts.append(f"{key}: {value}" if node.is_map else value)
        body = ", ".join(parts)
        return props + ("{" + body + "}" if node.is_map else "[" + body + "]")

    def resolve(self, node: Node) -> Scalar | Collection:
        return node.target if isinstance(node, Alias) else node  # type: ignore[return-value]

    def aliased(self, node: Scalar | Collection) -> bool:
        return bool(node.anchor) and id(node) in self.done

    def mark_done(self, node: Scalar | Collection) -> None:
        if node.anchor:
            self.done.add(id(node))

    def props(self, node: Scalar | Collection) -> str:
        """The anchor and tag written before a node, with a space after each."""
        anchor = f"&{node.anchor} " if node.anchor else ""
        if node.tag is None:
            return anchor
        if node.tag == "!":
            return anchor + "! "
        if node.tag.startswith(_YAML_TAG):
            return f"{anchor}!!{node.tag[len(_YAML_TAG) :]} "
        return f"{anchor}!<{node.tag}> "


def _misread_in_flow(plain: str) -> bool:
    """Whether a plain scalar, read right in block style, would not be inside `{}`/`[]`."""
    return plain.startswith(":") or not _FLOW_INDICATORS.isdisjoint(plain)


def _has_comments(collection: Collection) -> bool:
    if any(line != BLANK for line in collection.trailing):
        return True
    return any(e.eol or any(line != BLANK for line in e.leading) for e in collection.entries)


def _shifted(line: str, shift: int) -> str:
    """A block scalar's line moved right (or left) with the entry it belongs to."""
    if not line:
        return line
    if shift >= 0:
        return " " * shift + line
    return line[min(-shift, len(line) - len(line.lstrip(" "))) :]


# --- The command's core ---------------------------------------------------------


def format_file(path: Path, limits: Limits = DEFAULT) -> tuple[str, str]:
    """The text at ``path`` and its canonical layout.

    Raises the loader's SpecError (what ``validate`` reports) when the file cannot be
    read or is not a YAML mapping; a spec that is otherwise invalid is formatted.
    """
    document = load_file(path, limits)
    text = document.source.text
    return text, checked_layout(text, document.data, str(path), limits)


def format_text(text: str, source: str = "<string>") -> str:
    """``text`` in the canonical layout (SpecError as for ``format_file``)."""
    return checked_layout(text, load_text(text, source).data, source)


def checked_layout(text: str, data: Any, source: str, limits: Limits = DEFAULT) -> str:
    """The layout of ``text``, which loads as ``data``, after checking, as Black does,
    that it loads as the same data and that formatting it again changes nothing."""
    formatted = layout(text)
    try:
        again = load_text(formatted, source, limits).data
    except SpecError as e:
        raise FormatError(f"{source}: the formatted text does not load: {e}") from e
    if not same_value(data, again):
        raise FormatError(f"{source}: the formatted text would mean something else")
    if layout(formatted) != formatted:
        raise FormatError(f"{source}: the layout is not stable (a second pass changes it)")
    return formatted


def layout(text: str) -> str:
    """The canonical layout of a text the loader accepts."""
    source = _Source(text)
    tokens = list(yaml.scan(text, Loader=SpecLoader))
    reader = _TreeReader(source, tokens)
    document = Document(reader.root())
    _CommentPlacer(source, tokens, reader).place(document)
    arranger = _Arranger()
    arranger.arrange(document.root, "root")
    return _Writer(arranger.sections).document(document)
