"""What Keras offers, as data: layer classes, ops, initializers, losses ... and their arguments.

The JSON file beside this module is generated from the installed Keras by
``python -m keraspec.catalog.generate``; a test fails when the two drift apart.
Reading it never imports Keras, so validation stays fast and TensorFlow-free.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

# Layers a spec may never name: they run arbitrary code, read files, wrap other
# frameworks, or are abstract bases / functional-API plumbing rather than layers.
DENIED_LAYERS = frozenset(
    {
        "Lambda",
        "Layer",
        "Input",
        "InputLayer",
        "InputSpec",
        "Wrapper",
        "FlaxLayer",
        "JaxLayer",
        "TorchModuleWrapper",
        "TFSMLayer",
        "Pipeline",
    }
)

# Argument names that take a nested object of a given kind, by suffix or exact name.
OBJECT_KINDS = (
    ("_initializer", "initializers"),
    ("_regularizer", "regularizers"),
    ("_constraint", "constraints"),
)
LAYER_ARGS = frozenset({"layer", "backward_layer", "cell", "cells"})


@cache
def catalog() -> dict[str, Any]:
    text = files(__name__).joinpath("keras_catalog.json").read_text(encoding="utf-8")
    return json.loads(text)


def layer_names() -> list[str]:
    return list(catalog()["layers"])


def layer_args(layer_type: str) -> dict[str, Any]:
    return catalog()["layers"][layer_type]["args"]


def layer_call_args(layer_type: str) -> dict[str, Any]:
    return catalog()["layers"][layer_type]["call"]


def op_args(op: str) -> dict[str, Any]:
    return catalog()["ops"][op]["args"]


@cache  # asked for every argument of every node; there are a few hundred names
def object_kind(arg_name: str) -> str | None:
    """Which catalog section a layer argument's ``{type: ...}`` value comes from."""
    if arg_name in LAYER_ARGS:
        return "layers"
    for suffix, kind in OBJECT_KINDS:
        if arg_name.endswith(suffix):
            return kind
    return None


def classes(kind: str) -> dict[str, Any]:
    """Classes of one kind (``layers``, ``initializers``, ``losses`` ...) by name."""
    return catalog()[kind]


def string_names(kind: str) -> list[str]:
    """Lower-case names Keras resolves for a kind (``glorot_uniform``, ``mse`` ...)."""
    if kind == "activations":
        return catalog()["activations"]
    return catalog()["names"][kind]
