"""Whatever Keras rejects at build time is reported at the spec line that caused it (E400).

Static inference finds shape errors before a build (E600); Keras finds what no
static rule covers, simulated here by taking a rule away.
"""

from __future__ import annotations

import pytest

import keraspec
from keraspec import SpecError
from keraspec.shapes import LAYER_RULES, OP_RULES

pytestmark = pytest.mark.keras

HEAD = "keraspec: 1\nname: m\ninputs:\n  x: {shape: [4]}\n"


def build_error(text: str) -> str:
    spec = keraspec.loads(text, source="b.yaml")
    assert [d for d in keraspec.validate(spec) if d.is_error] == []
    with pytest.raises(SpecError) as info:
        keraspec.build(spec)
    (d,) = info.value.diagnostics
    return f"{d.line}:{d.column} {d.code} {d.message}"


def test_shared_layer_constructor_error_points_at_the_shared_layer() -> None:
    text = HEAD + (
        "layers:\n  bad: {type: Dense, units: 2, dtype: float33}\n"
        "nodes:\n  h: {layer: bad, inputs: x}\noutputs: [h]\n"
    )
    assert build_error(text).startswith("6:3 E400 Keras rejected shared layer `bad`: ")


def test_sub_model_error_points_at_its_node(monkeypatch) -> None:
    monkeypatch.delitem(LAYER_RULES, "Dense")  # static inference cannot see `s`'s input
    text = HEAD + (
        "models:\n  sub:\n    inputs: {i: {shape: [3]}}\n"
        "    nodes:\n      o: {type: Dense, units: 2, inputs: i}\n    outputs: [o]\n"
        "nodes:\n  h: {type: Dense, units: 4, inputs: x}\n  s: {model: sub, inputs: h}\n"
        "outputs: [s]\n"
    )
    assert build_error(text) == (
        "13:3 E400 Keras rejected node `s`: ValueError: Input 0 with name 'i' of layer 'sub'"
        " is incompatible with the layer: expected shape=(None, 3), found shape=(None, 4)"
    )


def test_output_index_beyond_what_keras_returns_points_at_the_output(monkeypatch) -> None:
    monkeypatch.delitem(OP_RULES, "unstack")  # statically it is an E600 (tests/test_shapes.py)
    text = HEAD + 'nodes:\n  u: {op: unstack, inputs: x, axis: 1}\noutputs: ["u[7]"]\n'
    assert build_error(text) == (
        "7:11 E400 Keras rejected output `u[7]`: IndexError: list index out of range"
    )


def test_compile_error_points_at_compile() -> None:
    text = HEAD + (
        "nodes:\n  d: {type: Dense, units: 1, inputs: x}\noutputs: [d]\n"
        "compile:\n  optimizer: {type: Adam, learning_rate: fast}\n  loss: mse\n"
    )
    assert build_error(text).startswith(
        "8:1 E400 Keras rejected `compile`: ValueError: Argument `learning_rate` should be float"
    )
