"""Custom layer classes a project registers; a spec may name these and nothing else.

Two ways in, both chosen by whoever runs keraspec, never by the spec itself:

- an installed package declares entry points in the group ``keraspec.layers``
  (``LayerScale = mypkg.layers:LayerScale``); a spec then writes ``type: LayerScale``;
- ``--allow-module mypkg.layers`` (``allow_modules=[...]``) lets a spec name that
  module's classes by their full name: ``type: mypkg.layers.LayerScale``.

Checking a spec imports nothing: names are matched against entry-point metadata and
the allowlist. Only building imports a class's module, and only a registered one.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from typing import Any

from . import catalog
from .ir import CustomLayer

ENTRY_POINT_GROUP = "keraspec.layers"
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
CLASS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_module_name(name: str) -> str:
    """An ``--allow-module`` value: an absolute, dotted module name."""
    if not MODULE_NAME.fullmatch(name):
        raise ValueError(f"`{name}` is not a module name (e.g. mypkg.layers)")
    return name


@dataclass(frozen=True)
class Registry:
    """The custom layer classes a spec may name. Keras's own classes are not in it."""

    allow_modules: tuple[str, ...] = ()

    @classmethod
    def allowing(cls, modules: Iterable[str] = ()) -> Registry:
        return cls(tuple(dict.fromkeys(check_module_name(m) for m in modules)))

    @cached_property
    def entry_points(self) -> dict[str, CustomLayer]:
        """Registered by installed packages; read on first use (the metadata scan costs).

        A Keras class name always means the Keras class: such entry points are ignored.
        """
        found: dict[str, CustomLayer] = {}
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            module, _, attribute = ep.value.partition(":")
            usable = CLASS_NAME.fullmatch(ep.name) and CLASS_NAME.fullmatch(attribute.strip())
            usable = usable and MODULE_NAME.fullmatch(module.strip())
            if usable and ep.name not in catalog.classes("layers") and ep.name not in found:
                origin = f"entry point `{ep.name}` in group `{ENTRY_POINT_GROUP}`"
                found[ep.name] = CustomLayer(ep.name, module.strip(), attribute.strip(), origin)
        return found

    def lookup(self, type_: str) -> CustomLayer | None:
        """The registered class a spec's ``type`` names, or None."""
        module, dot, attribute = type_.rpartition(".")
        if not dot:
            return self.entry_points.get(type_) if CLASS_NAME.fullmatch(type_) else None
        if module in self.allow_modules and CLASS_NAME.fullmatch(attribute):
            return CustomLayer(type_, module, attribute, f"--allow-module {module}")
        return None

    def type_of(self, cls: type) -> str | None:
        """How a spec names ``cls`` (for import), or None when it is not registered."""
        module, name = cls.__module__, cls.__qualname__
        if module in self.allow_modules and CLASS_NAME.fullmatch(name):
            return f"{module}.{name}"
        for layer in self.entry_points.values():
            if (layer.module, layer.attribute) == (module, name):
                return layer.type
        return None

    def hint(self, type_: str) -> str:
        """What to do about an unknown dotted type. It does not name the module: a spec
        must not talk its reader into allowing `os`."""
        if MODULE_NAME.fullmatch(type_.rpartition(".")[0]):
            return (
                "a custom layer class must be registered: `--allow-module MODULE` lets a spec "
                f"name MODULE.Class, and packages register classes in group `{ENTRY_POINT_GROUP}`"
            )
        return ""


def load_class(layer: CustomLayer) -> Any:
    """Import a registered class's module and return the class (the only import a spec causes)."""
    module = importlib.import_module(layer.module)
    cls = getattr(module, layer.attribute, None)
    if cls is None:
        raise ImportError(f"module `{layer.module}` has no `{layer.attribute}` ({layer.origin})")
    return cls
