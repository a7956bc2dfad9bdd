"""Commands that check and show a spec without building it: validate, summary, expand, schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from .. import api
from ..diagnostics import Diagnostic, Severity, errors_in
from ..render import FORMATS, tally
from .common import (
    ExitCode,
    err,
    expand_paths,
    import_keras,
    load_or_exit,
    out,
    output_option,
    policy,
    policy_options,
    print_diagnostics,
    print_or_write,
    set_option,
)


@click.command()
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--build",
    is_flag=True,
    help="Also build each valid spec with Keras; its errors are located at their node.",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Also list nodes whose shapes no static rule checks."
)
@set_option
@policy_options
def validate(
    specs: tuple[str, ...],
    fmt: str,
    strict: bool,
    build: bool,
    verbose: bool,
    params: dict[str, Any],
) -> None:
    """Check specs without building them (no TensorFlow needed, unless --build).

    Checks the YAML, the structure, arguments, the graph and, statically, every
    node's shapes.
    """
    paths = expand_paths(specs)
    if build:
        import_keras()
    found: list[Diagnostic] = []
    for path in paths:
        spec, static, inference = api.check_file(path, params, verbose, **policy())
        found += static
        if build and spec is not None:  # valid, and not a block library
            found += api.build_errors(inference.program)
    print_diagnostics(found, fmt)
    warnings = [d for d in found if d.severity is Severity.WARNING]
    failed = errors_in(found) or (strict and warnings)
    if fmt == "text":
        verdict = "invalid" if failed else "ok"
        err.print(f"{verdict}: {tally(found, len(paths))}", markup=False)
    sys.exit(ExitCode.INVALID if failed else ExitCode.OK)


@click.command()
@output_option("Write the schema here (default: print it).")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the spec format, for editors (no TensorFlow needed).

    Each layer type constrains its arguments, so an editor completes `units` after
    `type: Dense` and flags `unitz`. See docs/spec-format.md, "Editor support".
    """
    from ..json_schema import editor_schema

    text = json.dumps(editor_schema(), indent=2) + "\n"
    print_or_write(text, output)


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@set_option
@policy_options
def expand(spec: Path, params: dict[str, Any]) -> None:
    """Print SPEC fully expanded: params, repeats, blocks and includes resolved.

    The output is a flat spec in the same format, loadable again.
    """
    click.echo(api.dumps(load_or_exit(spec, params).spec), nl=False)


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@set_option
@policy_options
def summary(spec: Path, params: dict[str, Any]) -> None:
    """A table of SPEC's nodes: layer type, inputs, output shape and parameters.

    Inferred statically, without TensorFlow; the numbers are the ones Keras reports.
    """
    from ..summary import rows_of

    checked = load_or_exit(spec, params)
    rows, total = rows_of(checked.inference)
    table = Table(title=Text(checked.spec.name), title_justify="left")
    for column in ("node", "layer", "inputs", "output shape", "params"):
        justify = "right" if column == "params" else "left"
        table.add_column(column, justify=justify, overflow="fold")  # wrap, never cut ids
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # `a[0]` is not markup
    out.print(table)
    unknown = "unknown (some nodes were not inferred: see `keraspec validate -v`)"
    out.print(f"Total params: {unknown if total is None else f'{total:,}'}", markup=False)
