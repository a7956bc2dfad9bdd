"""The Python API, chaining the stages: load → schema → checks → graph → emit.

Only ``build`` reaches the Keras emitter, and it imports it on demand, so
``load``/``validate`` never import TensorFlow or Keras.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import catalog_check, graph, shapes, training_check
from . import lower as lowering
from .custom_layers import Registry
from .diagnostics import Diagnostic, SpecError, errors_in, one_per_place, sort_key
from .dump import dumps
from .expand import check_library, expand, is_library
from .ir import Program
from .limits import DEFAULT, Limits
from .loader import load_file, load_text, paused_gc
from .parse import (
    SchemaError,
    Unresolved,
    not_already_reported,
    parse,
    parse_partial,
    parse_schema,
    require_valid,
)
from .schema import Spec

if TYPE_CHECKING:
    import keras

__all__ = [
    "build",
    "build_errors",
    "dumps",
    "infer",
    "load",
    "loads",
    "lower",
    "to_python",
    "validate",
]


Params = dict[str, Any] | None
# Modules whose layer classes a spec may name by full name (`mypkg.layers.LayerScale`),
# besides the classes installed packages register (see custom_layers).
Modules = Iterable[str]
# Warnings that an error elsewhere can cause: an input or node cut off from the
# outputs by a misspelled reference. Shown once the errors are fixed.
INSTALL_KERAS = 'pip install "keraspec[tensorflow]"'  # what a build without Keras needs
CONSEQUENTIAL = frozenset({"W320", "W321"})


class Policy(NamedTuple):
    """What whoever runs keraspec allows a spec: see docs/security.md."""

    registry: Registry = Registry()  # custom layer classes it may name
    allow_files: bool = False  # layer arguments that read files (`vocabulary: vocab.txt`)
    limits: Limits = DEFAULT  # what checking and building it may cost

    @classmethod
    def of(cls, allow_modules: Modules, allow_files: bool, limits: Limits | None) -> Policy:
        return cls(Registry.allowing(allow_modules), allow_files, limits or DEFAULT)


DEFAULT_POLICY = Policy()  # Keras's own classes only, no files, the default limits


def load(path: str | Path, params: Params = None, *, limits: Limits | None = None) -> Spec:
    """Read, expand and schema-check a spec file; raises ``SpecError`` with located diagnostics.

    ``params`` override the spec's ``params:`` defaults (see docs/composition.md).
    """
    limits = limits or DEFAULT
    return parse(expand(load_file(path, limits), params, limits))


def loads(
    text: str, source: str = "<string>", params: Params = None, *, limits: Limits | None = None
) -> Spec:
    """Like ``load``, from text; ``source`` names it in diagnostics."""
    limits = limits or DEFAULT
    return parse(expand(load_text(text, source, limits), params, limits))


def validate(
    spec_or_path: Spec | str | Path,
    params: Params = None,
    verbose: bool = False,
    *,
    allow_modules: Modules = (),
    allow_files: bool = False,
    limits: Limits | None = None,
) -> list[Diagnostic]:
    """Every error and warning in a spec, sorted by position. Never imports Keras.

    Entries with schema errors are reported and left out; the rest is still
    checked, so one run shows everything. A spec whose structure is sound gets its
    shapes inferred and checked too; ``verbose`` adds an info for each node whose
    shape no static rule covers. A block library (a file with `blocks:` and no
    `keraspec:`) gets the checks it can have on its own. ``allow_modules`` lets the
    spec name those modules' layer classes (nothing is imported to check them),
    ``allow_files`` lets layer arguments name files, and ``limits`` bounds what the
    spec may cost (docs/security.md).
    """
    # The spec check_file builds is dropped while the collector is still paused: once it
    # runs again, its first pass would walk every object of the spec (a second, at 100,000
    # nodes) only to find what reference counting frees anyway.
    policy = Policy.of(allow_modules, allow_files, limits)
    with paused_gc():
        if isinstance(spec_or_path, Spec):
            return _checks(spec_or_path, verbose=verbose, policy=policy)
        return _check_file(spec_or_path, params, verbose, policy).diagnostics


class Checked(NamedTuple):
    """What ``check_file`` found: the spec and its inferred shapes, when it has no errors."""

    spec: Spec | None
    diagnostics: list[Diagnostic]
    inference: shapes.Inference | None = None


def check_file(
    path: str | Path,
    params: Params = None,
    verbose: bool = False,
    *,
    allow_modules: Modules = (),
    allow_files: bool = False,
    limits: Limits | None = None,
) -> Checked:
    """``validate`` of a file, with the spec it describes and its shapes when it has no errors.

    The spec is None for an invalid spec and for a block library (nothing to build).
    Commands that go on use this, so a spec is read, expanded and inferred once.
    """
    with paused_gc():  # every stage allocates in proportion to the spec and frees at the end
        policy = Policy.of(allow_modules, allow_files, limits)
        return _check_file(path, params, verbose, policy)


def _check_file(path: str | Path, params: Params, verbose: bool, policy: Policy) -> Checked:
    try:
        doc = load_file(path, policy.limits)
        if is_library(doc.data) and not params:
            return Checked(None, sorted(check_library(doc), key=sort_key))
        doc = expand(doc, params, policy.limits)
    except SpecError as e:
        return Checked(None, sorted(e.diagnostics, key=sort_key))
    spec, found, inference = None, [], None
    try:
        spec = parse_schema(doc)
        checked, inference = _checked(spec, doc.unresolved, verbose, policy)
        found += checked
    except SchemaError as e:
        found += e.diagnostics
        if (partial := parse_partial(doc, e.paths)) is not None:
            partial_spec, dropped = partial
            found += _checks(partial_spec, dropped | doc.unresolved, policy=policy)
    found = doc.diagnostics + not_already_reported(found, doc)
    if errors_in(found):  # a broken reference also disconnects nodes: say only what is wrong
        spec, inference = None, None
        found = [d for d in found if d.code not in CONSEQUENTIAL]
    return Checked(spec, sorted(one_per_place(found), key=sort_key), inference)


def _checks(
    spec: Spec,
    unresolved: Unresolved = frozenset(),
    verbose: bool = False,
    policy: Policy = DEFAULT_POLICY,
) -> list[Diagnostic]:
    return _checked(spec, unresolved, verbose, policy)[0]


def _checked(
    spec: Spec,
    unresolved: Unresolved = frozenset(),
    verbose: bool = False,
    policy: Policy = DEFAULT_POLICY,
) -> tuple[list[Diagnostic], shapes.Inference | None]:
    """Every check of a spec, and its inference when the graph was sound enough for one."""
    found, inference = _structure(spec, unresolved, policy), None
    if not unresolved and not errors_in(found):  # shapes need a whole, sound graph
        program = lowering.lower(spec, policy.registry)
        inference = shapes.infer(program, policy.limits)
        found += inference.diagnostics + (inference.unchecked if verbose else [])
    return sorted(dict.fromkeys(found), key=sort_key), inference


def _structure(
    spec: Spec, unresolved: Unresolved = frozenset(), policy: Policy = DEFAULT_POLICY
) -> list[Diagnostic]:
    """Everything but shapes: arguments against the catalog, and the graph."""
    found = catalog_check.check(spec, policy.registry, policy.allow_files)
    found += graph.check(spec, unresolved)
    return found + training_check.check(spec)  # fit: and distribute:


def infer(
    spec_or_path: Spec | str | Path,
    *,
    allow_modules: Modules = (),
    allow_files: bool = False,
    limits: Limits | None = None,
) -> shapes.Inference:
    """Every node's output shapes, dtypes and parameters, inferred without Keras.

    Raises ``SpecError`` when the spec has errors (shape errors included).
    """
    policy = Policy.of(allow_modules, allow_files, limits)
    found, inference = _checked(_as_spec(spec_or_path, policy), policy=policy)
    require_valid(found)
    assert inference is not None  # a spec without errors was inferred
    return inference


def lower(
    spec_or_path: Spec | str | Path,
    *,
    allow_modules: Modules = (),
    allow_files: bool = False,
    limits: Limits | None = None,
) -> Program:
    """The checked IR of a spec; raises ``SpecError`` when it has errors."""
    policy = {"allow_modules": allow_modules, "allow_files": allow_files, "limits": limits}
    return infer(spec_or_path, **policy).program


def build(
    spec_or_path: Spec | str | Path | Program,
    compile: bool = True,
    *,
    allow_modules: Modules = (),
    allow_files: bool = False,
    limits: Limits | None = None,
) -> keras.Model:
    """The Keras functional model a spec describes, compiled when it has ``compile:``.

    Custom layer classes are imported here, and only those the spec names that are
    registered (entry points in group ``keraspec.layers``, or ``allow_modules``).
    Nothing is built for a spec over ``limits`` (its parameters are counted first).
    A ``Program`` (``check_file(...).inference.program``) is built as it is: it was
    checked and lowered under the allowances and limits it was checked with.
    """
    try:
        from .emit.keras_model import build_model
    except ModuleNotFoundError as e:  # the [tensorflow] extra is not installed
        message = f"{e.name} is not installed: {INSTALL_KERAS}"
        raise ModuleNotFoundError(message, name=e.name) from e
    if isinstance(spec_or_path, Program):
        return build_model(spec_or_path, compile=compile)
    program = lower(
        spec_or_path, allow_modules=allow_modules, allow_files=allow_files, limits=limits
    )
    return build_model(program, compile=compile)


def to_python(
    spec_or_path: Spec | str | Path,
    *,
    allow_modules: Modules = (),
    allow_files: bool = False,
    limits: Limits | None = None,
) -> str:
    """Python source that builds the same model as ``build``, without keraspec. Never imports Keras.

    A module in the Keras guides' functional style: ``build_model()`` returns the model,
    compiled when the spec has ``compile:``. Raises ``SpecError`` when the spec has errors.
    """
    from .emit.python_source import to_source

    program = lower(
        spec_or_path, allow_modules=allow_modules, allow_files=allow_files, limits=limits
    )
    return to_source(program)


def from_keras(
    model: keras.Model,
    custom_layers: dict[type, str] | None = None,
    *,
    allow_modules: Modules = (),
    source: str | None = None,
) -> Spec:
    """The spec of a functional or Sequential Keras model: ``build`` of it is the same model.

    Arguments at their defaults are left out; ids are the Keras layer names, so weights
    transfer by name. A custom layer class is written under its registered name: an
    entry point in group ``keraspec.layers``, ``MODULE.Class`` for a module in
    ``allow_modules``, or the name ``custom_layers`` maps it to. Raises ``SpecError``
    (E700–E707) naming any layer a spec cannot express: a ``Lambda``, an unregistered
    custom class, an op outside the allowlist.
    """
    from .importer import from_keras as import_model

    return import_model(model, custom_layers, source, Registry.allowing(allow_modules))


def build_errors(
    spec: Spec | Program,
    *,
    allow_modules: Modules = (),
    allow_files: bool = False,
    limits: Limits | None = None,
) -> list[Diagnostic]:
    """What building ``spec`` with Keras reports, located at the nodes (``[]`` if it builds).

    For specs that validate: what only Keras can find, such as mismatched shapes.
    """
    import keras

    try:
        build(spec, allow_modules=allow_modules, allow_files=allow_files, limits=limits)
    except SpecError as e:
        return e.diagnostics
    finally:
        keras.backend.clear_session()  # one model at a time in memory, however many specs
    return []


def _as_spec(spec_or_path: Spec | str | Path, policy: Policy = DEFAULT_POLICY) -> Spec:
    if isinstance(spec_or_path, Spec):
        return spec_or_path
    return load(spec_or_path, limits=policy.limits)
