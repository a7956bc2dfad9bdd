"""keraspec: compile declarative YAML model specs into Keras 3 functional models.

Pipeline (one module per stage, imports in one direction):
``loader`` (YAML → located data) → ``expand`` (params, repeat, blocks, includes) →
``parse``/``schema`` (Pydantic) →
``catalog_check`` + ``graph`` (checks, topological order, ``ir``) → ``shapes``
(static inference) → ``emit``.
"""

from .api import build, dumps, from_keras, infer, load, loads, lower, to_python, validate
from .diagnostics import Diagnostic, Note, Severity, SpecError
from .schema import Spec

__version__ = "0.1.0"

__all__ = [
    "Diagnostic",
    "Note",
    "Severity",
    "Spec",
    "SpecError",
    "build",
    "dumps",
    "from_keras",
    "infer",
    "load",
    "loads",
    "lower",
    "to_python",
    "validate",
]
