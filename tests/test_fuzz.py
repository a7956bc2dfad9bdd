"""Whatever a spec file holds, validate answers with diagnostics, never an exception.

`make test` runs each property a bounded number of times; `make fuzz`
(HYPOTHESIS_PROFILE=fuzz, see conftest.py) runs each 10,000 times, all but the one
that builds Keras models.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keraspec
from keraspec import Diagnostic
from shape_oracle import assert_same_as_keras
from test_properties import dag_specs

FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"


def examples(bounded: int) -> settings:
    """``bounded`` examples in `make test`; the fuzz profile's 10,000 in `make fuzz`."""
    count = settings.default.max_examples if FUZZING else bounded
    return settings(max_examples=count, deadline=None, suppress_health_check=list(HealthCheck))


CASES = sorted((Path(__file__).parent / "cases" / "valid").glob("*.yaml"))
COMPOSED = sorted((Path(__file__).parent / "cases" / "expand").glob("*.yaml"))
SPECS = sorted((Path(__file__).parent.parent / "specs").glob("*.yaml"))
TEMPLATES = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in CASES + SPECS + COMPOSED]
WORDS = [
    "type", "layer", "model", "op", "inputs", "outputs", "call", "shape", "units", "x",
    "Dense", "LSTM", "Bidirectional", "add", "mse", "loss", "metrics", "args", "a[1]",
    "return_state", "merge_mode", "layers", "models", "nodes", "compile", "name",
    "params", "blocks", "block", "with", "repeat", "when", "prefix", "use", "${width}",
    "${i}", "${1 / 0}", "$${", "${", "x.yaml#b", "../x.yaml",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**20),
    st.floats(allow_nan=False),
    st.sampled_from(WORDS),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(WORDS) | scalars, inner, max_size=3)
    ),
    max_leaves=12,
)


def paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from paths(value, (*prefix, i))


def mutate(data, path, value, delete: bool):
    if not path:
        return value
    *parents, last = path
    target = data
    for step in parents:
        target = target[step]
    if delete and isinstance(target, dict):
        del target[last]
    else:
        target[last] = value
    return data


@st.composite
def mutated_specs(draw):
    data = yaml.safe_load(yaml.safe_dump(draw(st.sampled_from(TEMPLATES))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(data))))
        data = mutate(data, path, draw(values), draw(st.booleans()))
    return yaml.safe_dump(data, sort_keys=False)


def validate_text(text: str, verbose: bool = False) -> list[Diagnostic]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        return keraspec.validate(path, verbose=verbose)


@examples(300)
@given(mutated_specs())
def test_validate_never_raises_on_mutated_specs(text: str) -> None:
    found = validate_text(text, verbose=True)
    assert all(isinstance(d, Diagnostic) and d.line >= 1 for d in found)
    assert not [d for d in found if d.code == "I601"], "a shape rule failed"


@pytest.mark.keras
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_what_validates_builds_or_fails_located(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        if any(d.is_error for d in keraspec.validate(path)):
            return
        assert_same_as_keras(keraspec.load(path))  # the same shapes, or refused alike


@examples(150)
@given(st.text(max_size=200))
def test_validate_never_raises_on_arbitrary_text(text: str) -> None:
    found = validate_text(text)
    # no text of 200 characters is a whole valid spec: there is always an error, located
    assert any(d.is_error for d in found)
    assert all(d.line >= 1 and d.column >= 1 and d.file.endswith("fuzz.yaml") for d in found)


@examples(100)
@given(st.text(max_size=30), st.floats(0, 0.99))
def test_dumps_round_trips_any_description_and_float(description: str, rate: float) -> None:
    spec = keraspec.loads(
        "keraspec: 1\nname: m\ninputs: {x: {shape: [2]}}\n"
        "nodes: {d: {type: Dropout, rate: 0.5, inputs: x}}\noutputs: [d]\n"
    )
    spec = spec.model_copy(update={"description": description})
    node = spec.nodes["d"].model_copy(update={"args": {"rate": rate}})
    spec = spec.model_copy(update={"nodes": {"d": node}})
    again = keraspec.loads(keraspec.dumps(spec))
    assert again == spec


@examples(200)
@given(mutated_specs())
def test_whatever_loads_round_trips_through_dumps(text: str) -> None:
    try:
        spec = keraspec.loads(text)
    except keraspec.SpecError:
        return
    again = keraspec.loads(keraspec.dumps(spec))
    assert again == spec
    assert keraspec.dumps(again) == keraspec.dumps(spec)


# Generated specs, their mutations, and mutations of the hostile corpus (tests/hostile/).

HOSTILE = sorted((Path(__file__).parent / "hostile").glob("*.yaml"))
HOSTILE_BYTES = [p.read_bytes() for p in HOSTILE]
# What hostile YAML is made of: anchors, aliases, tags, merges, flow and block syntax,
# the YAML 1.1 traps, control characters, a BOM, a NUL, a second document.
FRAGMENTS = [
    "&a ", "*a", "<<: *a", "!!python/object/apply:os.system [id]", "!!python/name:os.system",
    "!keras ", "{", "}", "[", "]", ": ", "- ", ", ", "\n", "\n  ", "\t", "#", "'", '"',
    "? ", "|\n  ", ">-\n  ", "---\n", "...\n", "%YAML 1.1\n", "no", "on", "0755", "1:30",
    "1_000", "0x1F", ".inf", "~", "\x00", "\ufeff", "\u2028", "\x1b", "\\", "${", "}",
    "repeat: 10000", "use: ../x.yaml#b", "type: Lambda", "vocabulary: /etc/passwd",
    "units: 50000000", "shape: [100000, 100000, 100000]",
]  # fmt: skip


def assert_located(found: list[Diagnostic]) -> None:
    for d in found:
        assert isinstance(d, Diagnostic), d
        assert d.file and d.line >= 1 and d.column >= 1, d


def load_or_fail_located(path: Path) -> None:
    """validate answers with located diagnostics; load returns a spec that round-trips
    through dumps, or raises SpecError with located diagnostics; nothing else."""
    assert_located(keraspec.validate(path))
    try:
        spec = keraspec.load(path)
    except keraspec.SpecError as e:
        assert e.diagnostics
        assert_located(e.diagnostics)
        return
    assert keraspec.loads(keraspec.dumps(spec)) == spec


def check_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_bytes(data)
        load_or_fail_located(path)


@st.composite
def edited(draw, texts: st.SearchStrategy[str]) -> str:
    """A text with 1 to 4 edits: a span deleted, or a hostile fragment inserted."""
    text = draw(texts)
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 12)))
        fragment = draw(st.sampled_from(FRAGMENTS) | st.text(max_size=4))
        text = text[:start] + draw(st.sampled_from(["", fragment])) + text[end:]
    return text


@st.composite
def mutated_dags(draw) -> str:
    data = yaml.safe_load(draw(dag_specs())[0])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(data))))
        data = mutate(data, path, draw(values), draw(st.booleans()))
    return yaml.safe_dump(data, sort_keys=False)


@examples(100)
@given(dag_specs())
def test_generated_specs_validate_and_round_trip(case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(case[0], encoding="utf-8")
        assert keraspec.validate(path) == []
        spec = keraspec.load(path)
    assert keraspec.loads(keraspec.dumps(spec)) == spec


@examples(150)
@given(mutated_dags() | edited(dag_specs().map(lambda case: case[0])))
def test_mutated_generated_specs_load_or_fail_located(text: str) -> None:
    check_bytes(text.encode("utf-8"))


@examples(150)
@given(edited(st.sampled_from(HOSTILE_BYTES).map(lambda b: b.decode("utf-8", "replace"))))
def test_edited_hostile_specs_fail_located(text: str) -> None:
    check_bytes(text.encode("utf-8"))


@examples(100)
@given(
    st.sampled_from(HOSTILE_BYTES),
    st.lists(st.tuples(st.integers(0, 1 << 16), st.binary(max_size=3)), min_size=1, max_size=4),
)
def test_hostile_specs_with_random_bytes_fail_located(data: bytes, edits) -> None:
    for position, replacement in edits:
        at = position % (len(data) + 1)
        data = data[:at] + replacement + data[at + len(replacement) :]
    check_bytes(data)
