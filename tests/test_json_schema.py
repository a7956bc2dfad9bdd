"""`keraspec schema`: a JSON Schema that every spec satisfies and that catches typos per layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from keraspec.cli import ExitCode, main
from keraspec.json_schema import editor_schema
from keraspec.loader import load_file

ROOT = Path(__file__).parent.parent
SPECS = sorted(
    [
        *(ROOT / "specs").rglob("*.yaml"),
        *(ROOT / "tests" / "cases" / "valid").glob("*.yaml"),
        *(ROOT / "tests" / "cases" / "expand").glob("*.yaml"),
        *(ROOT / "tests" / "cases" / "includes" / "ok").rglob("*.yaml"),  # a block library too
    ]
)


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = editor_schema()
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def problems(validator: Draft7Validator, data: object) -> list[str]:
    return sorted(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)
    )


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_valid_spec_satisfies_the_schema(validator: Draft7Validator, path: Path) -> None:
    assert problems(validator, load_file(path).data) == []


SPEC = {
    "keraspec": 1,
    "name": "t",
    "inputs": {"x": {"shape": [4]}},
    "nodes": {"h": {"type": "Dense", "units": 2, "inputs": "x"}},
    "outputs": "h",
}


def with_node(**node: object) -> dict:
    return {**SPEC, "nodes": {"h": node}}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            with_node(type="Dense", unitz=2, units=2, inputs="x"),
            "nodes/h: Additional properties are not allowed ('unitz' was unexpected)",
        ),
        (with_node(type="Dense", inputs="x"), "nodes/h: 'units' is a required property"),
        (
            with_node(type="Dnse", units=2, inputs="x"),
            "nodes/h/type: 'Dnse' is not valid under any of the given schemas",
        ),
        (
            with_node(op="add", x1="x", inputs="x", axis=1),
            "nodes/h: Additional properties are not allowed ('axis' was unexpected)",
        ),
        ({**SPEC, "layers": {"d": {"type": "Dense", "units": 2, "inputs": "x"}}}, "layers/d: "),
        ({**SPEC, "nmae": "t"}, ": Additional properties are not allowed ('nmae' was unexpected)"),
        (
            with_node(type="Dense", units="64", inputs="x"),
            "nodes/h/units: '64' is not valid under any of the given schemas",
        ),
        (
            with_node(type="Conv1D", filters=2, kernel_size=3, padding="full", inputs="x"),
            "nodes/h/padding: 'full' is not valid under any of the given schemas",
        ),
        (
            with_node(type="LSTM", units=2, return_sequences="yes", inputs="x"),
            "nodes/h/return_sequences: 'yes' is not valid under any of the given schemas",
        ),
    ],
)
def test_the_schema_catches_what_an_editor_should_flag(
    validator: Draft7Validator, data: dict, expected: str
) -> None:
    found = problems(validator, data)
    assert any(p.startswith(expected) for p in found), found


def test_schema_command_writes_the_schema(tmp_path: Path, capsys) -> None:
    out = tmp_path / "keraspec.schema.json"
    assert main(["schema", "-o", str(out)]) == ExitCode.OK
    assert json.loads(out.read_text()) == editor_schema()
    assert capsys.readouterr().err == f"wrote {out}\n"


def test_expressions_may_stand_for_enumerated_values(validator: Draft7Validator) -> None:
    node = {"type": "${cell}", "units": 2, "inputs": "x"}
    data = {**SPEC, "params": {"cell": "LSTM"}, "nodes": {"h": node}}
    data["inputs"] = {"x": {"shape": [3, 4], "dtype": "${dt}"}}
    assert problems(validator, data) == []
