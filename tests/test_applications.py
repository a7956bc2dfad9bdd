"""specs/applications/ against keras.applications: the same models, and `--set` acting like Keras.

Each spec must give the model Keras builds (weights=None): the same parameter
count, the same layer classes, and, with the same (random, non-trivial) weights,
the same predictions.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import keras
import numpy as np
import pytest

import keraspec

pytestmark = pytest.mark.keras

APPLICATIONS = Path(__file__).parent.parent / "specs" / "applications"
CASES = [
    ("resnet50.yaml", "ResNet50", 25_636_712),
    ("mobilenet_v2.yaml", "MobileNetV2", 3_538_984),
    ("inception_v3.yaml", "InceptionV3", 23_851_784),
    ("densenet121.yaml", "DenseNet121", 8_062_504),
]
TOLERANCE = 1e-5


def layer_classes(model: keras.Model) -> Counter[str]:
    return Counter(type(layer).__name__ for layer in model.layers)


def randomize(model: keras.Model, seed: int = 0) -> None:
    """Weights far from Keras's initial ones, so that outputs depend on every layer.

    He-scaled kernels and near-identity batch-norm statistics keep the signal of
    the input alive through a deep network (with large offsets it fades to a
    constant, and the comparison would prove little).
    """
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape, name = tuple(variable.shape), variable.path
        if name.endswith(("moving_variance", "gamma")):
            value = rng.uniform(0.8, 1.2, shape)
        elif name.endswith(("moving_mean", "beta", "bias")):
            value = rng.normal(0, 0.01, shape)
        else:
            value = rng.normal(0, np.sqrt(2 / fan_in(name, shape)), shape)
        variable.assign(value.astype("float32"))


def fan_in(name: str, shape: tuple[int, ...]) -> int:
    if "depthwise" in name:  # (rows, cols, channels, 1): each filter sees rows × cols values
        return shape[0] * shape[1]
    return int(np.prod(shape[:-1])) if len(shape) > 1 else 1


def copy_weights(source: keras.Model, target: keras.Model) -> None:
    """By layer name when the names match; otherwise pairwise in ``model.layers`` order."""
    names = [layer.name for layer in source.layers]
    if sorted(names) == sorted(layer.name for layer in target.layers):
        for layer in source.layers:
            target.get_layer(layer.name).set_weights(layer.get_weights())
        return
    pairs = list(zip(source.layers, target.layers, strict=True))
    assert [type(a).__name__ for a, _ in pairs] == [type(b).__name__ for _, b in pairs]
    for a, b in pairs:
        b.set_weights(a.get_weights())


@pytest.mark.parametrize(("spec", "application", "params"), CASES, ids=[c[1] for c in CASES])
def test_spec_is_the_keras_application(spec: str, application: str, params: int) -> None:
    built = keraspec.build(APPLICATIONS / spec)
    reference = getattr(keras.applications, application)(weights=None)
    assert built.count_params() == reference.count_params() == params
    assert layer_classes(built) == layer_classes(reference)
    assert [tuple(t.shape) for t in built.inputs] == [tuple(t.shape) for t in reference.inputs]

    randomize(reference)
    copy_weights(reference, built)
    images = np.random.default_rng(1).uniform(-1, 1, (2, *reference.inputs[0].shape[1:]))
    (features, predictions), (got_features, got_predictions) = (
        outputs(reference, images),
        outputs(built, images),
    )
    scale = np.abs(features).max()
    assert np.isfinite(features).all()
    # The two images give different features, so the comparison proves something.
    assert np.abs(features[0] - features[1]).max() > 1e-3 * scale
    assert np.abs(got_features - features).max() <= TOLERANCE * max(1.0, scale)
    assert np.abs(got_predictions - predictions).max() <= TOLERANCE


def outputs(model: keras.Model, images: np.ndarray) -> list[np.ndarray]:
    """The pooled features (layer before the classifier) and the predictions."""
    probe = keras.Model(model.inputs[0], [model.layers[-2].output, model.outputs[0]])
    return [keras.ops.convert_to_numpy(t) for t in probe(images.astype("float32"), training=False)]


def count(spec: str, **params: object) -> int:
    return keraspec.build(keraspec.load(APPLICATIONS / spec, params=params)).count_params()


@pytest.mark.parametrize("alpha", [0.5, 1.4])
def test_mobilenet_alpha_changes_the_model_as_keras_does(alpha: float) -> None:
    reference = keras.applications.MobileNetV2(alpha=alpha, weights=None).count_params()
    assert count("mobilenet_v2.yaml", alpha=alpha) == reference != CASES[1][2]


def test_resnet_depths_give_resnet101() -> None:
    reference = keras.applications.ResNet101(weights=None)
    assert count("resnet50.yaml", depths=[3, 4, 23, 3]) == reference.count_params() == 44_707_176


def test_densenet_blocks_give_densenet169() -> None:
    reference = keras.applications.DenseNet169(weights=None)
    assert count("densenet121.yaml", blocks=[6, 12, 32, 32]) == reference.count_params()
    assert reference.count_params() == 14_307_880


def test_resnet_stage_names_follow_keras() -> None:
    flat = keraspec.load(APPLICATIONS / "resnet50.yaml", params={"depths": [1, 2, 1, 1]})
    stage3 = [name for name in flat.nodes if name.startswith("conv3_")]
    assert stage3[:3] == ["conv3_block1_0_conv", "conv3_block1_0_bn", "conv3_block1_1_conv"]
    assert "conv3_block2_0_conv" not in stage3  # identity shortcut: `when` dropped it
    assert stage3[-1] == "conv3_block2_out"


def test_size_table_in_the_docs_is_current() -> None:
    import architecture_sizes

    doc = architecture_sizes.DOC.read_text(encoding="utf-8")
    assert architecture_sizes.table() in doc, "run `make sizes`"
    for spec in architecture_sizes.MODELS:  # the claim the table supports
        ours = architecture_sizes.spec_lines(APPLICATIONS / spec)
        name, module, functions = architecture_sizes.MODELS[spec]
        assert ours < architecture_sizes.keras_lines(module, functions), name
