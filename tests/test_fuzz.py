"""Whatever a spec file holds, validate answers with diagnostics, never an exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keraspec
from keraspec import Diagnostic
from shape_oracle import assert_same_as_keras

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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_validate_never_raises_on_arbitrary_text(text: str) -> None:
    found = validate_text(text)
    # no text of 200 characters is a whole valid spec: there is always an error, located
    assert any(d.is_error for d in found)
    assert all(d.line >= 1 and d.column >= 1 and d.file.endswith("fuzz.yaml") for d in found)


@settings(max_examples=100, deadline=None)
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


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_whatever_loads_round_trips_through_dumps(text: str) -> None:
    try:
        spec = keraspec.loads(text)
    except keraspec.SpecError:
        return
    again = keraspec.loads(keraspec.dumps(spec))
    assert again == spec
    assert keraspec.dumps(again) == keraspec.dumps(spec)
