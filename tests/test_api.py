"""The public Python API: load, loads, dumps, validate, build, SpecError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import keraspec
from keraspec import Diagnostic, Severity, SpecError

ROOT = Path(__file__).parent.parent
HEADLINE = ROOT / "specs" / "headline.yaml"

TINY = """\
keraspec: 1
name: tiny
inputs:
  x: {shape: [3]}
nodes:
  y: {type: Dense, units: 2, inputs: x}
outputs: [y]
"""


def test_loads_names_the_source_in_diagnostics() -> None:
    assert keraspec.validate(keraspec.loads(TINY)) == []
    spec = keraspec.loads(TINY.replace("Dense", "Dens"), source="inline.yaml")
    (d,) = keraspec.validate(spec)
    assert str(d) == "inline.yaml:6:13: E210 node `y`: unknown layer type `Dens`"
    assert d.hint == "did you mean `Dense`?"


def test_spec_error_carries_every_diagnostic() -> None:
    with pytest.raises(SpecError) as info:
        keraspec.loads("keraspec: 1\nname: x\nfoo: 1\n", source="s.yaml")
    diagnostics = info.value.diagnostics
    assert [d.code for d in diagnostics] == ["E202", "E202", "E201"]
    assert all(isinstance(d, Diagnostic) and d.severity is Severity.ERROR for d in diagnostics)
    assert str(info.value).splitlines()[0] == "s.yaml:1:1: E202 the spec is missing `inputs`"


def test_validate_accepts_paths_and_specs() -> None:
    assert keraspec.validate(HEADLINE) == []
    assert keraspec.validate(str(HEADLINE)) == []
    assert keraspec.validate(keraspec.load(HEADLINE)) == []


def test_validate_returns_load_errors_instead_of_raising(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1,\n", encoding="utf-8")
    (d,) = keraspec.validate(bad)
    assert (d.code, d.file) == ("E100", str(bad))


def test_warnings_do_not_block_building() -> None:
    spec = keraspec.loads(
        TINY.replace("  y:", "  unused: {type: Dense, units: 1, inputs: x}\n  y:")
    )
    (d,) = keraspec.validate(spec)
    assert (d.code, d.severity) == ("W321", Severity.WARNING)
    keraspec.lower(spec)


def test_build_refuses_invalid_specs_with_located_errors() -> None:
    spec = keraspec.loads(TINY.replace("inputs: x", "inputs: z"), source="t.yaml")
    with pytest.raises(SpecError) as info:
        keraspec.build(spec)
    assert [str(d) for d in info.value.diagnostics] == [
        "t.yaml:6:38: E300 node `y` refers to unknown `z`: not a declared input or node"
    ]


def test_dumps_writes_the_user_format() -> None:
    text = keraspec.dumps(keraspec.loads(TINY))
    assert text == (
        "keraspec: 1\nname: tiny\ninputs:\n  x:\n    shape: [3]\n"
        "nodes:\n  y: {type: Dense, units: 2, inputs: x}\noutputs: [y]\n"
    )


def test_lowering_is_deterministic_and_ordered_by_dependencies() -> None:
    text = TINY.replace(
        "  y: {type: Dense, units: 2, inputs: x}",
        "  late: {type: Dense, units: 2, inputs: early}\n"
        "  early: {type: Dense, units: 2, inputs: x}",
    ).replace("[y]", "[late]")
    program = keraspec.lower(keraspec.loads(text))
    assert [c.id for c in program.main.calls] == ["early", "late"]
    assert keraspec.lower(keraspec.loads(text)) == program


def test_topological_ties_keep_declaration_order() -> None:
    nodes = "\n".join(f"  n{i}: {{type: Dense, units: 1, inputs: x}}" for i in (3, 1, 2))
    text = TINY.replace("  y: {type: Dense, units: 2, inputs: x}", nodes)
    text = text.replace("[y]", "[n3, n1, n2]")
    assert [c.id for c in keraspec.lower(keraspec.loads(text)).main.calls] == ["n3", "n1", "n2"]


RESNET = ROOT / "specs" / "applications" / "resnet50.yaml"


@pytest.mark.parametrize(
    ("args", "rc"),
    [
        (
            [
                "validate",
                str(HEADLINE),
                str(ROOT / "tests" / "cases" / "invalid" / "three_errors.yaml"),
            ],
            1,
        ),
        (["validate", "-v", str(RESNET)], 0),
        (["expand", str(RESNET)], 0),
        (["summary", str(RESNET)], 0),
        (["schema"], 0),
    ],
    ids=["validate", "validate-verbose", "expand", "summary", "schema"],
)
def test_commands_that_need_no_keras_never_import_tensorflow_or_keras(args: list, rc: int) -> None:
    code = (
        "import sys, keraspec\n"
        "from keraspec.cli import main\n"
        f"rc = main({args!r})\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(rc, heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == f"{rc} []"


def test_object_specs_from_python_and_from_yaml() -> None:
    from keraspec.schema import ObjectSpec

    assert ObjectSpec(type="L2", args={"l2": 0.1}).args == {"l2": 0.1}
    assert ObjectSpec.model_validate({"type": "L2", "l2": 0.1}).args == {"l2": 0.1}
    # a YAML argument that happens to be called `args` stays an argument
    assert ObjectSpec.model_validate({"type": "X", "args": ["id"]}).args == {"args": ["id"]}


@pytest.mark.parametrize(
    "text", ["0:30", "08", "0x1F", "no", "(unk)", "1_000", "1e3", "null", "~", "True", "0o17"]
)
def test_dumps_quotes_strings_any_reader_could_retype(text: str) -> None:
    spec = keraspec.loads(TINY).model_copy(update={"description": text})
    dumped = keraspec.dumps(spec)
    assert keraspec.validate(keraspec.loads(dumped)) == []
    assert keraspec.loads(dumped).description == text


def test_a_model_used_only_by_a_shared_layer_is_used() -> None:
    text = (
        "keraspec: 1\nname: m\ninputs: {frames: {shape: [3, 5]}}\n"
        "models:\n  projector:\n    inputs: {v: {shape: [5]}}\n"
        "    nodes:\n      p: {type: Dense, units: 4, inputs: v}\n    outputs: [p]\n"
        "layers:\n  per_frame: {type: TimeDistributed, layer: projector}\n"
        "nodes:\n  a: {layer: per_frame, inputs: frames}\noutputs: [a]\n"
    )
    assert keraspec.validate(keraspec.loads(text)) == []  # no W322 for `projector`
