"""Commands between keraspec and existing Keras models: import, and diff of two specs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import api
from ..custom_layers import Registry
from ..diagnostics import SpecError, errors_in
from ..ir import Program
from ..render import tally
from .common import (
    ExitCode,
    check_and_report,
    err,
    exit_invalid,
    import_keras,
    native_stderr_silenced,
    out,
    output_option,
    policy,
    policy_options,
    print_diagnostics,
    print_or_write,
    set_option,
)


@click.command(name="import")
@click.argument("source")
@output_option("Write the spec here (a .yaml or .yml file). Default: print it.")
@policy_options
def import_command(source: str, output: Path | None) -> None:
    """Write the spec of a Keras model: a .keras file or a keras.applications model name.

    SOURCE is a .keras file (loaded with safe_mode, nothing in it runs) or a name such
    as keras.applications.ResNet50 (built with weights=None). Layer names are kept, so
    weights transfer by name. See docs/import-and-export.md.
    """
    if output is not None and output.suffix not in (".yaml", ".yml"):
        message = "the output file name must end in `.yaml` or `.yml`"
        raise click.BadParameter(message, param_hint="-o")
    import_keras()
    from ..importer import load_source

    allowed = policy()
    try:
        with native_stderr_silenced():  # TensorFlow's C++ notices while a model is built
            model = load_source(source, Registry.allowing(allowed["allow_modules"]))
        spec = api.from_keras(model, allow_modules=allowed["allow_modules"], source=source)
        text = api.dumps(spec)
    except SpecError as e:
        exit_invalid(e.diagnostics)
    found = api.validate(api.loads(text, source=str(output or "<imported spec>")), **allowed)
    if errors_in(found):  # a bug: the importer wrote a spec keraspec itself refuses
        exit_invalid(found)
    print_or_write(text, output)


@click.command(name="diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
@set_option
@policy_options
def diff_command(old: Path, new: Path, fmt: str, params: dict[str, Any]) -> None:
    """Compare the models two specs build, after expansion (no TensorFlow needed).

    Lists inputs, nodes and shared layers added, removed, changed (with their
    arguments) or renamed, rewired inputs, parameter counts per node and in total,
    and compile changes. --set applies to both specs. Either side may be a .keras
    file instead (this needs TensorFlow). Exit code, as GNU diff: 0 the same model,
    1 different, 2 either side unreadable or invalid (its diagnostics on stderr).
    See docs/import-and-export.md.
    """
    from .. import diff as diffing

    through_keras = ".keras" in (old.suffix, new.suffix)
    if through_keras:
        import_keras()
    # Both sides are reported before exiting.
    sides = [diff_side(path, params, through_keras) for path in (old, new)]
    if sides[0] is None or sides[1] is None:
        sys.exit(ExitCode.USAGE)  # "trouble"
    result = diffing.diff(sides[0], sides[1], old_label=str(old), new_label=str(new))
    if fmt == "json":
        click.echo(json.dumps(diffing.to_json(result), indent=2, ensure_ascii=False))
    else:
        out.print(diffing.to_text(result))
    sys.exit(ExitCode.OK if result.equal else ExitCode.INVALID)  # INVALID: "different"


def diff_side(
    path: Path, params: dict[str, Any], through_keras: bool
) -> api.shapes.Inference | None:
    """One side of a diff, inferred; or None, with why it cannot be compared on stderr.

    With a .keras file on either side, a spec is built and both sides are read as
    `keraspec import` reads a model, so that how a spec spells an argument
    (`kernel_size: 3` or `[3, 3]`, a default written out) makes no difference.
    """
    if path.suffix == ".keras":
        return imported_side(path, None)
    checked, diagnostics = check_and_report(path, params)  # a valid spec's warnings too
    if checked.spec is not None:
        if through_keras:
            return imported_side(path, checked.inference.program)
        return checked.inference
    err.print(f"cannot compare {path}: {tally(diagnostics, 1)}", markup=False)
    return None


def imported_side(path: Path, program: Program | None) -> api.shapes.Inference | None:
    """The inferred spec `keraspec import` writes of the .keras file at ``path``, or of
    the checked ``program`` built with Keras (uncompiled: a .keras file is loaded
    without its compile)."""
    from ..importer import load_source

    allowed = policy()
    try:
        with native_stderr_silenced():  # TensorFlow's C++ notices while a model is built
            if program is None:
                model = load_source(str(path), Registry.allowing(allowed["allow_modules"]))
            else:
                model = api.build(program, compile=False)
        imported = api.from_keras(model, allow_modules=allowed["allow_modules"], source=str(path))
        return api.infer(api.loads(api.dumps(imported), source=f"{path} (imported)"), **allowed)
    except SpecError as e:
        print_diagnostics(e.diagnostics, console=err)
        err.print(f"cannot compare {path}: {tally(e.diagnostics, 1)}", markup=False)
        return None
