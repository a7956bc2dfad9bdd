"""Expansion of hostile or huge specs: bounded in time, memory and stack; every refusal located."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import keraspec
from keraspec.cli import ExitCode, main
from keraspec.expand import expand
from keraspec.expand.estimate import smallest_expansion
from keraspec.limits import Limits
from keraspec.loader import load_file
from spec_files import HEAD, spec

ROOT = Path(__file__).parent.parent
SPEC_FILES = [
    *sorted(ROOT.glob("specs/**/*.yaml")),
    *sorted(ROOT.glob("tests/cases/valid/*.yaml")),
    *sorted(ROOT.glob("docs/examples/*.yaml")),
]


def test_huge_repeat_stops_at_the_node_limit(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        "keraspec: 1\nname: big\nblocks:\n  b:\n    inputs: x\n"
        "    nodes: {d: {type: Dense, units: 1, inputs: x, repeat: 10000}}\n    outputs: d\n"
        "inputs: {x: {shape: [4]}}\nnodes: {u: {block: b, inputs: x, repeat: 10000}}\n"
        "outputs: u\n",
    )
    started = time.perf_counter()
    [d] = keraspec.validate(path)
    assert time.perf_counter() - started < 0.5  # estimated before expanding one node
    assert str(d) == (
        f"{path}:9:42: E513 the spec would expand to at least 100,000,000 nodes,"
        " more than the 100,000 allowed"
    )
    assert d.hint == "lower a `repeat` count, or raise the limit with --max-nodes"


def test_a_repeat_the_estimate_cannot_read_stops_while_expanding(tmp_path: Path) -> None:
    """`${n + 0}` could be anything before it is evaluated: the count while expanding stops it."""
    path = spec(
        tmp_path,
        "keraspec: 1\nname: big\nparams: {n: 10000}\nblocks:\n  b:\n    inputs: x\n"
        "    nodes: {d: {type: Dense, units: 1, inputs: x, repeat: '${n + 0}'}}\n"
        "    outputs: d\ninputs: {x: {shape: [4]}}\n"
        "nodes: {u: {block: b, inputs: x, repeat: '${n + 0}'}}\noutputs: u\n",
    )
    [d] = keraspec.validate(path)
    assert (d.code, d.message) == ("E513", "the spec expands to more than 100,000 nodes")


def test_the_node_limit_is_the_callers_to_set(tmp_path: Path) -> None:
    text = HEAD + "nodes:\n  d: {type: Dense, units: 1, inputs: x, repeat: 30}\noutputs: d\n"
    path = spec(tmp_path, text)
    assert keraspec.validate(path, limits=Limits(max_nodes=30)) == []
    [d] = keraspec.validate(path, limits=Limits(max_nodes=29))
    assert (d.code, d.line) == ("E513", 5)
    assert d.message == "the spec would expand to at least 30 nodes, more than the 29 allowed"


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_the_estimate_never_exceeds_the_expansion(path: Path) -> None:
    doc = load_file(path)
    estimate = smallest_expansion(doc.data, {})
    flat = expand(doc).data
    real = len(flat.get("nodes", {})) + sum(
        len(m["nodes"]) for m in flat.get("models", {}).values()
    )
    assert 0 < estimate.nodes <= real


def test_long_alias_chains_need_no_stack(tmp_path: Path) -> None:
    """2,000 identity blocks in a row and 1,500 dropped nodes in a row: resolved in a loop."""
    identity = (
        HEAD + "blocks: {ident: {inputs: x, nodes: {}, outputs: x}}\n"
        "nodes:\n  r: {block: ident, inputs: x, repeat: 2000}\n"
        "  out: {type: Dense, units: 1, inputs: r}\noutputs: out\n"
    )
    assert keraspec.load(spec(tmp_path, identity)).nodes["out"].inputs == "x"
    drops = [
        f"  d{i}: {{type: Dense, units: 1, inputs: d{i - 1}, when: false}}" for i in range(1, 1500)
    ]
    chain = "\n".join(
        [HEAD + "nodes:", "  d0: {type: Dense, units: 1, inputs: x, when: false}", *drops]
    )
    chain += "\n  out: {type: Dense, units: 1, inputs: d1499}\noutputs: out\n"
    assert keraspec.load(spec(tmp_path, chain, "drops.yaml")).nodes["out"].inputs == "x"


def test_blocks_nest_at_most_32_deep(tmp_path: Path) -> None:
    blocks = [
        f"  b{i}: {{inputs: x, nodes: {{n: {{block: b{i + 1}, inputs: x}}}}, outputs: n}}"
        for i in range(40)
    ]
    blocks.append("  b40: {inputs: x, nodes: {d: {type: Dense, units: 1, inputs: x}}, outputs: d}")
    text = (
        HEAD
        + "blocks:\n"
        + "\n".join(blocks)
        + "\nnodes: {r: {block: b0, inputs: x}}\noutputs: r\n"
    )
    [found] = keraspec.validate(spec(tmp_path, text))
    assert (found.code, found.line, found.message) == (
        "E514",
        36,
        "blocks nest more than 32 deep here",
    )
    assert len(found.notes) == 32


def test_string_doubling_params_stop_at_the_size_limit(tmp_path: Path) -> None:
    levels = [f'  s{i}: "${{s{i - 1}}}${{s{i - 1}}}"' for i in range(1, 41)]
    text = HEAD + "params:\n  s0: xxxxxxxxxxxxxxxx\n" + "\n".join(levels)
    text += "\nnodes: {out: {type: Dense, units: 1, inputs: x}}\noutputs: out\n"
    found = keraspec.validate(spec(tmp_path, text))
    assert found[0].message == "a string of 16,384 characters is longer than 10,000"
    assert {d.code for d in found} == {"E501"}


def test_empty_blocks_nested_and_repeated_stop_at_the_work_limit(tmp_path: Path) -> None:
    text = HEAD + (
        "blocks:\n  b0: {inputs: x, nodes: {}, outputs: x}\n"
        "  b1: {inputs: x, nodes: {r: {block: b0, inputs: x, repeat: 10000}}, outputs: r}\n"
        "  b2: {inputs: x, nodes: {r: {block: b1, inputs: x, repeat: 10000}}, outputs: r}\n"
        "nodes: {u: {block: b2, inputs: x}, out: {type: Dense, units: 1, inputs: u}}\n"
        "outputs: out\n"
    )
    [found] = keraspec.validate(spec(tmp_path, text))
    assert found.code == "E513"
    assert found.message == "expanding the spec takes more than 1,000,000 steps"


def test_a_large_shared_value_repeated_stops_at_the_work_limit(tmp_path: Path) -> None:
    text = HEAD + (
        "params:\n  a: &a [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"
        "  b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
        "  c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "nodes: {h: {type: Dense, units: 1, kernel_initializer: '${c}', inputs: x,"
        " repeat: 10000}}\noutputs: h\n"
    )
    assert [d.code for d in keraspec.validate(spec(tmp_path, text))] == ["E513"]


def test_outputs_that_double_at_each_level_stop_at_a_thousand_tensors(tmp_path: Path) -> None:
    levels = ["  n0: {block: pair, inputs: [x, x]}"]
    levels += [f"  n{k}: {{block: pair, inputs: [n{k - 1}, n{k - 1}]}}" for k in range(1, 30)]
    text = HEAD + "blocks: {pair: {inputs: [a, b], nodes: {}, outputs: [a, b]}}\nnodes:\n"
    text += "\n".join(levels) + "\n  out: {type: Concatenate, inputs: n29}\noutputs: out\n"
    found = keraspec.validate(spec(tmp_path, text))
    assert [d.code for d in found] == ["E506"]
    assert found[0].message == "`n9` stands for more than 1,000 tensors"


def test_indexed_outputs_chained_a_thousand_times_need_no_stack(tmp_path: Path) -> None:
    text = HEAD + (
        "blocks:\n  id2: {inputs: [a, b], nodes: {}, outputs: [a, b]}\n"
        "  step:\n    inputs: [a, b]\n    nodes:\n      p: {block: id2, inputs: [a, b]}\n"
        "      q: {block: id2, inputs: ['p[0]', 'p[1]']}\n    outputs: ['q[0]', 'q[1]']\n"
        "nodes:\n  s: {block: step, inputs: [x, x], repeat: 1000}\n"
        "  out: {type: Add, inputs: ['s[0]', 's[1]']}\noutputs: out\n"
    )
    assert keraspec.load(spec(tmp_path, text)).nodes["out"].inputs == ["x", "x"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[0x" + "f" * 40 + "]", "integer with 160 bits is too large"),
        ("[{type: Dense, units: 3, inputs: top}]", "the result is a mapping, not a number"),
    ],
)
def test_list_parameters_hold_only_plain_values(tmp_path: Path, value: str, message: str) -> None:
    text = (
        HEAD
        + f"params:\n  p: {value}\nnodes: {{h: {{type: Dense, units: '${{p[0]}}', inputs: x}}}}\n"
    )
    text += "outputs: h\n"
    [found] = keraspec.validate(spec(tmp_path, text))
    assert found.code == "E501" and message in found.message


def test_a_number_too_long_to_read_is_a_located_error(tmp_path: Path, capsys) -> None:
    text = HEAD + "nodes: {h: {type: Dense, units: " + "9" * 5000 + ", inputs: x}}\noutputs: h\n"
    path = spec(tmp_path, text)
    assert main(["validate", str(path)]) == ExitCode.INVALID
    out = capsys.readouterr().out
    assert "4:33: E100 invalid YAML: cannot read `99999999999999999999…` as a value" in out
    assert max(len(line) for line in out.splitlines()) < 260  # the echoed line is clipped


def test_echoed_source_lines_show_no_emoji(tmp_path: Path, capsys) -> None:
    text = HEAD + "nodes: {h: {type: Dnse, units: 1, inputs: x}}  # :x:\noutputs: h\n"
    assert main(["validate", str(spec(tmp_path, text))]) == ExitCode.INVALID
    assert "# :x:" in capsys.readouterr().out


@pytest.mark.parametrize("nodes", ["true", "[a, b]", "3"])
def test_block_nodes_that_are_not_a_mapping(tmp_path: Path, nodes: str) -> None:
    text = HEAD + f"blocks: {{b: {{inputs: x, nodes: {nodes}, outputs: x}}}}\n"
    text += "nodes: {u: {block: b, inputs: x}}\noutputs: u\n"
    found = keraspec.validate(spec(tmp_path, text))
    assert [(d.code, d.message) for d in found] == [("E511", "`nodes` must be a mapping")]


def test_a_flat_spec_is_held_to_the_node_limit(tmp_path: Path) -> None:
    nodes = "".join(f"  d{i}: {{type: Dense, units: 1, inputs: x}}\n" for i in range(40))
    path = spec(tmp_path, HEAD + "nodes:\n" + nodes + "outputs: [d0]\n")
    [d] = keraspec.validate(path, limits=Limits(max_nodes=30))
    assert (d.code, d.line, d.message) == ("E513", 35, "the spec has more than 30 nodes")


def test_a_block_parameter_is_not_read_as_the_top_level_one(tmp_path: Path) -> None:
    """`${n}` in a block is the block's own `n` (1 here), not the spec's (10,000)."""
    path = spec(
        tmp_path,
        "keraspec: 1\nname: m\nparams: {n: 10000}\nblocks:\n  b:\n    params: {n: 1}\n"
        "    inputs: x\n    nodes: {d: {type: Dense, units: 1, inputs: x, repeat: '${n}'}}\n"
        "    outputs: d\ninputs: {x: {shape: [4]}}\n"
        "nodes: {u: {block: b, with: {n: 1}, inputs: x, repeat: 20}}\noutputs: u\n",
    )
    assert keraspec.validate(path, limits=Limits(max_nodes=1000)) == []  # 20 nodes
