"""Train, evaluate and predict with a spec's model: Keras's own fit, evaluate and predict.

The model is built and compiled inside the strategy's scope (so its variables are
the strategy's), the data is fed by input and output name, and the callbacks are
the spec's ``fit.callbacks``, made from the catalog's allowed classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .. import api, catalog
from ..diagnostics import Location
from ..emit.keras_model import located
from ..ir import Program
from ..parse import source_of
from ..schema import ObjectSpec, Spec
from ..training_check import NAMES_A_FILE, PATH_ARGS


@dataclass(frozen=True)
class FitSettings:
    """``model.fit``'s arguments: the spec's ``fit:`` with the command line's overrides."""

    epochs: int = 1
    batch_size: int = 32
    validation_split: float = 0.0
    shuffle: bool = True
    callbacks: tuple[Any, ...] = ()  # the spec's: names or ObjectSpecs
    verbose: Any = "auto"


def fit_settings(spec: Spec, **overrides: Any) -> FitSettings:
    """The spec's ``fit:`` section with every override that is not None."""
    fit = spec.fit
    found = FitSettings()
    if fit is not None:
        split, callbacks = fit.validation_split, tuple(fit.callbacks)
        found = FitSettings(fit.epochs, fit.batch_size, split, fit.shuffle, callbacks)
    return replace(found, **{k: v for k, v in overrides.items() if v is not None})


def build_in_scope(program: Program, strategy: tf.distribute.Strategy) -> keras.Model:
    """The checked program's compiled model, its variables made by ``strategy``."""
    with strategy.scope():
        return api.build(program)


def load_weights(model: keras.Model, path: str) -> None:
    """Trained weights (a ``.keras`` or ``.weights.h5`` file) into the spec's model.

    The optimizer is built first, so that its saved state loads too instead of
    being skipped with a warning.
    """
    optimizer = getattr(model, "optimizer", None)  # an uncompiled model has none
    if optimizer is not None and not optimizer.built:
        with model.distribute_strategy.scope():
            optimizer.build(model.trainable_variables)
    model.load_weights(path)


def make_callbacks(spec: Spec, settings: FitSettings) -> list[keras.callbacks.Callback]:
    """The spec's callbacks; Keras's refusal of an argument is an E400 at its entry."""
    source = source_of(spec)
    made = []
    for i, callback in enumerate(settings.callbacks):
        where = source.value(("fit", "callbacks", i))
        made.append(_callback(callback, where, f"callback `fit.callbacks[{i}]`"))
    return made


def _callback(callback: str | ObjectSpec, where: Location, who: str) -> keras.callbacks.Callback:
    name, args = (callback, {}) if isinstance(callback, str) else (callback.type, callback.args)
    if name not in catalog.classes("callbacks"):  # validate refused it already
        raise ValueError(f"callback `{name}` is not in the catalog")
    with located(where, who):
        return getattr(keras.callbacks, name)(**args)


def make_folders(settings: FitSettings) -> None:
    """The folders the callbacks' files go in (``logs/`` of ``logs/train.csv``).

    Keras makes TensorBoard's and BackupAndRestore's directories itself, but not a
    CSV log's folder. The paths were checked to stay inside the working directory.
    """
    for callback in settings.callbacks:
        if isinstance(callback, ObjectSpec) and callback.type in NAMES_A_FILE:
            path = callback.args.get(PATH_ARGS[callback.type])
            if isinstance(path, str):
                Path(path).parent.mkdir(parents=True, exist_ok=True)


def targets(program: Program, arrays: Mapping[str, np.ndarray]) -> Any:
    """Target arrays in the structure of the model's outputs: a mapping or a list."""
    keys = [key for key, _ in program.main.outputs]
    if program.main.named_outputs:
        return {key: arrays[key] for key in keys}
    values = [arrays[key] for key in keys]
    return values[0] if len(values) == 1 else values


def inputs(program: Program, arrays: Mapping[str, np.ndarray]) -> Any:
    """Input arrays by name; a single-input model takes its one array as is."""
    found = {d.id: arrays[d.id] for d in program.main.inputs}
    return next(iter(found.values())) if len(found) == 1 else found


def fit(
    model: keras.Model,
    program: Program,
    arrays: Mapping[str, np.ndarray],
    settings: FitSettings,
    callbacks: list[keras.callbacks.Callback],
) -> keras.callbacks.History:
    make_folders(settings)
    return model.fit(
        inputs(program, arrays),
        targets(program, arrays),
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        validation_split=settings.validation_split,
        shuffle=settings.shuffle,
        callbacks=callbacks,
        verbose=settings.verbose,
    )


def evaluate(
    model: keras.Model,
    program: Program,
    arrays: Mapping[str, np.ndarray],
    batch_size: int,
    verbose: Any,
) -> dict[str, float]:
    results = model.evaluate(
        inputs(program, arrays),
        targets(program, arrays),
        batch_size=batch_size,
        verbose=verbose,
        return_dict=True,
    )
    return {name: float(value) for name, value in results.items()}


def predict(
    model: keras.Model,
    program: Program,
    arrays: Mapping[str, np.ndarray],
    batch_size: int,
    verbose: Any,
) -> dict[str, np.ndarray]:
    """Predictions named after the spec's outputs."""
    found = model.predict(inputs(program, arrays), batch_size=batch_size, verbose=verbose)
    keys = [key for key, _ in program.main.outputs]
    if isinstance(found, Mapping):
        return {key: np.asarray(found[key]) for key in keys}
    found = found if isinstance(found, (list, tuple)) else [found]
    return {key: np.asarray(value) for key, value in zip(keys, found, strict=True)}
