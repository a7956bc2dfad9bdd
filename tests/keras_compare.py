"""Assertions that two Keras models are the same model: structure, weights, function, compile."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

BATCH = 2
FREE_DIM = 7  # the concrete length used for every `None` dimension
TOLERANCE = 1e-5


def assert_same_model(built: keras.Model, handwritten: keras.Model) -> None:
    """Same parameters, layer classes, weight shapes, and, with copied weights, same outputs."""
    assert_same_structure(built, handwritten)
    handwritten.set_weights(built.get_weights())
    inputs = random_inputs(built)
    assert_same_outputs(predict(built, inputs), predict(handwritten, inputs))


def assert_same_structure(built: keras.Model, handwritten: keras.Model) -> None:
    """Same parameters, layer classes, inputs and weight shapes (no prediction)."""
    _assert_equal("count_params()", built.count_params(), handwritten.count_params())
    _assert_equal("layer classes", layer_tree(built), layer_tree(handwritten))
    _assert_equal("inputs", input_specs(built), input_specs(handwritten))
    _assert_equal("weight shapes", weight_shapes(built), weight_shapes(handwritten))


def layer_tree(model: keras.Model) -> list[Any]:
    """Class names of ``model.layers`` in order, nested models expanded into sub-lists."""
    return [
        (type(layer).__name__, layer_tree(layer))
        if isinstance(layer, keras.Model)
        else type(layer).__name__
        for layer in model.layers
    ]


def input_specs(model: keras.Model) -> list[tuple[tuple[int | None, ...], str]]:
    return [(tuple(t.shape), str(t.dtype)) for t in model.inputs]


def weight_shapes(model: keras.Model) -> list[tuple[int, ...]]:
    return [tuple(w.shape) for w in model.weights]


def random_inputs(model: keras.Model, seed: int = 0) -> list[np.ndarray]:
    """One seeded batch for every model input; integer inputs stay inside every vocabulary."""
    rng = np.random.default_rng(seed)
    high = vocabulary_size(model)
    arrays = []
    for tensor in model.inputs:
        shape = (BATCH, *(FREE_DIM if d is None else d for d in tensor.shape[1:]))
        dtype = np.dtype(str(tensor.dtype))
        if np.issubdtype(dtype, np.integer):
            arrays.append(rng.integers(0, high, size=shape).astype(dtype))
        else:
            arrays.append(rng.standard_normal(shape).astype(dtype))
    return arrays


def vocabulary_size(model: keras.Model, default: int = 2) -> int:
    """The smallest ``input_dim`` of any Embedding in the model, nested models included."""
    sizes = [
        layer.input_dim for layer in all_layers(model) if isinstance(layer, keras.layers.Embedding)
    ]
    return min(sizes, default=default)


def all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found += all_layers(layer)
    return found


def predict(model: keras.Model, inputs: list[np.ndarray]) -> Any:
    # A direct call skips predict()'s tf.function tracing, which dominates on tiny batches.
    outputs = model(inputs[0] if len(inputs) == 1 else inputs, training=False)
    return keras.tree.map_structure(keras.ops.convert_to_numpy, outputs)


def assert_same_outputs(expected: Any, actual: Any, tolerance: float = TOLERANCE) -> None:
    """Same list/dict structure, shapes and dtypes, values within ``tolerance``."""
    keras.tree.assert_same_structure(expected, actual)
    for want, got in zip(keras.tree.flatten(expected), keras.tree.flatten(actual), strict=True):
        _assert_equal("output shape", want.shape, got.shape)
        _assert_equal("output dtype", want.dtype, got.dtype)
        np.testing.assert_allclose(got, want, rtol=0, atol=tolerance)


def assert_same_compile(built: keras.Model, handwritten: keras.Model) -> None:
    """Same optimizer and, output by output, the same losses, loss weights and metrics."""
    compiled = getattr(built, "compiled", False)
    _assert_equal("compiled", compiled, getattr(handwritten, "compiled", False))
    if compiled:
        _assert_equal("compile", compile_summary(built), compile_summary(handwritten))


def compile_summary(model: keras.Model) -> dict[str, Any]:
    """The compile config with per-output arguments aligned to ``model.output_names``."""
    config = model.get_compile_config()
    optimizer = dict(config["optimizer"], config=_unnamed(config["optimizer"]["config"]))
    names = list(model.output_names)
    return {
        "optimizer": optimizer,
        "loss": per_output(config["loss"], names),
        "loss_weights": per_output(config["loss_weights"], names),
        "metrics": per_output(config["metrics"], names, nested=True),
        "weighted_metrics": per_output(config["weighted_metrics"], names, nested=True),
    }


def per_output(value: Any, names: list[str], nested: bool = False) -> list[Any] | None:
    """``value`` as one entry per output, whichever of Keras's forms it was written in.

    A single value applies to every output; with ``nested``, so does a flat list.
    """
    if value is None:
        return None
    if isinstance(value, dict):
        return [value.get(name) for name in names]
    if isinstance(value, list) and not (nested and not _is_list_of_lists(value)):
        return list(value)
    return [value] * len(names)


def _is_list_of_lists(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(v, list) or v is None for v in value)


def _unnamed(config: dict[str, Any]) -> dict[str, Any]:
    # Optimizer names are uniquified per process (rm_sprop, rm_sprop_1 ...), so they never match.
    return {k: v for k, v in config.items() if k != "name"}


def _assert_equal(what: str, built: Any, handwritten: Any) -> None:
    # Helpers outside test modules get no pytest assertion rewriting, so say what differs.
    assert built == handwritten, f"{what} differ:\n  built: {built}\n  handwritten: {handwritten}"
