"""The ``keraspec`` command line: one module per group of commands.

- ``common``: exit codes (``ExitCode``, decided there and nowhere else), consoles,
  shared options (``--set``, ``-o``, ``--allow-module``, the limits), reading a spec
  and writing files atomically;
- ``checking``: validate, summary, expand, schema (no TensorFlow);
- ``building``: compile, codegen, draw;
- ``exchange``: import, diff;
- ``formatting``: fmt;
- ``training``: fit, evaluate, predict.
"""

from __future__ import annotations

import os
from typing import Any

import click

from . import building, checking, exchange, formatting, training
from .common import ExitCode, err


class KeraspecGroup(click.Group):
    """Turns an unexpected exception into a short message and exit code 3."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as e:
            if os.environ.get("KERASPEC_DEBUG"):
                raise
            err.print(
                f"keraspec: internal error: {type(e).__name__}: {e}\n"
                "This is a bug in keraspec, not in your spec. "
                "Run again with KERASPEC_DEBUG=1 for a traceback and please report it.",
                markup=False,
            )
            ctx.exit(ExitCode.INTERNAL)


@click.group(cls=KeraspecGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="keraspec")
def cli() -> None:
    """Compile YAML model specs into Keras functional models."""


for command in (
    building.compile_command,
    building.codegen,
    building.draw,
    checking.validate,
    checking.summary,
    checking.expand,
    checking.schema,
    exchange.import_command,
    exchange.diff_command,
    formatting.fmt_command,
    training.fit,
    training.evaluate,
    training.predict,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    try:
        # Without standalone mode click returns ctx.exit codes instead of exiting.
        code = cli.main(args=argv, prog_name="keraspec", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return ExitCode.USAGE
    except click.Abort:
        err.print("aborted", markup=False)
        return ExitCode.USAGE
    except SystemExit as e:
        return int(e.code or 0)
    return code if isinstance(code, int) else ExitCode.OK


__all__ = ["ExitCode", "cli", "main"]
