"""A layer's Keras config → the constructor arguments a spec writes: only what differs.

An argument is left out when a layer built without it has the same config value
(so derived values, such as MultiHeadAttention's ``value_dim``, go too), and the
result is checked: the layer rebuilt from the kept arguments must have the
original config, or the differing arguments are put back. Nested Keras objects
become the spec's compact forms (``he_normal``, ``{type: L2, l2: 0.0001}``), and
each compact form is kept only when Keras reads it back as the same object.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Callable
from functools import cache
from typing import Any

import keras

from .. import catalog
from .errors import CUSTOM_LAYER, UNWRITABLE_ARGUMENT, fail

OBJECT_MODULES = {
    "initializers": keras.initializers,
    "regularizers": keras.regularizers,
    "constraints": keras.constraints,
}
ACTIVATION_ARGS = ("activation", "recurrent_activation")
DEFAULT_DTYPE = "float32"
# The spec ``type`` of a layer class (``who`` names the layer in errors): see keras_model.py.
TypeNamer = Callable[[type, str], str]


class Unwritable(ValueError):
    """A config value with no YAML form: a mapping, an array, a function."""


class ArgumentWriter:
    """Writes constructor arguments for the layers of one model; ``source`` names it in errors."""

    def __init__(self, source: str, type_name: TypeNamer):
        self.source = source
        self.type_name = type_name

    def layer_arguments(self, cls: type, config: dict[str, Any], who: str) -> dict[str, Any]:
        """The arguments that rebuild ``config`` (a ``get_config()``), in spec form."""
        kept = differing_arguments(cls, config)
        return {key: self.spec_value(cls, config, key, who) for key in kept}

    def spec_value(self, cls: type, config: dict[str, Any], key: str, who: str) -> Any:
        value = config[key]
        kind = catalog.object_kind(key)
        if kind == "layers" and isinstance(value, list):  # RNN cells
            return [self.nested_layer(v, f"{who}, `{key}`") for v in value]
        if kind == "layers" and isinstance(value, dict):
            return self.nested_layer(value, f"{who}, `{key}`")
        if kind in OBJECT_MODULES and isinstance(value, dict):
            return self.keras_object(kind, value, f"{who}, `{key}`")
        if key == "dtype" and isinstance(value, dict):
            return policy_name(value)
        if key in ACTIVATION_ARGS and value not in catalog.string_names("activations"):
            raise self.unwritable(who, key, value, "it is not a Keras activation name")
        try:
            return compact(cls, config, key, plain(value))
        except Unwritable:
            raise self.unwritable(who, key, value) from None

    def nested_layer(self, serialized: dict[str, Any], who: str) -> dict[str, Any]:
        """A wrapped layer (``Bidirectional``'s ``layer``) as ``{type: LSTM, units: 64, ...}``."""
        class_name = serialized["class_name"]
        registered = serialized.get("registered_name") or class_name
        cls = keras.saving.get_registered_object(registered) or getattr(
            keras.layers, class_name, None
        )
        if cls is None:
            module = serialized.get("module")
            message = (
                f"{who} is a layer of class `{class_name}` ({module}), which Keras cannot find"
            )
            raise fail(self.source, CUSTOM_LAYER, message)
        config = {k: v for k, v in serialized["config"].items() if k != "name"}
        type_ = self.type_name(cls, who)
        return {"type": type_, **self.layer_arguments(cls, config, who)}

    def keras_object(self, kind: str, serialized: dict[str, Any], who: str) -> Any:
        name = serialized.get("class_name")
        if name not in catalog.classes(kind) or serialized.get("module") != f"keras.{kind}":
            raise self.unwritable(who, "", serialized, f"it is not one of keras.{kind}")
        try:
            return compact_object(kind, name, serialized.get("config") or {})
        except Unwritable:
            raise self.unwritable(who, "", serialized) from None

    def unwritable(self, who: str, key: str, value: Any, why: str = "") -> Exception:
        what = f"{who}: argument `{key}`" if key else who
        reason = why or "a spec writes numbers, strings, booleans and lists"
        text = _short(value)
        return fail(
            self.source,
            UNWRITABLE_ARGUMENT,
            f"{what} has a value a spec cannot write: {text} ({reason})",
        )


def differing_arguments(cls: type, config: dict[str, Any]) -> list[str]:
    """Keys of ``config`` that a layer built without them would not reproduce."""
    required = required_arguments(cls)
    reference = reference_config(cls, config)
    kept = [k for k in config if k in required or (k != "name" and not _same(k, reference, config))]
    rebuilt = rebuilt_config(cls, config, kept)
    if rebuilt is None:  # the class cannot be rebuilt from arguments alone: keep them all
        return [k for k in config if k != "name" and not _is_noise(k, config[k])]
    missing = [k for k in config if k not in kept and k != "name" and not _same(k, rebuilt, config)]
    return [k for k in config if k in kept or k in missing]


def _same(key: str, reference: dict[str, Any] | None, config: dict[str, Any]) -> bool:
    if _is_noise(key, config[key]):
        return True
    if reference is None or key not in reference:
        return False
    if catalog.object_kind(key) == "layers":  # a wrapped layer: its name is not written
        return unnamed(reference[key]) == unnamed(config[key])
    return plain_tuples(reference[key]) == plain_tuples(config[key])


def _is_noise(key: str, value: Any) -> bool:
    """Base-layer settings every layer has at their defaults: trainable, float32 policy."""
    if key == "trainable":
        return value is True
    return key == "dtype" and policy_name(value) == DEFAULT_DTYPE


def policy_name(value: Any) -> Any:
    if isinstance(value, dict) and value.get("class_name") == "DTypePolicy":
        return value.get("config", {}).get("name")
    return value


def unnamed(value: Any) -> Any:
    """Serialized layers without their names and build configs (a spec gives neither)."""
    if isinstance(value, dict) and isinstance(value.get("config"), dict):
        config = {k: plain_tuples(v) for k, v in value["config"].items() if k != "name"}
        return {**value, "config": config, "build_config": None}
    if isinstance(value, (list, tuple)):  # RNN cells
        return [unnamed(v) for v in value]
    return plain_tuples(value)


def plain_tuples(value: Any) -> Any:
    """``(3, 3)`` and ``[3, 3]`` compare equal: a config may hold either."""
    if isinstance(value, dict):
        return {k: plain_tuples(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_tuples(v) for v in value]
    return value


def reference_config(cls: type, config: dict[str, Any]) -> dict[str, Any] | None:
    """The config of ``cls`` built with only its required arguments (None if it cannot be)."""
    return rebuilt_config(cls, config, [k for k in required_arguments(cls) if k in config])


def rebuilt_config(cls: type, config: dict[str, Any], keys: list[str]) -> dict[str, Any] | None:
    """The config of ``cls`` built from the ``keys`` of ``config`` (None if it cannot be)."""
    arguments = {k: config[k] for k in keys}
    try:
        key = json.dumps(arguments, sort_keys=True)
    except TypeError:  # values JSON cannot hold (arrays): built every time
        return _built_config(cls, arguments)
    return _cached_config(cls, key)


@cache
def _cached_config(cls: type, arguments: str) -> dict[str, Any] | None:
    # An application repeats the same layers many times: each is built once.
    return _built_config(cls, json.loads(arguments))


def _built_config(cls: type, arguments: dict[str, Any]) -> dict[str, Any] | None:
    try:
        config = cls.from_config(copy.deepcopy(arguments)).get_config()
    except Exception:  # a class that cannot be built from these arguments alone
        return None
    return {k: v for k, v in config.items() if k != "name"}  # unnamed, Keras makes one up


@cache
def required_arguments(cls: type) -> tuple[str, ...]:
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(p.name for p in parameters if p.default is p.empty and p.kind in named)


def plain(value: Any) -> Any:
    """A config value as YAML data: tuples become lists; anything else is ``Unwritable``."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise Unwritable(value)


def compact(cls: type, config: dict[str, Any], key: str, value: Any) -> Any:
    """``3`` for ``[3, 3]`` (or ``[[3, 3], [3, 3]]``) when the layer reads it the same."""
    leaves = _leaves(value)
    if not isinstance(value, list) or not leaves or len(set(map(repr, leaves))) != 1:
        return value
    if isinstance(leaves[0], bool) or not isinstance(leaves[0], int):
        return value
    keys = [k for k in config if k != "name"]
    original = rebuilt_config(cls, config, keys)
    shorter = rebuilt_config(cls, {**config, key: leaves[0]}, keys)
    return leaves[0] if original is not None and shorter == original else value


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def compact_object(kind: str, class_name: str, config: dict[str, Any]) -> Any:
    """An initializer, regularizer or constraint: a Keras name, or ``{type: ..., args}``."""
    defaults = _default_object_config(kind, class_name)
    args = {k: plain(v) for k, v in config.items() if defaults.get(k, _MISSING) != v}
    if _object_config(kind, class_name, args) != plain_tuples(config):  # a dependent default
        args = {k: plain(v) for k, v in config.items()}
    if not args and (name := short_names(kind).get(class_name)) is not None:
        return name
    return {"type": class_name, **args}


def _object_config(kind: str, class_name: str, args: dict[str, Any]) -> Any:
    try:
        return plain_tuples(getattr(OBJECT_MODULES[kind], class_name)(**args).get_config())
    except Exception:
        return None


_MISSING = object()


@cache
def _default_object_config(kind: str, class_name: str) -> dict[str, Any]:
    try:
        return getattr(OBJECT_MODULES[kind], class_name)().get_config()
    except Exception:  # a class with required arguments: nothing is a default
        return {}


@cache
def short_names(kind: str) -> dict[str, str]:
    """Class name → the Keras name that gives that class with its default config."""
    found: dict[str, str] = {}
    for name in catalog.string_names(kind):
        try:
            obj = OBJECT_MODULES[kind].get(name)
        except Exception:  # a name Keras cannot make without arguments (`constant`)
            continue
        class_name = type(obj).__name__
        if class_name not in found and obj.get_config() == _default_object_config(kind, class_name):
            found[class_name] = name
    return found


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
