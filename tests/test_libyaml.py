"""libyaml reads a spec only where it reads it exactly as PyYAML's pure parser does.

``loader.compose`` uses libyaml when the text avoids the constructs the two parsers
are known to read differently, and the pure parser for everything else and for
every error. These tests compare the two paths on random YAML made of the
constructs specs use, and on mutations of it: the same node tree (tags, values,
quoting, positions, shared anchors), or the same error, and so the same verdict.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from keraspec import loader
from keraspec.diagnostics import SpecError
from keraspec.scalars import NestsTooDeep, SpecLoader

pytestmark = pytest.mark.skipif(loader.LibyamlComposer is None, reason="PyYAML without libyaml")

ROOT = Path(__file__).parent.parent
YAML_FILES = sorted(ROOT.glob("specs/**/*.yaml")) + sorted(ROOT.glob("tests/cases/**/*.yaml"))


def pure_compose(text: str) -> yaml.Node | None:
    return loader._single_node(SpecLoader(text))


def libyaml_compose(text: str) -> yaml.Node | None:
    return loader._single_node(loader.LibyamlComposer(text, max_depth=loader.MAX_DEPTH))


def tree(node: yaml.Node | None, ids: dict[int, int] | None = None) -> Any:
    """Everything the loader reads from a node tree, as plain data: tags, values,
    quoted or not, start positions, and which nodes are one node (anchors)."""
    ids = {} if ids is None else ids
    if node is None:
        return None
    if id(node) in ids:
        return ("alias", ids[id(node)])
    ids[id(node)] = len(ids)
    where = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.ScalarNode):
        return ("scalar", node.tag, node.value, node.style or None, where)
    if isinstance(node, yaml.SequenceNode):
        return ("seq", node.tag, where, [tree(item, ids) for item in node.value])
    pairs = [(tree(k, ids), tree(v, ids)) for k, v in node.value]
    return ("map", node.tag, where, pairs)


def outcome(compose: Any, text: str) -> tuple[str, Any]:
    try:
        return "tree", tree(compose(text))
    except yaml.YAMLError as e:
        return "error", (type(e).__name__, str(e))
    except (RecursionError, NestsTooDeep) as e:
        return "error", type(e).__name__


def loaded(text: str) -> tuple[str, Any]:
    """What load_text makes of a text: data, every position, and diagnostics."""
    try:
        doc = loader.load_text(text, "spec.yaml")
    except SpecError as e:
        return "error", [(d.code, d.line, d.column, d.message) for d in e.diagnostics]
    smap = doc.source
    positions = [
        sorted((repr(p), (at.line, at.column)) for p, at in _located(smap, table).items())
        for table in (smap.values, smap.keys)
    ]
    found = [(d.code, d.line, d.column, d.message) for d in doc.diagnostics]
    return "document", (repr(doc.data), positions, found)


def _located(smap: loader.SourceMap, table: dict) -> dict:
    return {path: smap.location(position) for path, position in table.items()}


# The constructs specs are written with, plus YAML's other indicators.
WORDS = [
    "x", "d0", "Dense", "relu", "inputs", "a[1]", "enc_2", "b-c", "${w * 2}", "$${x}",
    "1", "-3", "0.5", "1e-3", "1.0e+5", ".inf", "-.5", "0x1F", "0o17", "08", "0755",
    "1_000", "1:30", "null", "Null", "~", "true", "False", "yes", "no", "On", "y",
    "http://x.org/a", "a:b", "a#b", "a - b", "x y  z", "(3, 3)", "<<", "=", "-", "--",
    "a!", "50%", "x.yaml#blk", "2001-12-14", ":", "a:", "@x", "`x", "a\\b",
    "é", "1 → 2", "日本語", "🙂x", "a\u00a0b", "x\u3000y",
]  # fmt: skip
KEYS = ["a", "b", "type", "units", "inputs", "nodes", "x", "1", "no", "<<", "? k", "'q'"]
plain = st.sampled_from(WORDS)
single_quoted = st.text(alphabet="ab '\\\"#:[]{},-", max_size=6).map(
    lambda s: "'" + s.replace("'", "''") + "'"
)
ESCAPES = ["\\n", '\\"', "\\\\", "\\x41", "\\u00e9", "\\/", "\\t", "\\ ", "\\0", "\\e", "\\N"]
ESCAPES += ["\\ud83d", "\\U0001F642", "\\x85", "\\L", "\\_", "é", "🙂"]
double_quoted = st.lists(st.sampled_from([*ESCAPES, "a", " ", "#", ":", "'"]), max_size=5).map(
    lambda parts: '"' + "".join(parts) + '"'
)
scalar = plain | single_quoted | double_quoted
tag = st.sampled_from(["", "", "", "!!str ", "!!int ", "!!float ", "!!bool ", "!x ", "!!map "])
tag |= st.sampled_from(["!!str", "!x", "!<tag:x>", "!e!y "])  # ends at `,`, `]` or `}`?
anchor = st.sampled_from(["", "", "", "&a ", "&b ", "&c ", "&d "])
alias = st.sampled_from(["*a", "*b", "*c", "*d", "*e"])
comment = st.sampled_from(["", "", "", " # c", "  #c:d", " #", " # 784 → 64 🙂"])
space = st.sampled_from(["", " ", "  "])


def flow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    items = st.lists(inner, max_size=3)
    pairs = st.lists(st.tuples(st.sampled_from(KEYS) | inner, space, inner), max_size=3)
    return st.one_of(
        st.tuples(items, st.sampled_from(["", " ", "\n ", "\n"])).map(
            lambda t: "[" + ("," + t[1]).join(t[0]) + "]"
        ),
        pairs.map(lambda ps: "{" + ", ".join(f"{k}:{s or ' '}{v}" for k, s, v in ps) + "}"),
    )


# A value written inline: an alias, or a scalar or flow collection, maybe anchored and tagged.
inline = st.recursive(
    st.one_of(scalar, scalar, scalar, alias),  # mostly scalars: few aliases find an anchor
    lambda inner: st.one_of(
        alias, *[st.tuples(anchor, tag, scalar | flow(inner)).map("".join)] * 3
    ),
    max_leaves=6,
)
BLOCK_SCALAR_HEADS = ["|", ">", "|-", ">+", "|2", ">1-", "|+", "|#c", ">- # c", "|2-#"]


@st.composite
def block_scalar(draw: st.DrawFn, indent: int) -> str:
    head = draw(st.sampled_from(BLOCK_SCALAR_HEADS))
    first = draw(st.sampled_from(["text", "a: b", "# not a comment"]))
    rest = draw(st.lists(st.sampled_from(["text", " more", "", "   ", "a: b", "# no", "..."])))
    lines = [first, *rest] if draw(st.integers(0, 4)) else rest
    body = "".join(f"\n{' ' * (indent + 2)}{line}" if line else "\n" for line in lines)
    return head + body


@st.composite
def block(draw: st.DrawFn, indent: int = 0, depth: int = 0) -> str:
    """A block mapping or sequence at ``indent``, nesting at most three levels."""
    pad = " " * indent
    sequence = draw(st.booleans()) and depth > 0
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        lead = f"{pad}- " if sequence else f"{pad}{draw(st.sampled_from(KEYS))}:"
        kind = draw(st.sampled_from(["inline", "inline", "block", "scalar", "empty"]))
        if kind == "block" and depth < 3:
            step = draw(st.sampled_from([0, 2, 4])) if not sequence else 2
            nested = draw(block(indent + step, depth + 1))
            lines.append(f"{lead}{draw(comment)}\n{nested}")
        elif kind == "scalar":
            lines.append(f"{lead} {draw(block_scalar(indent))}")
        elif kind == "empty":
            lines.append(lead + draw(comment))
        else:
            lines.append(f"{lead} {draw(inline)}{draw(comment)}")
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from(["", "# note", pad + "# note", "  "])))
    return "\n".join(lines)


STARTS = ["", "", "---\n", "--- # c\n", "%YAML 1.1\n---\n", "%TAG !e! tag:e,2000:\n---\n"]
documents = st.tuples(
    st.sampled_from(STARTS),
    block(),
    st.sampled_from(["\n", "\n", "", "\n...\n", "\n\n", "\n\n", "\n---\nb: 1\n"]),
).map("".join)
MUTANTS = " :-,[]{}#&*!|>'\"%@`?\n\t\\.0a\r\ufeff\x85\u2028\x7f\x00é→🙂\u00a0"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(documents)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 2))
        text = text[:at] + draw(st.text(alphabet=MUTANTS, max_size=2)) + text[at + cut :]
    return text


# A few hundred examples per run; KERASPEC_LIBYAML_EXAMPLES=20000 for a long search.
EXAMPLES = int(os.environ.get("KERASPEC_LIBYAML_EXAMPLES", "200"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(documents | mutated())
@example("a: [b?c]\n")  # libyaml reads a plain scalar, PyYAML an error (yaml/pyyaml#128)
@example("a: {b: 1,\tc: 2}\n")  # libyaml accepts a tab here, PyYAML does not
@example("a: &x [*x]\n")  # an alias inside its own anchor: one node, twice
@example("a: [!!str, b]\n")  # libyaml ends the tag at the comma, PyYAML does not
@example("a: >#c\nb: 1\n")  # libyaml reads a comment after `>`, PyYAML an error
@example("a: {b: }\n")  # an empty value: after the `:` for PyYAML, at `}` for libyaml
@example("--- # a")  # an empty document: where it ends, or on the next line
@example("\ufeffa: 1\n")  # after a BOM, libyaml's columns start again at 0
def test_compose_reads_every_text_as_the_pure_parser(text: str) -> None:
    assert outcome(loader.compose, text) == outcome(pure_compose, text)


data = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=10,
)


@SETTINGS
@given(data, st.sampled_from([None, True, False]), st.sampled_from([None, "'", '"', "|", ">"]))
def test_dumped_data_reads_alike(value: Any, flow: bool | None, style: str | None) -> None:
    """What PyYAML writes: long scalars folded over lines, escapes, every quoting style."""
    options = {"default_flow_style": flow, "default_style": style, "allow_unicode": True}
    text = yaml.safe_dump({"a": value}, width=20, **options)
    assert outcome(loader.compose, text) == outcome(pure_compose, text)
    if not loader._LIBYAML_DIFFERS.search(text) and outcome(libyaml_compose, text)[0] == "tree":
        assert outcome(libyaml_compose, text) == outcome(pure_compose, text)


@SETTINGS
@given(documents | mutated())
def test_where_libyaml_is_used_it_accepts_only_what_the_pure_parser_accepts(text: str) -> None:
    """Stronger than the test above: libyaml itself, not the fallback, agrees."""
    if loader._LIBYAML_DIFFERS.search(text):
        return
    fast = outcome(libyaml_compose, text)
    if fast[0] == "tree" and fast[1] and fast[1][0] != "scalar":  # compose rereads scalars
        assert fast == outcome(pure_compose, text)


@pytest.mark.parametrize("depth", [10, 63, 64, 65, 200, 400, 900])
def test_deep_documents_get_the_pure_parsers_verdict(depth: int) -> None:
    text = "a: " + "[" * depth + "]" * depth + "\n"
    fast = loaded(text)
    without = _pure_only(loaded, text)
    assert fast == without


@SETTINGS
@given(documents | mutated())
def test_load_text_gives_the_same_data_positions_and_diagnostics(text: str) -> None:
    assert loaded(text) == _pure_only(loaded, text)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_in_the_repository_reads_alike(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert outcome(loader.compose, text) == outcome(pure_compose, text)
    if not loader._LIBYAML_DIFFERS.search(text):
        fast = outcome(libyaml_compose, text)
        assert fast[0] == "error" or fast == outcome(pure_compose, text)


def test_generated_specs_take_the_libyaml_path() -> None:
    text = "".join(f"  d{i}: {{type: Dense, units: 8, inputs: d{i - 1}}}\n" for i in range(99))
    assert not loader._LIBYAML_DIFFERS.search("nodes:\n" + text)


def _pure_only(action: Any, text: str) -> Any:
    saved = loader.LibyamlComposer
    loader.LibyamlComposer = None
    try:
        return action(text)
    finally:
        loader.LibyamlComposer = saved
