"""The shipped catalog is what the installed Keras says; validation reads only the catalog."""

from __future__ import annotations

import json

import pytest

from keraspec import catalog
from keraspec.catalog.generate import CATALOG_PATH, _type_of, build_catalog, render


@pytest.mark.keras
def test_shipped_catalog_matches_installed_keras() -> None:
    fresh = render(build_catalog())
    shipped = CATALOG_PATH.read_text(encoding="utf-8")
    assert json.loads(shipped)["keras_version"] == json.loads(fresh)["keras_version"]
    assert shipped == fresh, "run `make catalog` and commit src/keraspec/catalog/keras_catalog.json"


def test_dangerous_layers_are_not_in_the_catalog() -> None:
    for name in ("Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "Layer"):
        assert name not in catalog.classes("layers")


def test_inherited_required_arguments_are_not_required() -> None:
    lstm = catalog.layer_args("LSTM")
    assert lstm["units"] == {"required": True, "type": "int", "min": 1}
    assert "cell" not in lstm
    assert catalog.layer_args("Dense")["trainable"] == {"default": True}


def test_object_kinds_by_argument_name() -> None:
    assert catalog.object_kind("kernel_initializer") == "initializers"
    assert catalog.object_kind("activity_regularizer") == "regularizers"
    assert catalog.object_kind("bias_constraint") == "constraints"
    assert catalog.object_kind("backward_layer") == "layers"
    assert catalog.object_kind("units") is None


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("Positive integer, dimensionality of the output space.", {"type": "int", "min": 1}),
        ("int or tuple/list of 2 integer, specifying the size", {"type": "ints"}),
        ("Integer or List/Tuple. The axis or axes to normalize across.", {"type": "ints"}),
        ("Float between 0 and 1. Fraction of the input units to drop.", {"type": "float"}),
        ("Boolean (default `False`). Whether to return the last state", {"type": "bool"}),
        (
            'string, either `"valid"` or `"same"` (case-insensitive).',
            {"type": "str", "choices": ["valid", "same"]},
        ),
        (
            'A string, one of `"channels_last"` (default) or `"channels_first"`.',
            {"type": "str", "choices": ["channels_last", "channels_first"]},
        ),
        # Vaguer entries get no type, so nothing valid is ever refused:
        ("Int, or tuple of 2 ints, or tuple of 2 tuples of 2 ints.", None),
        ("Axis or axes along which the means are computed.", None),
        ("Activation function. If `None`, no activation is applied.", None),
        ("1D integer tensor representing the shape of the binary dropout mask", None),
    ],
)
def test_argument_types_are_read_from_what_a_docstring_states_plainly(doc, expected) -> None:
    assert _type_of(doc) == expected


def test_the_catalog_records_types_where_keras_states_them() -> None:
    conv = catalog.layer_args("Conv2D")
    assert conv["padding"] == {"default": "valid", "type": "str", "choices": ["valid", "same"]}
    assert conv["kernel_size"] == {"required": True, "type": "ints"}
    assert conv["data_format"]["choices"] == ["channels_last", "channels_first"]
    assert catalog.layer_args("Dropout")["rate"] == {"required": True, "type": "float"}
    assert "type" not in catalog.layer_args("Dense")["activation"]  # a name or a callable
    assert "type" not in catalog.layer_args("Rescaling")["scale"]  # "Float", lists work too
