"""Every spec in specs/ compiles to exactly the model its hand-written Keras code gives."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import handwritten
import keraspec
from keras_compare import (
    assert_same_compile,
    assert_same_model,
    assert_same_outputs,
    compile_summary,
    layer_tree,
    predict,
    random_inputs,
)

pytestmark = pytest.mark.keras

SPECS_DIR = Path(__file__).parent.parent / "specs"
SPECS = sorted(SPECS_DIR.glob("*.yaml"))
HEADLINE = SPECS_DIR / "headline.yaml"


def handwritten_model(spec: Path) -> keras.Model:
    make = handwritten.MODELS.get(spec.stem)
    if make is None:
        pytest.fail(f"{spec.name} has no hand-written counterpart in tests/handwritten.py")
    return make()


def test_specs_exist() -> None:
    assert SPECS, "no specs/*.yaml found"
    assert {s.stem for s in SPECS} >= set(handwritten.MODELS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_spec_builds_the_handwritten_model(spec: Path) -> None:
    keras.utils.set_random_seed(0)
    built = keraspec.build(spec)
    reference = handwritten_model(spec)
    assert_same_model(built, reference)
    assert_same_compile(built, reference)


# Saving a compiled, never-trained model stores an unbuilt optimizer; Keras warns on reload.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_saved_model_reloads_with_same_predictions(spec: Path, tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = keraspec.build(spec)
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    assert layer_tree(reloaded) == layer_tree(model)
    inputs = random_inputs(model)
    assert_same_outputs(predict(model, inputs), predict(reloaded, inputs))
    if getattr(model, "compiled", False):
        assert compile_summary(reloaded) == compile_summary(model)


def headline_batch(size: int = 4) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    x = [
        rng.integers(0, 10000, size=(size, 100)).astype("int32"),
        rng.standard_normal((size, 5)).astype("float32"),
    ]
    y = [rng.integers(0, 2, size=(size, 1)).astype("float32") for _ in range(2)]
    return x, y


def test_headline_trains_with_one_weighted_loss_per_output() -> None:
    keras.utils.set_random_seed(0)
    model = keraspec.build(HEADLINE)
    assert list(model.loss) == ["binary_crossentropy", "binary_crossentropy"]
    x, y = headline_batch()
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    scores = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    weighted = scores["main_output_loss"] + 0.2 * scores["aux_output_loss"]
    assert scores["loss"] == pytest.approx(weighted, rel=1e-5)


def test_notebook_compile_call_is_rejected_by_keras() -> None:
    # Why keraspec gives one loss per output: the Keras versions we support refuse the
    # notebook's call. If this starts failing, Keras accepts it again; revisit
    # lower._Aligner.losses and docs/spec-format.md.
    model = keraspec.build(HEADLINE, compile=False)
    x, y = headline_batch()
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", loss_weights=[1.0, 0.2])
    with pytest.raises(ValueError, match="`loss_weights` must match the number of losses"):
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
