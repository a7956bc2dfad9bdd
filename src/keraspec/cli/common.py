"""What every command shares: exit codes, consoles, options, reading a spec, writing files.

Exit codes are decided here and nowhere else (see ``ExitCode``); a bad spec is
a located report and exit 1, never a traceback.
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from .. import api
from ..custom_layers import check_module_name
from ..diagnostics import Diagnostic, Severity, SpecError, errors_in
from ..limits import DEFAULT as DEFAULT_LIMITS
from ..limits import Limits, flag
from ..loader import load_value
from ..render import render, tally, text_block


class ExitCode(IntEnum):
    OK = 0  # every spec is valid (warnings allowed)
    INVALID = 1  # at least one spec has an error
    USAGE = 2  # bad command line: unknown option, no file matched ...
    INTERNAL = 3  # a bug in keraspec; the message asks for a report


# No emoji codes: `:x:` in an echoed source line is text, not ❌.
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def expand_paths(patterns: tuple[str, ...]) -> list[Path]:
    """Files named on the command line; globs are expanded here too, for shells that don't."""
    paths: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise click.BadParameter(f"no file matches `{pattern}`", param_hint="SPEC")
            paths += [Path(m) for m in matches]
        elif not Path(pattern).is_file():
            raise click.BadParameter(f"no such file: `{pattern}`", param_hint="SPEC")
        else:
            paths.append(Path(pattern))
    return list(dict.fromkeys(paths))


def print_diagnostics(
    diagnostics: list[Diagnostic], fmt: str = "text", console: Console | None = None
) -> None:
    """Diagnostics are `validate`'s output (stdout); other commands pass ``err``."""
    console = console or out
    if fmt in ("json", "sarif"):
        click.echo(render(diagnostics, fmt))  # parseable even when all is well
        return
    if fmt == "github":
        if diagnostics:
            click.echo(render(diagnostics, fmt))
        return
    for d in diagnostics:
        style = {Severity.ERROR: "bold red", Severity.WARNING: "yellow"}.get(d.severity, "cyan")
        block = text_block(d).split("\n")
        console.print(block[0], style=style, markup=False)
        for line in block[1:]:
            console.print(line, markup=False)


def parse_params(values: tuple[str, ...]) -> dict[str, Any]:
    """``--set name=value`` pairs; values are YAML (`128`, `0.5`, `[3, 4, 6, 3]`, `relu`)."""
    params: dict[str, Any] = {}
    for item in values:
        name, eq, text = item.partition("=")
        if not eq or not name.strip():
            raise click.BadParameter(f"`{item}`: write NAME=VALUE", param_hint="--set")
        try:
            params[name.strip()] = load_value(text, f"--set {name.strip()}")
        except SpecError as e:
            d = e.diagnostics[0]
            hint = f" ({d.hint})" if d.hint else ""
            raise click.BadParameter(f"`{item}`: {d.message}{hint}", param_hint="--set") from None
    return params


def output_option(help: str) -> Any:
    """``-o``/``--output``: the file a command writes."""
    return click.option(
        "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help=help
    )


set_option = click.option(
    "--set",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    callback=lambda _ctx, _param, value: parse_params(value),
    help="Override a spec parameter (repeatable); VALUE is YAML: 128, 0.5, [3, 4], relu.",
)


# What the user allows a spec (docs/security.md), kept in click's ctx.meta by the
# options below so that every command and stage reads the same.
POLICY = "keraspec.policy"


def remember(key: str, value: Any) -> None:
    click.get_current_context().meta.setdefault(POLICY, {})[key] = value


def remember_allowed_modules(ctx: click.Context, _param: Any, value: tuple[str, ...]) -> None:
    try:
        remember("allow_modules", tuple(check_module_name(name) for name in value))
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--allow-module") from None


def remember_limit(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    if value is not None:
        remember(str(param.name), value)


def limit_options(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One ``--max-…`` flag per limit (those ``names``, or all)."""

    def add(command: Callable[..., Any]) -> Callable[..., Any]:
        for field in reversed(dataclasses.fields(Limits)):
            if names and field.name not in names:
                continue
            default = getattr(DEFAULT_LIMITS, field.name)
            command = click.option(
                flag(field.name),
                field.name,
                type=click.IntRange(min=1),
                expose_value=False,
                callback=remember_limit,
                help=f"Limit (default {default:,}); see docs/security.md.",
            )(command)
        return command

    return add


def policy_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--allow-module``, ``--allow-files`` and one ``--max-…`` flag per limit."""
    command = limit_options()(command)
    command = click.option(
        "--allow-files",
        is_flag=True,
        expose_value=False,
        callback=lambda _ctx, _param, value: remember("allow_files", value),
        help="Let layer arguments name files below the working directory (`vocabulary: v.txt`).",
    )(command)
    return click.option(
        "--allow-module",
        multiple=True,
        metavar="MODULE",
        expose_value=False,
        callback=remember_allowed_modules,
        help="Let specs name MODULE's layer classes as `type: MODULE.Class` (repeatable). "
        "Checking imports nothing; building imports MODULE.",
    )(command)


def policy() -> dict[str, Any]:
    """The allowances and limits of the command running now, as ``api`` keywords."""
    given = click.get_current_context().meta.get(POLICY, {})
    limits = {f.name: given[f.name] for f in dataclasses.fields(Limits) if f.name in given}
    return {
        "allow_modules": given.get("allow_modules", ()),
        "allow_files": given.get("allow_files", False),
        "limits": Limits(**limits),
    }


def load_or_exit(path: Path, params: dict[str, Any]) -> api.Checked:
    """The checked spec at ``path`` (with its inferred shapes), or its diagnostics
    printed and exit 1."""
    checked, diagnostics = check_and_report(path, params)
    if checked.spec is None:
        err.print(f"invalid: {tally(diagnostics, 1)}", markup=False)
        sys.exit(ExitCode.INVALID)
    return checked


def check_and_report(path: Path, params: dict[str, Any]) -> tuple[api.Checked, list[Diagnostic]]:
    """``path`` checked, its diagnostics (warnings of expansion included) on stderr.

    The diagnostics returned say why ``checked.spec`` is None when it is: a block
    library has no errors of its own, so it is read as a spec to say what it lacks.
    """
    checked = api.check_file(path, params, **policy())
    diagnostics = checked.diagnostics
    print_diagnostics(diagnostics, console=err)
    if checked.spec is None and not errors_in(diagnostics):
        try:
            api.load(path, params, limits=policy()["limits"])
        except SpecError as e:
            diagnostics = e.diagnostics
        print_diagnostics(diagnostics, console=err)
    return checked, diagnostics


def print_or_write(data: str | bytes, output: Path | None) -> None:
    """A command's result: on stdout, or written atomically to ``output``."""
    if output is None:
        click.echo(data if isinstance(data, str) else data.decode("utf-8"), nl=False)
        return
    write_atomically(data.encode("utf-8") if isinstance(data, str) else data, output)
    err.print(f"wrote {output}", markup=False)


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Hide what TensorFlow's C++ side prints while it loads.

    Those lines (oneDNN notices, absl warnings) ignore TF_CPP_MIN_LOG_LEVEL, so they
    are muted at the file-descriptor level, for the import only. KERASPEC_DEBUG=1
    shows them.
    """
    if os.environ.get("KERASPEC_DEBUG"):
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras() -> None:
    """Keras for the commands that build models; a missing install is a usage error."""
    missing = [name for name in ("keras", "tensorflow") if importlib.util.find_spec(name) is None]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise click.ClickException(
            f"this command builds the model with Keras, and {' and '.join(missing)} {verb} "
            f"not installed: {api.INSTALL_KERAS}"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_silenced():
        import keras  # noqa: F401


def build_or_exit(checked: api.Checked, compile: bool) -> Any:
    """The model of a spec ``load_or_exit`` checked (not checked again); exit 1 on E400."""
    import_keras()
    try:
        return api.build(checked.inference.program, compile=compile)
    except SpecError as e:
        exit_invalid(e.diagnostics)


def exit_invalid(diagnostics: list[Diagnostic]) -> None:
    print_diagnostics(diagnostics, console=err)
    err.print(f"invalid: {tally(diagnostics, 1)}", markup=False)
    sys.exit(ExitCode.INVALID)


def check_output_path(output: Path, suffix: str = ".keras") -> None:
    """Refuse an unusable ``-o`` before spending time on a build or a training run."""
    if output.suffix != suffix:
        message = f"the output file name must end in `{suffix}`"
        raise click.BadParameter(message, param_hint="-o")
    parent = next((p for p in output.absolute().parents if p.exists()), None)
    if output.is_dir() or parent is None or not parent.is_dir():
        raise click.BadParameter(f"cannot write `{output}`: not a file path", param_hint="-o")
    try:  # tried for real: os.access cannot tell a read-only mount or /proc
        fd, probe = tempfile.mkstemp(prefix=".keraspec-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        message = f"cannot write `{output}`: {e.strerror or e}"
        raise click.BadParameter(message, param_hint="-o") from None


def save_atomically(model: Any, output: Path) -> None:
    """A Keras model saved with no half-written file left on failure."""
    from ..recursion import with_room_for  # saving recurses once per layer, as building does

    if getattr(model, "optimizer", None) is not None and not model.optimizer.built:
        # Saved unbuilt, the optimizer reloads with a "skipping variable loading" warning.
        model.optimizer.build(model.trainable_variables)

    def save(path: str) -> None:
        with_room_for(len(model.layers), lambda: model.save(path))

    replace_atomically(output, save, suffix=".keras")  # Keras wants the suffix


def write_atomically(data: bytes, output: Path) -> None:
    """``data`` written with no half-written file left on failure."""
    replace_atomically(output, lambda tmp: Path(tmp).write_bytes(data))


def ordinary_mode(full: int) -> int:
    """The permissions a new file (0o666) or folder (0o777) gets under the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return full & ~umask


def replace_atomically(
    output: Path, write: Callable[[str], Any], suffix: str = "", mode: int | None = None
) -> None:
    """``write`` a temporary file beside ``output``, then rename it into place.

    The file gets ``mode``, or an ordinary file's permissions. A file that cannot be
    written (a full disk, a size limit) is a usage error naming it, and leaves
    nothing behind.
    """
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=suffix, prefix=f".{output.stem}-", dir=output.parent)
    except OSError as e:  # what os.access could not tell: /sys, /proc, a read-only mount
        raise click.FileError(str(output), hint=e.strerror or str(e)) from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, ordinary_mode(0o666) if mode is None else mode)  # mkstemp makes 0600
        os.replace(tmp, output)
    except OSError as e:
        raise click.FileError(str(output), hint=e.strerror or str(e)) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
