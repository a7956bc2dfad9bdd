"""Commands that train and run a spec's model: fit, evaluate, predict (docs/training.md)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .. import api
from ..diagnostics import SpecError
from ..parse import source_of
from .common import (
    ExitCode,
    check_output_path,
    err,
    exit_invalid,
    import_keras,
    load_or_exit,
    ordinary_mode,
    out,
    output_option,
    policy_options,
    save_atomically,
    set_option,
    write_atomically,
)

# Training: fit, evaluate and predict (docs/training.md). Data is checked before
# TensorFlow loads; the model is built inside the distribution strategy's scope.


def data_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--data``/``--synthetic``/``--seed``/``--batch-size``/``--strategy``/``--quiet``."""
    from ..schema import STRATEGIES

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
            "--seed",
            type=int,
            default=0,
            show_default=True,
            help="Seeds initial weights (fit) and --synthetic data.",
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


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_option("Where to write the trained model (.keras). Default: SPEC's name with .keras, here.")
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
    from ..train import run

    overrides = {"epochs": epochs, "batch_size": session.batch_size, "verbose": session.verbose}
    settings = run.fit_settings(checked.spec, **overrides)
    callbacks = located_or_exit(lambda: run.make_callbacks(checked.spec, settings))
    session.run(
        lambda: run.fit(session.model, session.program, session.arrays, settings, callbacks)
    )
    if not session.chief:
        return  # a multi-worker run's other workers: the chief writes the model
    save_atomically(session.model, output)
    err.print(f"wrote {output}", markup=False)
    if export_dir is not None:
        export_atomically(session.model, export_dir)
        err.print(f"exported a SavedModel to {export_dir}", markup=False)


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--weights", **WEIGHTS_OPTION)
@data_options
def evaluate(spec: Path, weights: Path, **options: Any) -> None:
    """Print the loss and metrics of SPEC's model, with trained --weights, on the data."""
    checked = load_or_exit(spec, options["params"])
    session = TrainingSession.start(checked, options, with_targets=True, weights=weights)
    from ..train import run

    batch_size = run.fit_settings(checked.spec, batch_size=session.batch_size).batch_size
    results = session.run(
        lambda: run.evaluate(
            session.model, session.program, session.arrays, batch_size, session.verbose
        )
    )
    for name, value in results.items():
        out.print(f"{name}: {value:.6g}", markup=False)


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--weights", **WEIGHTS_OPTION)
@output_option(
    "Where to write the predictions (.npz, one array per output). "
    "Default: SPEC's name with _predictions.npz, here."
)
@data_options
def predict(spec: Path, weights: Path, output: Path | None, **options: Any) -> None:
    """Predict with SPEC's model and trained --weights; write one array per output."""
    output = output or Path(spec.stem + "_predictions.npz")
    check_output_path(output, ".npz")
    checked = load_or_exit(spec, options["params"])
    session = TrainingSession.start(checked, options, with_targets=False, weights=weights)
    from ..train import run

    batch_size = run.fit_settings(checked.spec, batch_size=session.batch_size).batch_size
    found = session.run(
        lambda: run.predict(
            session.model, session.program, session.arrays, batch_size, session.verbose
        )
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
        self.verbose: int | str = "auto"  # Keras's progress bar, or 0 with --quiet
        self.batch_size: int | None = None

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

        from ..train import run, strategies

        keras.utils.set_random_seed(options["seed"])
        strategy = strategy_or_exit(checked.spec, options["strategy"])
        session.chief = strategies.is_chief(strategy)
        session.verbose = 0 if options["quiet"] else "auto"
        session.batch_size = options["batch_size"]
        program = checked.inference.program
        session.model = located_or_exit(lambda: run.build_in_scope(program, strategy))
        if weights is not None:
            step = lambda: run.load_weights(session.model, str(weights))  # noqa: E731
            session.run(step, f"cannot load the weights in {weights}")
        return session

    def run(self, step: Callable[[], Any], failure: str = "training failed") -> Any:
        """``step``, with a failure (NaN loss, bad weights file, an op TensorFlow stops
        on, such as a lookup out of range) reported, exit 1."""
        from tensorflow.errors import OpError  # loaded already: the model is built

        try:
            return step()
        except (ValueError, RuntimeError, OSError, OpError) as e:
            if os.environ.get("KERASPEC_DEBUG"):
                raise
            err.print(f"keraspec: {failure}: {type(e).__name__}: {brief(e)}", markup=False)
            sys.exit(ExitCode.INVALID)


def brief(error: Exception) -> str:
    """Keras's message on one line, without the variable dumps some of them end in."""
    text = " ".join(str(error).split()).split(" Target variable:")[0]
    return text if len(text) <= 400 else text[:397] + "..."


def require_loss(spec: api.Spec) -> None:
    """A spec without a loss cannot train: a problem of the spec (exit 1), like E800."""
    if spec.compile is None or spec.compile.loss is None:
        err.print(
            f"{source_of(spec).file}: the spec has no `compile.loss`: training and evaluating "
            "need one (add compile: {optimizer: adam, loss: mse})",
            markup=False,
        )
        sys.exit(ExitCode.INVALID)


def training_data(checked: api.Checked, options: dict[str, Any], with_targets: bool) -> dict:
    """The --data arrays (checked, converted) or --synthetic ones; exit 1 on bad data."""
    from ..train import data

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
    from ..train import strategies

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


def located_or_exit(make: Callable[[], Any]) -> Any:
    """What ``make`` returns; a located Keras refusal (E400) is printed, exit 1."""
    try:
        return make()
    except SpecError as e:
        exit_invalid(e.diagnostics)


def check_export_dir(directory: Path) -> Path:
    """A SavedModel goes to a new directory; refuse, before training, an existing one or
    a place where none can be made (tried for real: os.access cannot tell /proc)."""
    if directory.exists():
        raise click.BadParameter(f"`{directory}` already exists", param_hint="--export")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.absolute().parent))
    except OSError as e:
        hint = e.strerror or str(e)
        message = f"cannot write `{directory}`: {hint}"
        raise click.BadParameter(message, param_hint="--export") from None
    return directory


def export_atomically(model: Any, directory: Path) -> None:
    """``model.export`` to a temporary directory beside ``directory``, then a rename."""
    import shutil

    parent = directory.absolute().parent
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=parent))
    except OSError as e:
        raise click.FileError(str(directory), hint=e.strerror or str(e)) from None
    try:
        model.export(str(tmp), format="tf_saved_model", verbose=False)
        os.chmod(tmp, ordinary_mode(0o777))  # mkdtemp makes 0700
        os.rename(tmp, directory)
    except OSError as e:
        raise click.FileError(str(directory), hint=e.strerror or str(e)) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
