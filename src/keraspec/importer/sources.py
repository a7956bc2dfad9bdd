"""An import's SOURCE → a ``keras.Model``: a ``.keras`` file or a ``keras.applications`` name.

Nothing else is accepted: a file is loaded with ``safe_mode=True`` (no code in it
runs), and an application name must be one of ``keras.applications``'s model
constructors, built with ``weights=None`` so nothing is downloaded.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cache
from pathlib import Path
from typing import Any

import keras

from ..custom_layers import Registry, load_class
from ..diagnostics import did_you_mean
from .errors import UNKNOWN_APPLICATION, UNREADABLE, fail

APPLICATIONS_PREFIX = "keras.applications."
LOAD_HINT = (
    "keraspec loads .keras files with safe_mode=True: a Lambda layer cannot be imported, "
    "nor a custom class unless it is registered (--allow-module MODULE, or an entry point)"
)


def load_source(source: str, registry: Registry | None = None) -> keras.Model:
    """The model ``source`` names; ``SpecError`` (E700, E701) says why there is none.

    A ``.keras`` file may hold the custom layer classes ``registry`` knows: they are
    given to Keras by name, so that it can make them again.
    """
    if source.endswith(".keras") or Path(source).exists():
        return load_keras_file(Path(source), registry or Registry())
    return build_application(source)


def registered_classes(registry: Registry) -> dict[str, Any]:
    """The registered custom layer classes by class name (importing their modules)."""
    found = {layer.attribute: load_class(layer) for layer in registry.entry_points.values()}
    for name in registry.allow_modules:
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            layer = isinstance(value, type) and issubclass(value, keras.layers.Layer)
            if layer and value.__module__ == name:  # not the classes it imports
                found[attribute] = value
    return found


def load_keras_file(path: Path, registry: Registry) -> keras.Model:
    source = str(path)
    if not path.exists():
        raise fail(source, UNREADABLE, f"no such file: `{source}`")
    if not path.is_file() or path.suffix != ".keras":
        raise fail(
            source,
            UNREADABLE,
            f"`{source}` is not a .keras file",
            "keraspec imports Keras 3 .keras archives or keras.applications models",
        )
    try:
        custom = registered_classes(registry)
        return keras.saving.load_model(path, custom, compile=False, safe_mode=True)
    except Exception as e:  # a damaged zip, a missing class, unsafe content: Keras says which
        text = " ".join(str(e).split())
        if len(text) > 600:
            text = text[:597] + "..."
        message = f"cannot load `{source}`: {type(e).__name__}: {text}"
        raise fail(source, UNREADABLE, message, LOAD_HINT) from e


def build_application(source: str) -> keras.Model:
    name = source.removeprefix(APPLICATIONS_PREFIX)
    if name not in applications():
        hint = did_you_mean(name, applications()) or (
            "give a .keras file or a keras.applications model such as keras.applications.ResNet50"
        )
        message = f"`{source}` is neither a .keras file nor a keras.applications model"
        raise fail(source, UNKNOWN_APPLICATION, message, hint)
    return getattr(keras.applications, name)(weights=None)


@cache
def applications() -> tuple[str, ...]:
    """The model constructors of ``keras.applications`` (they all take ``weights``)."""
    return tuple(
        name
        for name, value in vars(keras.applications).items()
        if inspect.isfunction(value) and {"weights", "include_top"} <= _parameters(value)
    )


def _parameters(function: object) -> set[str]:
    return set(inspect.signature(function).parameters)
