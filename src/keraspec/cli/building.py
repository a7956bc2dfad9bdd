"""Commands that turn a spec into something else: compile (.keras), codegen (Python), draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .common import (
    build_or_exit,
    check_output_path,
    err,
    load_or_exit,
    out,
    output_option,
    policy_options,
    print_or_write,
    save_atomically,
    set_option,
)


@click.command(name="compile")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option("Where to write the model (a .keras file). Default: SPEC's name with .keras, here.")
@click.option("--summary", is_flag=True, help="Print the Keras model summary.")
@set_option
@policy_options
def compile_command(spec: Path, output: Path | None, summary: bool, params: dict[str, Any]) -> None:
    """Build SPEC with Keras and save it as a .keras file."""
    output = output or Path(spec.stem + ".keras")
    check_output_path(output)
    model = build_or_exit(load_or_exit(spec, params), compile=True)
    if summary:
        model.summary(print_fn=lambda line, **_: out.print(line, markup=False))
    save_atomically(model, output)
    err.print(f"wrote {output}", markup=False)


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option("Write the module here (a .py file). Default: print it.")
@set_option
@policy_options
def codegen(spec: Path, output: Path | None, params: dict[str, Any]) -> None:
    """Print Python source that builds SPEC's model with plain Keras (no TensorFlow needed).

    The module defines build_model(), in the functional style of the Keras guides,
    and builds the same model as `keraspec compile`. See docs/import-and-export.md.
    """
    if output is not None and output.suffix != ".py":
        raise click.BadParameter("the output file name must end in `.py`", param_hint="-o")
    from ..emit.python_source import to_source  # writes text; never imports Keras

    source = to_source(load_or_exit(spec, params).inference.program)
    print_or_write(source, output)


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option("Write the drawing here: .svg, .png, .dot (.gv) or .mmd. Default: print it.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("svg", "png", "dot", "mermaid")),
    help="The format, when -o's suffix does not say it (default: svg).",
)
@click.option(
    "--expand",
    is_flag=True,
    help="Draw each block use's nodes, and each sub-model's graph, as a group.",
)
@set_option
@policy_options
def draw(
    spec: Path, output: Path | None, fmt: str | None, expand: bool, params: dict[str, Any]
) -> None:
    """Draw SPEC's graph, top to bottom, as SVG, PNG, DOT or Mermaid (no TensorFlow).

    Each box shows the node, its layer (or op, or sub-model), key arguments and the
    output shape; shared layers share a colour; a block use is one box. See docs/drawing.md.
    """
    from .. import draw as drawing

    fmt = drawing_format(output, fmt, drawing.SUFFIXES)
    if output is None and fmt == "png":
        raise click.BadParameter("a PNG is binary: write it to a file with -o", param_hint="-o")
    inference = load_or_exit(spec, params).inference
    data = drawing.render(drawing.layout(inference.program, inference, expand), fmt)
    print_or_write(data, output)


def drawing_format(output: Path | None, fmt: str | None, suffixes: dict[str, str]) -> str:
    """``--format`` if given, else what ``-o``'s suffix says (svg without either)."""
    if fmt is not None:
        return fmt
    if output is None:
        return "svg"
    if output.suffix.lower() not in suffixes:
        known = ", ".join(suffixes)
        raise click.BadParameter(
            f"cannot tell the format of `{output}`: use one of {known}, or --format",
            param_hint="-o",
        )
    return suffixes[output.suffix.lower()]
