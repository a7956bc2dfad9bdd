"""Golden spec files: each invalid case's header lists exactly what validate must report."""

from __future__ import annotations

from pathlib import Path

import pytest

import keraspec
from keraspec import Spec
from update_golden import describe

CASES = Path(__file__).parent / "cases"
INVALID = sorted((CASES / "invalid").glob("*.yaml"))
VALID = sorted((CASES / "valid").glob("*.yaml"))
SPECS = sorted((Path(__file__).parent.parent / "specs").rglob("*.yaml"))


def expected(path: Path) -> list[str]:
    return [
        line.removeprefix("# expect: ").rstrip("\n")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("# expect: ")
    ]


def reported(path: Path) -> list[str]:
    return [describe(d) for d in keraspec.validate(path)]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_case_reports_exactly_its_header(path: Path) -> None:
    assert expected(path), f"{path.name} has no `# expect:` header"
    assert reported(path) == expected(path)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_diagnostics_name_the_file(path: Path) -> None:
    assert {d.file for d in keraspec.validate(path)} == {str(path)}


@pytest.mark.parametrize("path", VALID + SPECS, ids=lambda p: p.stem)
def test_valid_case_has_no_diagnostics(path: Path) -> None:
    assert keraspec.validate(path) == []


@pytest.mark.parametrize("path", VALID + SPECS, ids=lambda p: p.stem)
def test_dumps_round_trips(path: Path) -> None:
    spec = keraspec.load(path)
    text = keraspec.dumps(spec)
    again = keraspec.loads(text)
    assert again == spec
    assert keraspec.dumps(again) == text
    assert Spec.model_validate(spec.model_dump()) == spec
    assert Spec.model_validate_json(spec.model_dump_json()) == spec


def test_there_are_cases() -> None:
    assert len(INVALID) >= 20 and VALID and SPECS
