"""Import diagnostics (E700–E709): what keraspec cannot read or cannot express in a spec.

An import has no spec lines to point at, so a diagnostic is about the whole source
(line 0), and its message names the layer it concerns.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, Severity, SpecError

UNREADABLE = "E700"  # the source is not a readable .keras file
UNKNOWN_APPLICATION = "E701"  # not a keras.applications constructor
CUSTOM_LAYER = "E702"  # a layer class outside keras.layers, not mapped by custom_layers
CODE_LAYER = "E703"  # Lambda, TFSMLayer ...: layers a spec may never name
UNKNOWN_OP = "E704"  # an operation that is not an allowed keras.ops function
UNWRITABLE_ARGUMENT = "E705"  # an argument value that has no spec form
BAD_NAME = "E706"  # a Keras name that cannot be a spec name
UNSUPPORTED_GRAPH = "E707"  # a model or input the spec format cannot describe


def import_error(source: str, code: str, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, source, 0, 0, hint)


def fail(source: str, code: str, message: str, hint: str | None = None) -> SpecError:
    """A ``SpecError`` with one import diagnostic, to ``raise``."""
    return SpecError([import_error(source, code, message, hint)])
