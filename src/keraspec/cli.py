"""The ``keraspec`` command line.

Exit codes are decided here and nowhere else (see ``ExitCode``); a bad spec is
a located report and exit 1, never a traceback.
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.util
import json
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
from rich.table import Table
from rich.text import Text

from . import api
from .custom_layers import check_module_name
from .diagnostics import Diagnostic, Severity, SpecError, errors_in
from .limits import DEFAULT as DEFAULT_LIMITS
from .limits import Limits, flag
from .loader import load_value
from .render import FORMATS, render, tally, text_block


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


def policy_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--allow-module``, ``--allow-files`` and one ``--max-…`` flag per limit."""
    for field in reversed(dataclasses.fields(Limits)):
        default = getattr(DEFAULT_LIMITS, field.name)
        command = click.option(
            flag(field.name),
            field.name,
            type=click.IntRange(min=1),
            expose_value=False,
            callback=remember_limit,
            help=f"Limit (default {default:,}); see docs/security.md.",
        )(command)
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


def allowed_modules() -> tuple[str, ...]:
    """The ``--allow-module`` values of the command running now."""
    return policy()["allow_modules"]


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


@cli.command()
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
        spec, static, _ = api.check_file(path, params, verbose, **policy())
        found += static
        if build and spec is not None:  # valid, and not a block library
            found += api.build_errors(spec, **policy())
    print_diagnostics(found, fmt)
    warnings = [d for d in found if d.severity is Severity.WARNING]
    failed = errors_in(found) or (strict and warnings)
    if fmt == "text":
        verdict = "invalid" if failed else "ok"
        err.print(f"{verdict}: {tally(found, len(paths))}", markup=False)
    sys.exit(ExitCode.INVALID if failed else ExitCode.OK)


def load_or_exit(path: Path, params: dict[str, Any]) -> api.Checked:
    """The checked spec at ``path`` (with its inferred shapes), or its diagnostics
    printed and exit 1."""
    # Warnings of expansion included.
    checked = api.check_file(path, params, **policy())
    spec, diagnostics = checked.spec, checked.diagnostics
    print_diagnostics(diagnostics, console=err)
    if spec is None:
        if not errors_in(diagnostics):  # a block library: read as a spec, it says what it lacks
            try:
                api.load(path, params)
            except SpecError as e:
                diagnostics = e.diagnostics
            print_diagnostics(diagnostics, console=err)
        err.print(f"invalid: {tally(diagnostics, 1)}", markup=False)
        sys.exit(ExitCode.INVALID)
    return checked


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


def build_or_exit(spec: api.Spec, compile: bool) -> Any:
    import_keras()
    try:
        return api.build(spec, compile=compile, **policy())
    except SpecError as e:
        exit_invalid(e.diagnostics)


def exit_invalid(diagnostics: list[Diagnostic]) -> None:
    print_diagnostics(diagnostics, console=err)
    err.print(f"invalid: {tally(diagnostics, 1)}", markup=False)
    sys.exit(ExitCode.INVALID)


@cli.command(name="compile")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option("Where to write the model (a .keras file). Default: SPEC's name with .keras, here.")
@click.option("--summary", is_flag=True, help="Print the Keras model summary.")
@set_option
@policy_options
def compile_command(spec: Path, output: Path | None, summary: bool, params: dict[str, Any]) -> None:
    """Build SPEC with Keras and save it as a .keras file."""
    output = output or Path(spec.stem + ".keras")
    check_output_path(output)
    model = build_or_exit(load_or_exit(spec, params).spec, compile=True)
    if summary:
        model.summary(print_fn=lambda line, **_: out.print(line, markup=False))
    if getattr(model, "optimizer", None) is not None and not model.optimizer.built:
        # Saved unbuilt, the optimizer reloads with a "skipping variable loading" warning.
        model.optimizer.build(model.trainable_variables)
    save_atomically(model, output)
    err.print(f"wrote {output}", markup=False)


def check_output_path(output: Path) -> None:
    """Refuse an unusable ``-o`` before spending time on a build."""
    if output.suffix != ".keras":
        raise click.BadParameter("the output file name must end in `.keras`", param_hint="-o")
    parent = next((p for p in output.absolute().parents if p.exists()), None)
    if output.is_dir() or parent is None or not parent.is_dir():
        raise click.BadParameter(f"cannot write `{output}`: not a file path", param_hint="-o")
    if not os.access(parent, os.W_OK):
        raise click.BadParameter(f"cannot write `{output}`: permission denied", param_hint="-o")


def save_atomically(model: Any, output: Path) -> None:
    """A Keras model saved with no half-written file left on failure."""
    from .recursion import with_room_for  # saving recurses once per layer, as building does

    def save(path: str) -> None:
        with_room_for(len(model.layers), lambda: model.save(path))

    replace_atomically(output, save, suffix=".keras")  # Keras wants the suffix


def write_atomically(data: bytes, output: Path) -> None:
    """``data`` written with no half-written file left on failure."""
    try:
        replace_atomically(output, lambda tmp: Path(tmp).write_bytes(data))
    except OSError as e:
        raise click.FileError(str(output), hint=e.strerror or str(e)) from None


def replace_atomically(output: Path, write: Callable[[str], Any], suffix: str = "") -> None:
    """``write`` a temporary file beside ``output``, then rename it into place."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=suffix, prefix=f".{output.stem}-", dir=output.parent)
    except OSError as e:  # what os.access could not tell: /sys, /proc, a read-only mount
        raise click.FileError(str(output), hint=e.strerror or str(e)) from None
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the result is an ordinary file
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@cli.command()
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
    from .emit.python_source import to_source  # writes text; never imports Keras

    source = to_source(load_or_exit(spec, params).inference.program)
    if output is None:
        click.echo(source, nl=False)
        return
    write_atomically(source.encode("utf-8"), output)
    err.print(f"wrote {output}", markup=False)


@cli.command(name="import")
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
    from .importer import load_source

    allowed = policy()
    try:
        with native_stderr_silenced():  # TensorFlow's C++ notices while a model is built
            model = load_source(source)
        spec = api.from_keras(model, allow_modules=allowed["allow_modules"], source=source)
        text = api.dumps(spec)
    except SpecError as e:
        exit_invalid(e.diagnostics)
    found = api.validate(api.loads(text, source=str(output or "<imported spec>")), **allowed)
    if errors_in(found):  # a bug: the importer wrote a spec keraspec itself refuses
        exit_invalid(found)
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomically(text.encode("utf-8"), output)
    err.print(f"wrote {output}", markup=False)


@cli.command()
@output_option("Write the schema here (default: print it).")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the spec format, for editors (no TensorFlow needed).

    Each layer type constrains its arguments, so an editor completes `units` after
    `type: Dense` and flags `unitz`. See docs/spec-format.md, "Editor support".
    """
    from .json_schema import editor_schema

    text = json.dumps(editor_schema(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomically(text.encode("utf-8"), output)
    err.print(f"wrote {output}", markup=False)


@cli.command(name="fmt")
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file would change.")
@click.option(
    "--diff", "show_diff", is_flag=True, help="Write nothing; print the changes as a diff."
)
def fmt_command(specs: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Rewrite specs in the canonical layout, keeping their comments (no TensorFlow).

    Keys in one order, 2-space indentation, each node on one line when it fits in
    100 columns. A spec needs to be readable YAML, not valid. See docs/ci.md.
    """
    from .fmt import format_file

    dry_run = check or show_diff
    counts = {"reformatted": 0, "unchanged": 0, "failed": 0}
    for path in expand_paths(specs):
        try:
            before, after = format_file(path)
        except SpecError as e:  # not YAML, or not a mapping: validate's diagnostics
            print_diagnostics(e.diagnostics, console=err)
            counts["failed"] += 1
            continue
        if after == before:
            counts["unchanged"] += 1
            continue
        counts["reformatted"] += 1
        if show_diff:
            click.echo(unified_diff(before, after, path), nl=False)
        if not dry_run:
            rewrite_in_place(path, after)
        err.print(f"{'would reformat' if dry_run else 'reformatted'} {path}", markup=False)
    err.print(fmt_report(counts, dry_run), markup=False)
    failed = counts["failed"] or (check and counts["reformatted"])
    sys.exit(ExitCode.INVALID if failed else ExitCode.OK)


def fmt_report(counts: dict[str, int], dry_run: bool) -> str:
    """Black's summary: "1 file reformatted, 2 files left unchanged."."""
    would = "would be " if dry_run else ""
    phrases = {
        "reformatted": f"{would}reformatted",
        "unchanged": f"{would}left unchanged",
        "failed": "would fail to reformat" if dry_run else "failed to reformat",
    }
    parts = [f"{n} file{'' if n == 1 else 's'} {phrases[k]}" for k, n in counts.items() if n]
    return ", ".join(parts) + "."


def unified_diff(before: str, after: str, path: Path) -> str:
    """What ``fmt`` changes in ``path``, as `git diff` shows it (`git apply` reads it)."""
    import difflib

    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    marker = "\n\\ No newline at end of file\n"
    return "".join(line if line.endswith("\n") else line + marker for line in lines)


def rewrite_in_place(path: Path, text: str) -> None:
    """``text`` written over ``path`` with no half-written file left on failure.

    The file keeps its permissions, and a symlink stays a symlink: its target is
    rewritten (the loader reads only symlinks that stay in their folder).
    """
    import stat

    target = path.resolve()
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    except OSError as e:
        raise click.FileError(str(path), hint=e.strerror or str(e)) from None
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(text.encode("utf-8"))
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as e:
        raise click.FileError(str(path), hint=e.strerror or str(e)) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@cli.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@set_option
@policy_options
def expand(spec: Path, params: dict[str, Any]) -> None:
    """Print SPEC fully expanded: params, repeats, blocks and includes resolved.

    The output is a flat spec in the same format, loadable again.
    """
    click.echo(api.dumps(load_or_exit(spec, params).spec), nl=False)


# Training: fit, evaluate and predict (docs/training.md). Data is checked before
# TensorFlow loads; the model is built inside the distribution strategy's scope.


def data_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--data``/``--synthetic``/``--seed``/``--batch-size``/``--strategy``/``--quiet``."""
    from .schema import STRATEGIES

    options = [
        click.option(
            "--data",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="An .npz file whose arrays are named after the spec's inputs and outputs.",
        ),
        click.option(
            "--synthetic",
            type=click.IntRange(min=1),
            metavar="N",
            help="Use N random samples shaped and typed from the spec instead of --data.",
        ),
        click.option(
            "--seed", type=int, default=0, show_default=True, help="Seeds weights and data."
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            help="Global batch size, split across replicas (default: the spec's fit, or 32).",
        ),
        click.option(
            "--strategy",
            type=click.Choice(STRATEGIES),
            help="A tf.distribute strategy (default: the spec's distribute, or default).",
        ),
        click.option("--quiet", is_flag=True, help="No progress bar."),
        set_option,
        policy_options,
    ]
    for option in reversed(options):
        command = option(command)
    return command


WEIGHTS_OPTION: dict[str, Any] = {
    "required": True,
    "type": click.Path(exists=True, dir_okay=False, path_type=Path),
    "help": "A .keras (or .weights.h5) file saved by `keraspec fit` from this spec.",
}


@cli.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option("Where to write the trained model (.keras). Default: SPEC's name with .keras.")
@click.option("--epochs", type=click.IntRange(min=1), help="Default: the spec's fit, or 1.")
@click.option(
    "--export",
    type=(click.Choice(["savedmodel"]), click.Path(path_type=Path)),
    metavar="savedmodel DIR",
    help="Also export a SavedModel for serving (model.export) to DIR, a new directory.",
)
@data_options
def fit(spec: Path, output: Path | None, epochs: int | None, export: Any, **options: Any) -> None:
    """Train SPEC's model on --data or --synthetic N samples and save it.

    The model is written only when training succeeds, by a rename: a failed or
    interrupted run leaves no half-written file.
    """
    output = output or Path(spec.stem + ".keras")
    check_output_path(output)
    export_dir = check_export_dir(export[1]) if export else None
    checked = load_or_exit(spec, options["params"])
    session = TrainingSession.start(checked, options, with_targets=True)
    from .train import run

    verbose = 0 if options["quiet"] else "auto"
    overrides = {"epochs": epochs, "batch_size": options["batch_size"], "verbose": verbose}
    settings = run.fit_settings(checked.spec, **overrides)
    callbacks = located_or_exit(lambda: run.make_callbacks(checked.spec, settings))
    session.run(
        lambda: run.fit(session.model, session.program, session.arrays, settings, callbacks)
    )
    if not session.chief:
        return  # a multi-worker run's other workers: the chief writes the model
    save_trained(session.model, output)
    err.print(f"wrote {output}", markup=False)
    if export_dir is not None:
        export_atomically(session.model, export_dir)
        err.print(f"exported a SavedModel to {export_dir}", markup=False)


@cli.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--weights", **WEIGHTS_OPTION)
@data_options
def evaluate(spec: Path, weights: Path, **options: Any) -> None:
    """Print the loss and metrics of SPEC's model, with trained --weights, on the data."""
    checked = load_or_exit(spec, options["params"])
    session = TrainingSession.start(checked, options, with_targets=True, weights=weights)
    from .train import run

    verbose = 0 if options["quiet"] else "auto"
    batch_size = run.fit_settings(checked.spec, batch_size=options["batch_size"]).batch_size
    results = session.run(
        lambda: run.evaluate(session.model, session.program, session.arrays, batch_size, verbose)
    )
    for name, value in results.items():
        out.print(f"{name}: {value:.6g}", markup=False)


@cli.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--weights", **WEIGHTS_OPTION)
@output_option("Where to write the predictions (.npz, arrays named after the outputs).")
@data_options
def predict(spec: Path, weights: Path, output: Path | None, **options: Any) -> None:
    """Predict with SPEC's model and trained --weights; write one array per output."""
    output = output or Path(spec.stem + "_predictions.npz")
    if output.suffix != ".npz":
        raise click.BadParameter("the output file name must end in `.npz`", param_hint="-o")
    checked = load_or_exit(spec, options["params"])
    session = TrainingSession.start(checked, options, with_targets=False, weights=weights)
    from .train import run

    verbose = 0 if options["quiet"] else "auto"
    batch_size = run.fit_settings(checked.spec, batch_size=options["batch_size"]).batch_size
    found = session.run(
        lambda: run.predict(session.model, session.program, session.arrays, batch_size, verbose)
    )
    if session.chief:
        import io

        import numpy as np

        buffer = io.BytesIO()
        np.savez(buffer, **found)
        write_atomically(buffer.getvalue(), output)
        err.print(f"wrote {output}", markup=False)


class TrainingSession:
    """A checked spec, its data (checked before TensorFlow loads) and its model."""

    def __init__(self, checked: api.Checked, arrays: dict[str, Any]):
        self.spec = checked.spec
        self.program = checked.inference.program
        self.arrays = arrays
        self.model: Any = None
        self.chief = True

    @classmethod
    def start(
        cls,
        checked: api.Checked,
        options: dict[str, Any],
        with_targets: bool,
        weights: Path | None = None,
    ) -> TrainingSession:
        """Check the data, then load Keras, make the strategy and build the model in it."""
        if with_targets:
            require_loss(checked.spec)
        session = cls(checked, training_data(checked, options, with_targets))
        import_keras()
        import keras

        from .train import strategies

        keras.utils.set_random_seed(options["seed"])
        strategy = strategy_or_exit(checked.spec, options["strategy"])
        session.chief = strategies.is_chief(strategy)
        session.model = located_or_exit(lambda: build_in_scope(checked.spec, strategy))
        if weights is not None:
            from .train import run

            step = lambda: run.load_weights(session.model, str(weights))  # noqa: E731
            session.run(step, f"cannot load the weights in {weights}")
        return session

    def run(self, step: Callable[[], Any], failure: str = "training failed") -> Any:
        """``step``, with a failure (NaN loss, bad weights file) reported, exit 1."""
        try:
            return step()
        except (ValueError, RuntimeError, OSError) as e:
            if os.environ.get("KERASPEC_DEBUG"):
                raise
            err.print(f"keraspec: {failure}: {type(e).__name__}: {brief(e)}", markup=False)
            sys.exit(ExitCode.INVALID)


def brief(error: Exception) -> str:
    """Keras's message on one line, without the variable dumps some of them end in."""
    text = " ".join(str(error).split()).split(" Target variable:")[0]
    return text if len(text) <= 400 else text[:397] + "..."


def require_loss(spec: api.Spec) -> None:
    if spec.compile is None or spec.compile.loss is None:
        raise click.ClickException(
            "the spec has no `compile.loss`: training and evaluating need one "
            "(add compile: {optimizer: adam, loss: mse})"
        )


def training_data(checked: api.Checked, options: dict[str, Any], with_targets: bool) -> dict:
    """The --data arrays (checked, converted) or --synthetic ones; exit 1 on bad data."""
    from .train import data

    program = checked.inference.program
    inputs = data.input_slots(program)
    outputs = data.output_slots(program, checked.inference)
    slots = inputs + outputs if with_targets else inputs
    if (options["data"] is None) == (options["synthetic"] is None):
        raise click.UsageError("give the data: either --data FILE or --synthetic N")
    try:
        if options["synthetic"] is not None:
            return data.synthetic(program, slots, options["synthetic"], options["seed"])
        arrays = data.load_npz(options["data"])
        ignored = [] if with_targets else [s.name for s in outputs]
        data.check_arrays(arrays, slots, str(options["data"]), ignored)
    except data.DataError as e:
        for problem in e.problems:
            err.print(f"{e.source}: {problem}", markup=False)
        count = len(e.problems)
        err.print(f"invalid data: {count} problem{'s' if count > 1 else ''}", markup=False)
        sys.exit(ExitCode.INVALID)
    return data.as_model_data(arrays, slots)


def strategy_or_exit(spec: api.Spec, name: str | None) -> Any:
    """The strategy ``--strategy`` or the spec's ``distribute:`` names (usage error if unusable)."""
    from .train import strategies

    dist = spec.distribute
    name = name or (dist.strategy if dist is not None else "default")
    devices = dist.devices if dist is not None and dist.strategy == name else None
    try:
        strategy = strategies.make_strategy(name, devices)
    except strategies.StrategyError as e:
        raise click.ClickException(f"strategy `{name}`: {e}") from None
    if name != "default":
        replicas = strategy.num_replicas_in_sync
        plural = "replica" if replicas == 1 else "replicas"
        err.print(f"strategy: {name}, {replicas} {plural} in sync", markup=False)
    return strategy


def build_in_scope(spec: api.Spec, strategy: Any) -> Any:
    from .train import run

    return run.build_in_scope(spec, strategy, **policy())


def located_or_exit(make: Callable[[], Any]) -> Any:
    """What ``make`` returns; a located Keras refusal (E400) is printed, exit 1."""
    try:
        return make()
    except SpecError as e:
        exit_invalid(e.diagnostics)


def save_trained(model: Any, output: Path) -> None:
    if getattr(model, "optimizer", None) is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    save_atomically(model, output)


def check_export_dir(directory: Path) -> Path:
    """A SavedModel goes to a new directory; refuse an existing one before training."""
    if directory.exists():
        raise click.BadParameter(f"`{directory}` already exists", param_hint="--export")
    parent = directory.absolute().parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise click.BadParameter(f"cannot write `{directory}`", param_hint="--export")
    return directory


def export_atomically(model: Any, directory: Path) -> None:
    """``model.export`` to a temporary directory beside ``directory``, then a rename."""
    import shutil

    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.absolute().parent))
    try:
        model.export(str(tmp), format="tf_saved_model", verbose=False)
        os.rename(tmp, directory)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


@cli.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@set_option
@policy_options
def summary(spec: Path, params: dict[str, Any]) -> None:
    """A table of SPEC's nodes: layer type, inputs, output shape and parameters.

    Inferred statically, without TensorFlow; the numbers are the ones Keras reports.
    """
    from .summary import rows_of

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


@cli.command()
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
    from . import draw as drawing

    fmt = drawing_format(output, fmt, drawing.SUFFIXES)
    if output is None and fmt == "png":
        raise click.BadParameter("a PNG is binary: write it to a file with -o", param_hint="-o")
    inference = load_or_exit(spec, params).inference
    data = drawing.render(drawing.layout(inference.program, inference, expand), fmt)
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    write_atomically(data, output)
    err.print(f"wrote {output}", markup=False)


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


@cli.command(name="diff")
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
    from . import diff as diffing

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
    checked = api.check_file(path, params, **policy())
    diagnostics = checked.diagnostics
    print_diagnostics(diagnostics, console=err)  # a valid spec's warnings too
    if checked.spec is not None:
        return imported_side(path, checked.spec) if through_keras else checked.inference
    if not errors_in(diagnostics):  # a block library: read as a spec, it says what it lacks
        try:
            api.load(path, params)
        except SpecError as e:
            diagnostics = e.diagnostics
        print_diagnostics(diagnostics, console=err)
    err.print(f"cannot compare {path}: {tally(diagnostics, 1)}", markup=False)
    return None


def imported_side(path: Path, spec: api.Spec | None) -> api.shapes.Inference | None:
    """The inferred spec `keraspec import` writes of the .keras file at ``path``, or of
    ``spec`` built with Keras (uncompiled: a .keras file is loaded without its compile)."""
    from .importer import load_source

    allowed = policy()
    try:
        with native_stderr_silenced():  # TensorFlow's C++ notices while a model is built
            if spec is None:
                model = load_source(str(path))
            else:
                model = api.build(spec, compile=False, **allowed)
        imported = api.from_keras(model, allow_modules=allowed["allow_modules"], source=str(path))
        return api.infer(api.loads(api.dumps(imported), source=f"{path} (imported)"), **allowed)
    except SpecError as e:
        print_diagnostics(e.diagnostics, console=err)
        err.print(f"cannot compare {path}: {tally(e.diagnostics, 1)}", markup=False)
        return None


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
