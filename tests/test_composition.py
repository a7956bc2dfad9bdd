"""Composition: params, `${...}`, repeat, blocks, `when`, names, and `keraspec expand`.

Expansion results are golden files (tests/cases/expand/ → expected/); errors in
expanded content are checked with their use-site notes. Includes are in
test_includes.py, limits on hostile specs in test_expansion_limits.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keraspec
from keraspec.cli import ExitCode, main
from spec_files import HEAD, codes, spec
from update_golden import describe, expanded

CASES = Path(__file__).parent / "cases"
EXPAND = sorted((CASES / "expand").glob("*.yaml"))


@pytest.mark.parametrize("path", EXPAND, ids=lambda p: p.stem)
def test_expansion_matches_golden_file(path: Path) -> None:
    assert keraspec.dumps(keraspec.load(path)) == expanded(path).read_text(encoding="utf-8")


@pytest.mark.parametrize("path", EXPAND, ids=lambda p: p.stem)
def test_expanded_spec_loads_again_as_itself(path: Path) -> None:
    flat = keraspec.load(path)
    assert keraspec.loads(keraspec.dumps(flat)) == flat


def test_expansion_is_deterministic() -> None:
    path = CASES / "expand" / "blocks_nested.yaml"
    assert len({keraspec.dumps(keraspec.load(path)) for _ in range(3)}) == 1


MLP = """\
keraspec: 1
name: mlp
params: {width: 64, depth: 2, rate: 0.5, act: relu, sizes: [1, 2]}
inputs:
  x: {shape: [8]}
nodes:
  h: {type: Dense, units: "${width}", activation: "${act}", inputs: x, repeat: "${depth}"}
  d: {type: Dropout, rate: "${rate}", inputs: h}
outputs: d
"""


def test_params_keep_their_types(tmp_path: Path) -> None:
    loaded = keraspec.load(spec(tmp_path, MLP))
    assert loaded.nodes["h_1"].args == {"units": 64, "activation": "relu"}
    assert loaded.nodes["d"].args == {"rate": 0.5}


def test_api_params_override_defaults(tmp_path: Path) -> None:
    loaded = keraspec.load(spec(tmp_path, MLP), params={"width": 128, "depth": 3})
    assert list(loaded.nodes) == ["h_1", "h_2", "h_3", "d"]
    assert {n.args["units"] for k, n in loaded.nodes.items() if k != "d"} == {128}


def test_loads_takes_params_too() -> None:
    loaded = keraspec.loads(MLP, params={"depth": 1})
    assert list(loaded.nodes) == ["h_1", "d"]


def test_unknown_api_param_is_a_located_error(tmp_path: Path) -> None:
    path = spec(tmp_path, MLP)
    assert [describe(d) for d in keraspec.validate(path, params={"widht": 1})] == [
        "3:1 E500 `widht` is set but the spec has no parameter `widht`"
        " | hint: did you mean `width`?"
    ]


def test_cli_set_changes_the_architecture(tmp_path: Path, capsys) -> None:
    path = spec(tmp_path, MLP)
    code = main(["expand", str(path), "--set", "depth=3", "--set", "act=tanh"])
    out = capsys.readouterr().out
    assert code == ExitCode.OK
    flat = keraspec.loads(out)
    assert list(flat.nodes) == ["h_1", "h_2", "h_3", "d"]
    assert flat.nodes["h_3"].args == {"units": 64, "activation": "tanh"}


def test_cli_set_values_are_yaml(tmp_path: Path, capsys) -> None:
    path = spec(tmp_path, MLP.replace('units: "${width}"', 'units: "${sizes[1] * width}"'))
    assert main(["expand", str(path), "--set", "sizes=[3, 4]", "--set", "width=2"]) == 0
    assert keraspec.loads(capsys.readouterr().out).nodes["h_1"].args["units"] == 8


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("depth", "Invalid value for --set: `depth`: write NAME=VALUE"),
        ("=3", "Invalid value for --set: `=3`: write NAME=VALUE"),
        ("depth=[1", "Invalid value for --set: `depth=[1`: invalid YAML: expected ',' or ']'"),
    ],
)
def test_cli_bad_set_is_a_usage_error(tmp_path: Path, capsys, option: str, message: str) -> None:
    assert main(["validate", str(spec(tmp_path, MLP)), "--set", option]) == ExitCode.USAGE
    assert message in capsys.readouterr().err


def test_cli_unknown_set_name_is_invalid_not_usage(tmp_path: Path, capsys) -> None:
    assert main(["validate", str(spec(tmp_path, MLP)), "--set", "dept=1"]) == ExitCode.INVALID
    out = capsys.readouterr().out
    assert "E500 `dept` is set but the spec has no parameter `dept`" in out
    assert "hint: did you mean `depth`?" in out


def test_cli_expand_of_an_invalid_spec_exits_1_and_prints_nothing(tmp_path: Path, capsys) -> None:
    path = spec(tmp_path, MLP.replace("${width}", "${widht}"))
    assert main(["expand", str(path)]) == ExitCode.INVALID
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "E500 unknown parameter `widht`" in captured.err


def test_error_inside_a_block_names_the_definition_and_the_use(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        """\
keraspec: 1
name: located
blocks:
  unit:
    params: {n: required}
    inputs: x
    nodes:
      d: {type: Dense, unitz: "${n}", units: 2, inputs: x}
    outputs: d
inputs:
  x: {shape: [4]}
nodes:
  first: {block: unit, with: {n: 1}, inputs: x}
  again: {block: unit, with: {n: 2}, inputs: first, repeat: 2}
outputs: again
""",
    )
    [found] = keraspec.validate(path)
    assert describe(found) == (
        "8:24 E211 node `first_d` (Dense): unknown argument `unitz` | hint: did you mean `units`?"
        " | note: in block `unit` used by node `first` at 13:3"
        " | note: the same in 2 other expanded uses of this line"
    )
    assert found.file == str(path) and found.notes[0].file == str(path)


def test_text_output_shows_the_use_site(tmp_path: Path, capsys) -> None:
    path = spec(
        tmp_path,
        """\
keraspec: 1
name: text
blocks:
  unit:
    inputs: x
    nodes: {d: {type: Dnse, units: 2, inputs: x}}
    outputs: d
inputs: {x: {shape: [4]}}
nodes: {u: {block: unit, inputs: x}}
outputs: u
""",
    )
    assert main(["validate", str(path)]) == ExitCode.INVALID
    assert capsys.readouterr().out == (
        f"{path}:6:23: E210 node `u_d`: unknown layer type `Dnse`\n"
        "    6 |     nodes: {d: {type: Dnse, units: 2, inputs: x}}\n"
        "      |                       ^\n"
        "      hint: did you mean `Dense`?\n"
        f"      note: in block `unit` used by node `u` at {path}:9:9\n"
    )


@settings(max_examples=40, deadline=None)
@given(
    layers=st.integers(1, 4),
    inner=st.integers(0, 4),
    outer=st.integers(0, 4),
    drop=st.booleans(),
)
def test_nested_repeats_expand_to_the_counted_chain(
    layers: int, inner: int, outer: int, drop: bool
) -> None:
    """Blocks in blocks, repeated: the flat spec is one chain of the predicted length."""
    text = f"""\
keraspec: 1
name: nested
params: {{drop: {str(drop).lower()}}}
blocks:
  unit:
    inputs: x
    nodes:
      d: {{type: Dense, units: 2, inputs: x, repeat: {layers}}}
      skip: {{type: Dropout, rate: 0.1, inputs: d, when: "${{drop}}"}}
    outputs: skip
  stage:
    inputs: x
    nodes: {{u: {{block: unit, inputs: x, repeat: {inner}}}}}
    outputs: u
inputs: {{x: {{shape: [2]}}}}
nodes:
  s: {{block: stage, inputs: x, repeat: {outer}, prefix: "s${{i}}"}}
  out: {{type: Dense, units: 1, inputs: s}}
outputs: out
"""
    flat = keraspec.loads(text)
    per_unit = layers + (1 if drop else 0)  # `skip` exists when `drop` is true
    assert len(flat.nodes) == outer * inner * per_unit + 1
    # every node feeds the next: one chain from x to out
    order = list(flat.nodes)
    for before, node in zip(["x", *order], order, strict=False):
        assert flat.nodes[node].inputs == before
    assert keraspec.dumps(keraspec.loads(keraspec.dumps(flat))) == keraspec.dumps(flat)


def test_unknown_name_passed_into_a_block_is_reported_once_at_the_use(tmp_path: Path) -> None:
    text = HEAD + (
        "blocks:\n  b:\n    inputs: x\n    nodes:\n      a: {type: Dense, units: 1, inputs: x}\n"
        "      c: {type: Dense, units: 1, inputs: x}\n    outputs: [a, c]\n"
        "nodes: {u: {block: b, inputs: ghots}}\noutputs: u\n"
    )
    assert codes(tmp_path, text) == ["11:31 E300 unknown reference `ghots`"]


def test_one_mistake_in_a_repeated_node_is_one_error(tmp_path: Path) -> None:
    text = (
        HEAD + "nodes: {h: {type: Dense, unitz: 4, units: 4, inputs: x, repeat: 50}}\noutputs: h\n"
    )
    assert codes(tmp_path, text) == [
        "4:26 E211 node `h_1` (Dense): unknown argument `unitz` | hint: did you mean `units`?"
        " | note: in copy 1 of 50 of node `h` at 4:9"
        " | note: the same in 49 other expanded uses of this line"
    ]


def test_a_failed_expression_is_not_reported_again_by_its_use(tmp_path: Path) -> None:
    text = HEAD + (
        "params: {flag: true, depths: 3}\n"
        'nodes: {h: {type: Dense, units: 4, inputs: x, when: "${flagg}", repeat: "${depths[0]}"}}\n'
        "outputs: h\n"
    )
    assert codes(tmp_path, text) == [
        "5:53 E500 unknown parameter `flagg` | hint: did you mean `flag`?",
        "5:73 E501 `depths[0]`: only lists can be indexed, by integers",
    ]


def test_i_in_when_has_a_hint(tmp_path: Path) -> None:
    text = HEAD + 'nodes: {h: {type: Dense, units: 4, inputs: x, repeat: 3, when: "${i < 2}"}}\n'
    text += "outputs: h\n"
    assert codes(tmp_path, text) == [
        "4:64 E500 unknown parameter `i` | hint: `i` is defined only in the values of a repeated"
        " node (not its `when`/`repeat`)"
    ]


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ('"x y"', "`prefix` must be letters, digits, `_` and `-`; got text 'x y'"),
        ('"a.b"', "`prefix` must be letters, digits, `_` and `-`; got text 'a.b'"),
        (
            '"9"',
            "`prefix` must be letters, digits, `_` and `-`; got text '9' | hint: at the top level",
        ),
        ("[1]", "`prefix` must be letters, digits, `_` and `-`; got a list"),
        (
            '"block{i}"',
            "`prefix` must be letters, digits, `_` and `-`; got text 'block{i}'"
            " | hint: a value goes in as `${...}`",
        ),
    ],
)
def test_bad_prefixes(tmp_path: Path, prefix: str, message: str) -> None:
    text = (
        HEAD
        + "blocks: {b: {inputs: x, nodes: {d: {type: Dense, units: 1, inputs: x}}, outputs: d}}\n"
    )
    text += f"nodes: {{u: {{block: b, inputs: x, prefix: {prefix}}}}}\noutputs: u\n"
    [found] = codes(tmp_path, text)
    assert found.startswith("5:42 E505 " + message.split(" | ")[0])
    assert message in found


def test_expanded_name_may_not_take_an_input_name(tmp_path: Path) -> None:
    text = "keraspec: 1\nname: t\ninputs: {x: {shape: [2]}, u_d: {shape: [2]}}\n"
    text += "blocks: {b: {inputs: x, nodes: {d: {type: Dense, units: 1, inputs: x}}, outputs: d}}\n"
    text += "nodes: {u: {block: b, inputs: u_d}}\noutputs: u\n"
    found = codes(tmp_path, text)
    assert found[0].startswith("4:33 E507 expanded node name `u_d` is made twice (an input has it)")
    assert found[0].endswith("note: in block `b` used by node `u` at 5:9")


def test_block_node_may_not_shadow_a_block_input(tmp_path: Path) -> None:
    text = (
        HEAD
        + "blocks: {b: {inputs: x, nodes: {x: {type: Dense, units: 1, inputs: x}}, outputs: x}}\n"
    )
    text += "nodes: {u: {block: b, inputs: x}}\noutputs: u\n"
    assert codes(tmp_path, text) == [
        "4:33 E511 node `x` of block `b` has the name of one of its inputs | hint: rename the node"
    ]


def test_submodel_keys_are_judged_by_the_schema(tmp_path: Path) -> None:
    text = HEAD + (
        "models: {m: {params: {a: 1}, inputs: {y: {shape: [2]}}, outputs: y}}\n"
        "nodes: {c: {model: m, inputs: x}}\noutputs: c\n"
    )
    assert codes(tmp_path, text) == ["4:14 E201 unknown key `params` in model `m`"]


def test_compile_and_expand_show_expansion_warnings(tmp_path: Path, capsys) -> None:
    text = HEAD + "blocks: {spare: {inputs: x, outputs: x}}\n"
    text += "nodes: {h: {type: Dense, units: 1, inputs: x}}\noutputs: h\n"
    assert main(["expand", str(spec(tmp_path, text))]) == ExitCode.OK
    captured = capsys.readouterr()
    assert "W520 block `spare` is never used" in captured.err
    assert keraspec.loads(captured.out).nodes["h"].args == {"units": 1}


def test_values_that_are_not_text_do_not_go_into_text(tmp_path: Path) -> None:
    text = HEAD + 'params: {xs: [1, 2]}\ndescription: "sizes ${xs}"\n'
    text += "nodes: {h: {type: Dense, units: 1, inputs: x}}\noutputs: h\n"
    assert codes(tmp_path, text) == [
        "5:14 E501 `${xs}` is a list; only numbers and strings go in text"
    ]


def test_a_failed_parameter_is_one_error_not_a_cascade(tmp_path: Path) -> None:
    text = HEAD + (
        "params: {blocks: [6, 12], c1: '${blocks[2] * 2}', c2: '${c1 + 1}'}\n"
        "nodes: {h: {type: Dense, units: '${c2}', inputs: x, repeat: '${blocks[2]}'}}\n"
        "outputs: h\n"
    )
    assert codes(tmp_path, text) == [
        "4:31 E501 `blocks[2]`: index 2 is out of range",
        "5:61 E501 `blocks[2]`: index 2 is out of range",
    ]


def test_required_top_level_parameter(tmp_path: Path) -> None:
    text = (
        HEAD
        + "params: {width: required}\nnodes: {h: {type: Dense, units: '${width}', inputs: x}}\n"
    )
    text += "outputs: h\n"
    path = spec(tmp_path, text)
    assert [describe(d) for d in keraspec.validate(path)] == [
        "4:17 E500 parameter `width` is required | hint: give it a value: --set width=VALUE,"
        " or params= in Python"
    ]
    assert keraspec.load(path, params={"width": 3}).nodes["h"].args == {"units": 3}


def test_forward_reference_between_parameters_has_a_hint(tmp_path: Path) -> None:
    text = (
        HEAD
        + "params: {a: '${b + 1}', b: 1}\nnodes: {h: {type: Dense, units: '${a}', inputs: x}}\n"
    )
    text += "outputs: h\n"
    assert codes(tmp_path, text) == [
        "4:13 E500 unknown parameter `b` | hint: `b` is declared below; a default may use only"
        " those above it"
    ]


@pytest.mark.parametrize(
    ("when", "hint"),
    [
        ("flag", "write `${flag}` for the value of parameter `flag`"),
        ('"false"', "write false without quotes"),
        ("3", "write a comparison: ${x > 1}"),
    ],
)
def test_when_that_is_not_a_boolean(tmp_path: Path, when: str, hint: str) -> None:
    node = f"{{type: Dense, units: 1, inputs: x, when: {when}}}"
    text = HEAD + f"params: {{flag: true}}\nnodes: {{h: {node}}}\n"
    text += "outputs: h\n"
    [found] = codes(tmp_path, text)
    assert found.endswith(f" | hint: {hint}")
    assert "E502 `when` must be true or false; got " in found


def test_unquoted_placeholder_in_a_flow_mapping_says_quote_it(tmp_path: Path) -> None:
    text = HEAD + "params: {w: 2}\nnodes: {h: {type: Dense, units: ${w}, inputs: x}}\noutputs: h\n"
    assert codes(tmp_path, text) == [
        "5:34 E100 invalid YAML: expected ',' or '}', but got '{' (while parsing a flow mapping)"
        ' | hint: inside `[...]` or `{...}`, quote `${...}` values: "${w * 2}"'
    ]


def test_with_on_a_plain_node(tmp_path: Path) -> None:
    text = HEAD + "nodes: {h: {type: Dense, units: 1, inputs: x, with: {a: 1}}}\noutputs: h\n"
    assert codes(tmp_path, text) == [
        "4:47 E505 `with` belongs to block uses; node `h` has no `block:`"
    ]


@pytest.mark.keras
def test_compile_to_an_unwritable_place_is_a_usage_error(capsys) -> None:
    mlp = Path(__file__).parent.parent / "specs" / "mlp.yaml"
    assert main(["compile", str(mlp), "-o", "/proc/keraspec-test.keras"]) == ExitCode.USAGE
    assert "/proc/keraspec-test.keras" in capsys.readouterr().err


def test_a_reference_passed_into_a_block_is_judged_where_it_was_written(tmp_path: Path) -> None:
    text = HEAD + (
        "blocks:\n"
        "  b: {inputs: x, nodes: {d: {type: Dense, units: 2, inputs: x}}, outputs: d}\n"
        "  pair: {inputs: [p, q], nodes: {}, outputs: [p, q]}\n"
        "nodes:\n"
        "  a: {type: Dense, units: 2, inputs: x}\n"
        '  u: {block: b, inputs: "a[1]"}\n'
        "  m: {block: pair, inputs: [a, a]}\n"
        "  c: {type: Concatenate, inputs: [m, nope]}\n"
        "outputs: [u, c]\n"
    )
    assert codes(tmp_path, text) == [
        "9:25 E303 `a[1]`: `a` has a single output | hint: write `a`",  # at the use, not in b
        "11:38 E300 node `c` refers to unknown `nope`: not a declared input or node",  # after m's 2
    ]
