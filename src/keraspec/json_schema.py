"""A JSON Schema of the spec format for editors, with each layer's arguments from the catalog.

With it, an editor's YAML support (VS Code's YAML extension, any JSON-Schema-aware
editor) completes ``units`` after ``type: Dense`` and flags ``unitz``. Each layer
type and op is a draft-07 ``if``/``then``: when ``type`` is that class, the node
may hold exactly the node keys and that class's constructor arguments.

The schema is for editing; ``keraspec validate`` remains the judge (references,
the graph, values inside ``${...}``).
"""

from __future__ import annotations

from typing import Any

from .catalog import DENIED_LAYERS, catalog
from .schema import NAME_PATTERN, STRATEGIES

SCHEMA_URI = "http://json-schema.org/draft-07/schema#"
NAME = {"type": "string", "pattern": f"^{NAME_PATTERN.pattern}$"}
TEXT_OR_EXPRESSION = {"type": "string"}
EXPRESSION = {"type": "string", "pattern": "\\$\\{"}


def _one_of(values: list[Any], description: str | None = None) -> dict[str, Any]:
    """One of ``values``, or a ``${...}`` expression that evaluates to one."""
    found: dict[str, Any] = {"anyOf": [{"enum": values}, EXPRESSION]}
    if description:
        found["description"] = description
    return found


REFERENCES = {
    "description": "a reference (`name`, `name[1]`), a list of them, or keyword inputs",
    "anyOf": [
        {"type": "string"},
        {"type": "array"},
        {"type": "object"},
        {"type": "number"},
    ],
}
NODE_KEYS: dict[str, Any] = {
    "inputs": REFERENCES,
    "call": {"type": "object", "description": "call arguments that are not tensors"},
    "repeat": {
        "description": "make N chained copies `<id>_1 … <id>_N`",
        "anyOf": [{"type": "integer", "minimum": 0}, TEXT_OR_EXPRESSION],
    },
    "when": {
        "description": "keep the node (true) or drop it (false)",
        "anyOf": [{"type": "boolean"}, TEXT_OR_EXPRESSION],
    },
}
BLOCK_USE_KEYS: dict[str, Any] = {
    "block": {"type": "string", "description": "the block to use"},
    "with": {"type": "object", "description": "the block's parameters"},
    "prefix": {"type": "string", "description": "names the block's nodes `<prefix>_<id>`"},
}


def editor_schema() -> dict[str, Any]:
    """The whole schema: the top level, nodes, layers, sub-models, blocks, compile."""
    data = catalog()
    layers = {name: entry for name, entry in data["layers"].items() if name not in DENIED_LAYERS}
    ops = data["ops"]
    return {
        "$schema": SCHEMA_URI,
        "title": "keraspec model spec",
        "description": "A Keras functional model as YAML; see docs/spec-format.md.",
        "type": "object",
        # A file without `keraspec:` is a block library (docs/composition.md).
        "if": {"required": ["keraspec"]},
        "then": {"$ref": "#/definitions/spec"},
        "else": {"$ref": "#/definitions/library"},
        "definitions": {
            "spec": _spec(),
            "library": _library(),
            "input": _input(data["dtypes"]),
            "node": _node(layers, ops),
            "layer": _layer(layers),
            "model": _model(),
            "block": _block(),
            "outputs": {"anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object"}]},
            "compile": _compile(),
        },
    }


def _spec() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["keraspec", "name", "inputs", "outputs"],
        "additionalProperties": False,
        "properties": {
            "keraspec": {"const": 1, "description": "format version"},
            "name": NAME,
            "description": {"type": "string"},
            "params": {"type": "object", "description": "parameters for `${...}`"},
            "blocks": {"type": "object", "additionalProperties": {"$ref": "#/definitions/block"}},
            "inputs": {"type": "object", "additionalProperties": {"$ref": "#/definitions/input"}},
            "layers": {"type": "object", "additionalProperties": {"$ref": "#/definitions/layer"}},
            "models": {"type": "object", "additionalProperties": {"$ref": "#/definitions/model"}},
            "nodes": {"type": "object", "additionalProperties": {"$ref": "#/definitions/node"}},
            "outputs": {"$ref": "#/definitions/outputs"},
            "compile": {"type": "object", "$ref": "#/definitions/compile"},
            "fit": _fit(sorted(catalog()["callbacks"])),
            "distribute": _distribute(),
        },
    }


def _library() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "description": {"type": "string"},
            "params": {"type": "object"},
            "blocks": {"type": "object", "additionalProperties": {"$ref": "#/definitions/block"}},
            "models": {"type": "object", "additionalProperties": {"$ref": "#/definitions/model"}},
        },
    }


def _input(dtypes: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["shape"],
        "additionalProperties": False,
        "properties": {
            "shape": {"type": ["array", "string"], "description": "dimensions; null is variable"},
            "dtype": _one_of(sorted(dtypes)),
            "batch_size": {"type": ["integer", "string"]},
            "sparse": {"type": "boolean"},
        },
    }


def _node(layers: dict[str, Any], ops: dict[str, Any]) -> dict[str, Any]:
    """A node: one of `type`, `layer`, `model`, `op`, `block`, and what that one allows."""
    keys = {**NODE_KEYS, **BLOCK_USE_KEYS}
    return {
        "type": "object",
        "properties": {
            "type": _one_of(sorted(layers), "a Keras layer class"),
            "layer": {
                "type": ["string", "object"],
                "description": "a shared layer under `layers:` (or, on `type: Bidirectional`"
                " and other wrappers, the layer it wraps)",
            },
            "model": {"type": "string", "description": "a sub-model under `models:`"},
            "op": _one_of(sorted(ops), "a keras.ops function"),
            **keys,
        },
        "allOf": [
            *(_when_is("type", name, entry, NODE_KEYS) for name, entry in sorted(layers.items())),
            *(_when_is("op", name, entry, NODE_KEYS) for name, entry in sorted(ops.items())),
        ],
    }


def _layer(layers: dict[str, Any]) -> dict[str, Any]:
    """A shared layer: a class and its constructor arguments, no node keys."""
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": _one_of(sorted(layers))},
        "allOf": [_when_is("type", name, entry, {}) for name, entry in sorted(layers.items())],
    }


def _when_is(key: str, name: str, entry: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``if`` the node's ``key`` is ``name`` ``then`` it holds only these keys."""
    arguments = {arg: _argument(spec) for arg, spec in entry["args"].items()}
    required = [arg for arg, spec in entry["args"].items() if spec.get("required")]
    then: dict[str, Any] = {
        "properties": {key: {}, **extra, **arguments},
        "additionalProperties": False,
    }
    if required and key == "type":  # an op's first operands usually come from `inputs`
        then["required"] = required
    return {"if": {"properties": {key: {"const": name}}, "required": [key]}, "then": then}


# Catalog argument types as JSON Schema; `null` and `${...}` are always allowed.
JSON_TYPES: dict[str, list[dict[str, Any]]] = {
    # A 1D layer's int also comes as a one-item list (arguments.TYPES).
    "int": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}, "maxItems": 1}],
    "ints": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}],
    "float": [{"type": "number"}],
    "bool": [{"type": "boolean"}],
    "str": [{"type": "string"}],
}


def _argument(spec: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"description": "required"} if spec.get("required") else {}
    default = spec.get("default")
    if not spec.get("required") and (
        isinstance(default, (str, int, float, bool)) or default is None
    ):
        found["default"] = default
    if spec.get("choices"):
        found |= _one_of([*spec["choices"], None])  # as Keras documents them
    elif (kind := spec.get("type")) is not None:
        allowed = [dict(t) for t in JSON_TYPES[kind]]
        if spec.get("min") is not None:
            allowed[0]["minimum"] = spec["min"]
        found["anyOf"] = [*allowed, {"type": "null"}, EXPRESSION]
    return found


def _model() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "use": {"type": "string", "description": "`path/to/file.yaml#model`"},
            "inputs": {"type": "object", "additionalProperties": {"$ref": "#/definitions/input"}},
            "nodes": {"type": "object", "additionalProperties": {"$ref": "#/definitions/node"}},
            "outputs": {"$ref": "#/definitions/outputs"},
        },
        "additionalProperties": False,
    }


def _block() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "use": {"type": "string", "description": "`path/to/file.yaml#block`"},
            "params": {"type": "object", "description": "`required` or a default, by name"},
            "inputs": {"type": ["string", "array"]},
            "nodes": {"type": "object", "additionalProperties": {"$ref": "#/definitions/node"}},
            "outputs": {"type": ["string", "array"]},
        },
        "additionalProperties": False,
    }


def _compile() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "optimizer": {"type": ["string", "object"]},
            "loss": {"type": ["string", "object", "array"]},
            "loss_weights": {"type": ["array", "object"]},
            "metrics": {"type": ["array", "object"]},
            "run_eagerly": {"type": "boolean"},
            "jit_compile": _one_of([True, False, "auto"]),
        },
    }


def _fit(callbacks: list[str]) -> dict[str, Any]:
    """`keraspec fit`'s settings (docs/training.md); callbacks by class name."""
    count = {"type": "integer", "minimum": 1}
    callback = _one_of(callbacks, "a Keras callback class")
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "epochs": count,
            "batch_size": {**count, "description": "global: split across replicas"},
            "validation_split": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
            "shuffle": {"type": "boolean"},
            "callbacks": {
                "type": "array",
                "items": {
                    "anyOf": [
                        callback,
                        {"type": "object", "required": ["type"], "properties": {"type": callback}},
                    ]
                },
            },
        },
    }


def _distribute() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "strategy": _one_of(list(STRATEGIES), "a tf.distribute strategy"),
            "devices": {"type": "array", "items": {"type": "string"}},
        },
    }
