"""The shipped catalog is what the installed Keras says; validation reads only the catalog."""

from __future__ import annotations

import json

import pytest

from keraspec import catalog
from keraspec.catalog.generate import CATALOG_PATH, build_catalog, render


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
    assert lstm["units"] == {"required": True}
    assert "cell" not in lstm
    assert catalog.layer_args("Dense")["trainable"] == {"default": True}


def test_object_kinds_by_argument_name() -> None:
    assert catalog.object_kind("kernel_initializer") == "initializers"
    assert catalog.object_kind("activity_regularizer") == "regularizers"
    assert catalog.object_kind("bias_constraint") == "constraints"
    assert catalog.object_kind("backward_layer") == "layers"
    assert catalog.object_kind("units") is None
