"""The load stage: positions, duplicate keys, tags, aliases, YAML 1.2 numbers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from keraspec.diagnostics import SpecError
from keraspec.limits import DEFAULT, Limits
from keraspec.loader import load_file, load_text


def codes(text: str, limits: Limits = DEFAULT) -> list[tuple[str, int, int]]:
    with pytest.raises(SpecError) as info:
        load_text(text, "t.yaml", limits)
    return [(d.code, d.line, d.column) for d in info.value.diagnostics]


def test_positions_of_keys_and_values_are_one_based() -> None:
    doc = load_text("a:\n  b: [1, 2]\n  c: {d: x}\n", "t.yaml")
    assert doc.data == {"a": {"b": [1, 2], "c": {"d": "x"}}}
    loc = doc.source.value(("a", "b", 1))
    assert (loc.file, loc.line, loc.column) == ("t.yaml", 2, 10)
    assert (doc.source.key(("a", "c")).line, doc.source.key(("a", "c")).column) == (3, 3)
    assert doc.source.value(("a", "c", "d")).column == 10
    assert doc.source.value(("a", "c", "d")).source_line == "  c: {d: x}"


def test_unknown_path_falls_back_to_nearest_ancestor() -> None:
    doc = load_text("a:\n  b: 1\n")
    assert doc.source.value(("a", "b", "nope")).line == 2


def test_duplicate_keys_name_both_lines() -> None:
    with pytest.raises(SpecError) as info:
        load_text("a: 1\nb: 2\na: 3\n", "t.yaml")
    (d,) = info.value.diagnostics
    assert str(d) == "t.yaml:3:1: E101 duplicate key `a` (first defined at line 1)"


def test_keys_equal_in_python_are_duplicates() -> None:
    assert codes("1: a\ntrue: b\n") == [("E101", 2, 1)]


def test_yaml12_exponent_floats_and_no_timestamps() -> None:
    data = load_text("lr: 1e-3\nbig: 2E5\nday: 2024-01-01\nn: 7\nflag: true\n").data
    assert data == {"lr": 0.001, "big": 200000.0, "day": "2024-01-01", "n": 7, "flag": True}
    assert isinstance(data["big"], float)


def test_python_tags_are_rejected_and_nothing_is_constructed(tmp_path) -> None:
    marker = tmp_path / "ran"
    text = f'x: !!python/object/apply:os.system ["touch {marker}"]\n'
    assert codes(text) == [("E102", 1, 4)]
    assert not marker.exists()


def test_custom_tags_are_rejected() -> None:
    assert codes("a: !custom 3\nb: !!binary aGk=\n") == [("E102", 1, 4), ("E102", 2, 4)]


def test_merge_keys_and_aliases() -> None:
    doc = load_text("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
    assert doc.data["use"] == {"x": 1, "y": 3}


def test_self_containing_alias_is_an_error() -> None:
    assert codes("a: &a\n  b: *a\n") == [("E104", 1, 4)]


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    started = time.perf_counter()
    found = codes("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 1.0  # a billion values, measured not built
    assert [c for c, *_ in found] == ["E106"]


def test_the_value_limit_counts_what_aliases_add_not_what_is_written() -> None:
    ten = Limits(max_alias_values=10)
    written = "".join(f"n{i}: {{type: Dense, units: 8}}\n" for i in range(10))
    assert len(load_text(written, limits=ten).data) == 10  # 70 values, all written out
    assert codes("a: &a [1, 2, 3, 4]\nb: [*a, *a, *a]\n", ten) == [("E106", 1, 1)]  # 15 added


def test_depth_and_size_limits_are_the_callers_to_set(tmp_path: Path) -> None:
    nested = "a: " + "[" * 5 + "]" * 5 + "\n"
    assert load_text(nested, limits=Limits(max_depth=5)).data == {"a": [[[[[]]]]]}
    assert codes(nested, Limits(max_depth=4)) == [("E107", 1, 8)]  # the 5th bracket
    spec = tmp_path / "big.yaml"
    spec.write_text("".join(f"a{i:03}: 1\n" for i in range(125)))  # 1,000 bytes
    assert len(load_file(spec, Limits(max_file_size=1000)).data) == 125
    with pytest.raises(SpecError) as info:
        load_file(spec, Limits(max_file_size=999))
    [d] = info.value.diagnostics
    assert str(d) == f"{spec}:1:1: E109 the file is larger than 999 bytes"
    assert d.hint == "raise the limit with --max-file-size if the spec is meant to be this big"


def test_a_limit_must_be_a_positive_integer() -> None:
    with pytest.raises(ValueError, match="max_params must be a positive integer; received 0"):
        Limits(max_params=0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [("E103", 1, 1)]),
        ("# only a comment\n", [("E103", 1, 1)]),
        ("- a\n- b\n", [("E103", 1, 1)]),
        ("a: 1\n---\nb: 2\n", [("E100", 2, 1)]),
        ("a: [1, 2\n", [("E100", 2, 1)]),
        ("? [a, b]\n: 1\n", [("E105", 1, 3)]),
    ],
)
def test_malformed_documents(text: str, expected: list) -> None:
    assert codes(text) == expected


def test_invalid_utf8_is_located(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: ok\nother: \xff\n")
    with pytest.raises(SpecError) as info:
        load_file(path)
    (d,) = info.value.diagnostics
    assert (d.code, d.line, d.column) == ("E002", 2, 8)


def test_missing_file_is_a_diagnostic(tmp_path) -> None:
    with pytest.raises(SpecError) as info:
        load_file(tmp_path / "nope.yaml")
    assert info.value.diagnostics[0].code == "E001"


def test_control_characters_are_located() -> None:
    with pytest.raises(SpecError) as info:
        load_text("a: 1\n# bell \x07\n", "t.yaml")
    (d,) = info.value.diagnostics
    assert str(d) == "t.yaml:2:8: E100 invalid YAML: character '\\x07' (U+0007) is not allowed"


@pytest.mark.parametrize("depth", [80, 5000])
def test_deep_nesting_is_refused_without_recursion_errors(depth: int) -> None:
    text = "a: " + "[" * depth + "]" * depth + "\n"
    assert [c for c, *_ in codes(text)] == ["E107"]


def test_invalid_utf8_column_counts_characters(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes('foo: "éé'.encode() + b'\xff"\n')
    with pytest.raises(SpecError) as info:
        load_file(path)
    assert (info.value.diagnostics[0].line, info.value.diagnostics[0].column) == (1, 9)


def test_merged_values_keep_positions_of_overrides() -> None:
    doc = load_text("a: &d {x: 1, y: 2}\nb: {<<: *d, y: 3}\n")
    assert doc.data["b"] == {"x": 1, "y": 3}
    assert (doc.source.value(("b", "y")).line, doc.source.value(("b", "y")).column) == (2, 16)
    assert doc.source.value(("b", "x")).line == 1  # inherited: where the anchor wrote it


@pytest.mark.parametrize(
    "text", ["y", "n", "00", "07", "-07", "0:30", "0x1F", ".5", "1e3", "-0", "+1"]
)
def test_scalars_both_yaml_versions_agree_on_are_not_ambiguous(text: str) -> None:
    load_text(f"a: {text}\n")


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("no", "YAML 1.1 reads it as false, YAML 1.2 as 'no'"),
        ("0755", "YAML 1.1 reads it as 493, YAML 1.2 as 755"),
        ("08", "YAML 1.1 reads it as '08', YAML 1.2 as 8"),
        ("1_000", "YAML 1.1 reads it as 1000, YAML 1.2 as '1_000'"),
        ("0b101", "YAML 1.1 reads it as 5, YAML 1.2 as '0b101'"),
        ("1:30", "YAML 1.1 reads it as 90, YAML 1.2 as '1:30'"),
    ],
)
def test_version_dependent_scalars_are_e108(text: str, reading: str) -> None:
    doc = load_text(f"a: {text}\n", "t.yaml")
    (d,) = doc.diagnostics
    assert str(d) == f"t.yaml:1:4: E108 `{text}` is ambiguous: {reading}"
    assert doc.data == {"a": text}  # kept as written, so later stages still run


def test_tabs_inside_flow_collections_are_rejected_everywhere() -> None:
    assert [c for c, *_ in codes("a: {b: 1,\tc: 2}\n")] == ["E100"]


@pytest.mark.parametrize("value", ["!!int ''", "!!bool maybe", "!!float ''", "!!int 0x"])
def test_a_value_its_explicit_tag_cannot_read_is_an_error(value: str) -> None:
    assert codes(f"a: {value}\n") == [("E100", 1, 4)]
