"""Every example spec infers statically what Keras builds: shapes, dtypes, parameters.

The issue's "done when": each spec in ``specs/`` (applications included, with the
size variants their docs show) and each valid test case gets, node by node, the
output shapes and parameter counts Keras reports once the model is built.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import keraspec
from shape_oracle import assert_same_as_keras

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").rglob("*.yaml"))
CASES = sorted((ROOT / "tests" / "cases" / "valid").glob("*.yaml"))
VARIANTS = [
    ("mobilenet_v2.yaml", {"alpha": 0.35}),
    ("resnet50.yaml", {"depths": [2, 2, 2, 2]}),
]

pytestmark = pytest.mark.keras


@pytest.mark.parametrize("path", SPECS + CASES, ids=lambda p: str(p.relative_to(ROOT)))
def test_static_inference_equals_keras(path: Path) -> None:
    spec = keraspec.load(path)
    inference = assert_same_as_keras(spec)
    assert inference.unchecked == [], "every node of the examples has a rule"
    assert inference.main.params is not None


@pytest.mark.parametrize(("name", "params"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_static_inference_equals_keras_for_variants(name: str, params: dict) -> None:
    spec = keraspec.load(ROOT / "specs" / "applications" / name, params=params)
    assert assert_same_as_keras(spec).unchecked == []
