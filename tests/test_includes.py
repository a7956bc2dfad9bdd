"""Includes (`use:`): blocks and models from other files, confined to the spec's folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import keraspec
from keraspec.cli import ExitCode, main
from spec_files import HEAD, LIBRARY, codes, spec, uses
from update_golden import describe

CASES = Path(__file__).parent / "cases"
INCLUDES = CASES / "includes"


def test_includes_expand_blocks_and_models_from_other_files() -> None:
    flat = keraspec.load(INCLUDES / "ok" / "spec.yaml")
    assert list(flat.models) == ["head"]
    assert flat.models["head"].nodes["logits"].args == {"units": 10}
    assert [n for n in flat.nodes if n.startswith("res1_")] == [
        "res1_first_conv",
        "res1_first_bn",
        "res1_relu",
        "res1_second_conv",
        "res1_second_bn",
        "res1_add",
    ]
    # the library file's own params are what its blocks see
    assert flat.nodes["res0_first_bn"].args["epsilon"] == 1.001e-5


def test_four_composition_mistakes_give_four_located_errors_in_one_run() -> None:
    path = INCLUDES / "four_errors" / "spec.yaml"
    assert [describe(d) for d in keraspec.validate(path)] == [
        "9:21 E504 block `grow` uses itself: grow → grow"
        " | note: in block `grow` used by node `b` at 17:3",
        "11:17 E510 include cycle: a.yaml#looped → b.yaml#looped → a.yaml#looped",
        "12:18 E509 `../outside.yaml` is outside the spec's folder"
        " | hint: includes stay inside the spec's folder",
        "16:27 E500 unknown parameter `widht` | hint: did you mean `width`?",
    ]
    assert {d.file for d in keraspec.validate(path)} == {str(path)}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/etc/passwd#unit", "`/etc/passwd` must be a path relative to the including file"),
        ("~/lib.yaml#unit", "`~/lib.yaml` must be a path relative to the including file"),
        ("https://example.com/lib.yaml#unit", "`https://example.com/lib.yaml` must be a path"),
        ("../lib.yaml#unit", "`../lib.yaml` is outside the spec's folder"),
        ("sub/../../lib.yaml#unit", "`sub/../../lib.yaml` is outside the spec's folder"),
        ("missing.yaml#unit", "E508 cannot read `missing.yaml`"),
        ("lib.yaml#unti", "has no block `unti` | hint: did you mean `unit`?"),
        ("lib.yaml", "E504"),  # `#name` defaults to the entry's own name: finds `unit`
    ],
)
def test_include_targets(tmp_path: Path, target: str, expected: str) -> None:
    (tmp_path / "lib.yaml").write_text(LIBRARY)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "lib.yaml").write_text(LIBRARY)
    path = spec(tmp_path / "in", uses(target))
    found = [describe(d) for d in keraspec.validate(path)]
    if expected == "E504":
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found


def test_include_through_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(LIBRARY.replace("units: 2", "units: 31337"))
    (tmp_path / "in").mkdir()
    os.symlink(outside, tmp_path / "in" / "lib.yaml")
    path = spec(tmp_path / "in", uses("lib.yaml#unit"))
    [found] = keraspec.validate(path)
    assert found.code == "E509" and "31337" not in describe(found)


def test_include_errors_stop_nothing_else(tmp_path: Path) -> None:
    text = uses("../nowhere.yaml#unit").replace("outputs: u", "outputs: [u, nope]")
    path = spec(tmp_path / "in", text)
    assert [d.code for d in keraspec.validate(path)] == ["E509", "E300"]


def test_a_model_include_needs_a_plain_graph(tmp_path: Path) -> None:
    (tmp_path / "sub.yaml").write_text(
        "keraspec: 1\nname: sub\nlayers: {d: {type: Dense, units: 2}}\n"
        "inputs: {x: {shape: [4]}}\nnodes: {y: {layer: d, inputs: x}}\noutputs: y\n"
    )
    path = spec(
        tmp_path,
        "keraspec: 1\nname: m\nmodels: {sub: {use: sub.yaml}}\n"
        "inputs: {x: {shape: [4]}}\nnodes: {y: {model: sub, inputs: x}}\noutputs: y\n",
    )
    assert [describe(d) for d in keraspec.validate(path)] == [
        "3:21 E508 sub.yaml has `layers`; an included model brings only its inputs, nodes"
        " and outputs"
    ]


def test_model_include_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("models: {m: {use: b.yaml#m}}\n")
    (tmp_path / "b.yaml").write_text("models: {m: {use: a.yaml#m}}\n")
    path = spec(
        tmp_path,
        "keraspec: 1\nname: m\nmodels: {m: {use: a.yaml#m}}\n"
        "inputs: {x: {shape: [4]}}\nnodes: {y: {model: m, inputs: x}}\noutputs: y\n",
    )
    [found] = keraspec.validate(path)
    assert found.code == "E510"
    assert found.message == "include cycle: a.yaml#m → b.yaml#m → a.yaml#m"


def test_include_with_a_nul_byte_is_refused(tmp_path: Path) -> None:
    path = spec(tmp_path, uses("lib\\0.yaml#unit").replace('"lib', '"lib'))
    [found] = keraspec.validate(path)
    assert found.code == "E508" and "cannot read" in found.message


def test_a_spec_may_include_its_own_blocks(tmp_path: Path) -> None:
    inner = "  inner: {inputs: x, nodes: {d: {type: Dense, units: 2, inputs: x}}, outputs: d}\n"
    text = uses("spec.yaml#inner").replace("blocks:\n", "blocks:\n" + inner)
    assert keraspec.validate(spec(tmp_path, text)) == []


def test_use_entries_hold_only_use(tmp_path: Path) -> None:
    (tmp_path / "lib.yaml").write_text(LIBRARY)
    text = HEAD + 'blocks: {unit: {use: "lib.yaml#unit", with: 1}}\n'
    text += "nodes: {u: {block: unit, inputs: x}}\noutputs: u\n"
    assert codes(tmp_path, text) == ["4:39 E508 a `use:` entry holds only `use`; found `with`"]


def test_include_through_a_symlink_loop_or_a_fifo_is_refused(tmp_path: Path) -> None:
    os.symlink("loop2.yaml", tmp_path / "loop1.yaml")
    os.symlink("loop1.yaml", tmp_path / "loop2.yaml")
    os.mkfifo(tmp_path / "fifo.yaml")
    for target in ("loop1.yaml#unit", "fifo.yaml#unit"):
        [found] = keraspec.validate(spec(tmp_path, uses(target)))
        assert found.code == "E508", found


def test_error_in_an_included_file_names_the_include(tmp_path: Path) -> None:
    (tmp_path / "lib.yaml").write_text("blocks:\n  unit: [1,\n")
    [found] = keraspec.validate(spec(tmp_path, uses("lib.yaml#unit")))
    assert found.code == "E100" and found.file.endswith("lib.yaml")
    assert str(found.notes[0]) == f"in the file included at {tmp_path / 'spec.yaml'}:4:15"


def test_a_block_library_validates_on_its_own(tmp_path: Path) -> None:
    (tmp_path / "lib.yaml").write_text(LIBRARY)
    assert keraspec.validate(tmp_path / "lib.yaml") == []
    (tmp_path / "bad.yaml").write_text(
        "params: {a: '${b}'}\nblocks: {unit: {input: x, outputs: x}}\n"
    )
    assert [describe(d) for d in keraspec.validate(tmp_path / "bad.yaml")] == [
        "1:13 E500 unknown parameter `b`",
        "2:16 E511 block `unit` needs `inputs`: a name or a list of names",
        "2:17 E511 unknown key `input` in block `unit` | hint: did you mean `inputs`?",
    ]


def test_a_very_long_include_path_is_a_located_error(tmp_path: Path) -> None:
    [found] = keraspec.validate(spec(tmp_path, uses("a" * 300 + ".yaml#unit")))
    assert found.code == "E508" and found.message.startswith("cannot read")


def test_a_spec_symlinked_out_of_its_folder_is_not_read(tmp_path: Path, capsys) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN=ghp_SUPERSECRET: x\n")
    (tmp_path / "specs").mkdir()
    os.symlink(secret, tmp_path / "specs" / "env.yaml")
    assert main(["validate", str(tmp_path / "specs" / "env.yaml")]) == ExitCode.INVALID
    captured = capsys.readouterr()
    assert "E001 cannot read file: it is a symlink to a file outside its folder" in captured.out
    assert "SUPERSECRET" not in captured.out + captured.err


def test_a_symlink_inside_the_folder_is_read(tmp_path: Path) -> None:
    spec(
        tmp_path, HEAD + "nodes: {h: {type: Dense, units: 1, inputs: x}}\noutputs: h\n", "real.yaml"
    )
    os.symlink("real.yaml", tmp_path / "alias.yaml")
    assert keraspec.validate(tmp_path / "alias.yaml") == []
