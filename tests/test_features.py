"""Each feature the format promises, built with Keras and checked on the real model."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import keraspec

pytestmark = pytest.mark.keras
VALID = Path(__file__).parent / "cases" / "valid"


def build(name: str, compile: bool = True) -> keras.Model:
    return keraspec.build(VALID / f"{name}.yaml", compile=compile)


def test_input_options() -> None:
    model = build("input_options")
    tokens, fixed, bag = model.inputs
    assert (tokens.shape, tokens.dtype) == ((None, None), "int32")
    assert fixed.shape == (4, 6)
    assert bag.sparse and not tokens.sparse
    assert [t.name for t in model.inputs] == ["tokens", "fixed", "bag"]


def test_wrappers_take_nested_layers_and_objects() -> None:
    model = build("wrappers_and_objects")
    bi = model.get_layer("bi")
    assert isinstance(bi.forward_layer, keras.layers.LSTM)
    assert (bi.forward_layer.units, bi.merge_mode) == (6, "sum")
    inner = model.get_layer("per_step").layer
    assert isinstance(inner.kernel_initializer, keras.initializers.HeNormal)
    assert inner.kernel_initializer.seed == 3
    head = model.get_layer("head")
    assert isinstance(head.kernel_regularizer, keras.regularizers.L2)
    assert head.kernel_regularizer.l2 == pytest.approx(0.01)
    assert isinstance(head.bias_regularizer, keras.regularizers.L1)
    assert isinstance(head.kernel_constraint, keras.constraints.MaxNorm)
    assert head.kernel_constraint.max_value == 2.0
    assert isinstance(head.bias_constraint, keras.constraints.NonNeg)
    np.testing.assert_allclose(head.bias.numpy(), [0.5, 0.5])
    np.testing.assert_allclose(head.kernel.numpy(), 0.0)


def test_named_outputs_train_by_name() -> None:
    model = build("named_outputs")
    x = np.ones((4, 4), "float32")
    prediction = model.predict(x, verbose=0)
    assert set(prediction) == {"score", "label"}
    assert prediction["label"].shape == (4, 3)
    targets = {"score": np.zeros((4, 1)), "label": np.array([0, 1, 2, 0])}
    history = model.fit(x, targets, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_ops_compute_what_numpy_computes() -> None:
    model = build("ops")
    rng = np.random.default_rng(0)
    # `slice` keeps batch row 0 only, so the concatenation needs a batch of one.
    a, b = rng.normal(size=(2, 1, 4, 6)).astype("float32")
    flat = ((a + b) * 0.5 - 1).transpose(0, 2, 1).reshape(-1, 24)
    mean = a[:1, :2, :].mean(axis=1)
    expected = np.tanh(np.concatenate([flat[:, :12], flat[:, 12:], mean], axis=-1))
    got = model.predict([a, b], verbose=0)
    assert got.shape == (1, 30)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_submodels_share_weights_and_wrap() -> None:
    model = build("submodels")
    encoder = model.get_layer("encoder")
    projector = encoder.get_layer("projector")
    assert model.get_layer("per_frame").layer is projector
    assert [n for n in (lay.name for lay in model.layers) if n == "encoder"] == ["encoder"]
    # projector 5*4+4, encoder head 4*2+2: each counted once though called three times
    assert model.count_params() == 24 + 10


def test_shared_layer_is_one_instance() -> None:
    model = build("shared_layers")
    shared = model.get_layer("shared_dense")
    assert len(shared._inbound_nodes) == 2
    assert model.count_params() == 3 * 7 + 7
    a = np.ones((1, 3), "float32")
    out = model.predict([a, a], verbose=0)
    np.testing.assert_allclose(out[:, :7], out[:, 7:])


def test_call_arguments_and_indexed_outputs() -> None:
    model = build("call_arguments")
    attention = model.get_layer("attention")
    assert isinstance(attention, keras.layers.MultiHeadAttention)
    node = attention._inbound_nodes[0]
    assert node.arguments.kwargs["return_attention_scores"] is True
    dropout_node = model.get_layer("frozen_dropout")._inbound_nodes[0]
    assert dropout_node.arguments.kwargs["training"] is False
    decoder_node = model.get_layer("decoder")._inbound_nodes[0]
    assert "initial_state" in decoder_node.arguments.kwargs
    q = np.ones((2, 6, 8), "float32")
    v = np.ones((2, 9, 8), "float32")
    state, scores = model.predict([q, v], verbose=0)
    assert state.shape == (2, 5)
    assert scores.shape == (2, 2 * 6 * 9)  # heads x query steps x value steps


def test_compile_lists_align_with_outputs() -> None:
    model = build("compile_lists")
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.momentum) == pytest.approx(0.9)
    x = np.ones((4, 4), "float32")
    history = model.fit(x, [np.ones((4, 1)), np.zeros((4, 2))], epochs=1, verbose=0)
    assert {"a_mae", "b_mae"} <= set(history.history)


def test_compile_false_leaves_model_uncompiled() -> None:
    model = build("compile_lists", compile=False)
    assert not model.compiled


def test_yaml_features_expand_like_the_written_out_spec() -> None:
    model = build("yaml_features")
    assert [type(lay).__name__ for lay in model.layers] == ["InputLayer", "Dense", "Dense", "Dense"]
    assert model.get_layer("h2").activation.__name__ == "relu"
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_op_nodes_are_named_after_their_ids(tmp_path) -> None:
    model = build("op_names")
    assert [op.name for op in model.operations] == ["x", "add", "y", "total"]
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    assert [op.name for op in reloaded.operations] == ["x", "add", "y", "total"]


def test_named_submodel_outputs_are_indexed_in_declaration_order() -> None:
    model = build("named_submodel_outputs")
    assert model.get_layer("from_zz").kernel.shape == (1, 3)
    assert model.get_layer("from_aa").kernel.shape == (2, 3)


# Saving a compiled, never-trained model stores an unbuilt optimizer; Keras warns on reload.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_bidirectional_without_merge_mode_and_metric_objects(tmp_path) -> None:
    model = build("bidirectional_outputs")
    assert model.get_layer("forward").kernel.shape == (4, 1)
    assert isinstance(model.metrics[-1], keras.metrics.Metric)
    model.save(tmp_path / "m.keras")  # metric objects must serialize
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    assert reloaded.count_params() == model.count_params()


def test_rnn_cells_as_lists_and_stacked() -> None:
    model = build("rnn_cells")
    x = keras.Input((5, 3))
    cells = [keras.layers.LSTMCell(4), keras.layers.GRUCell(2)]
    stacked = keras.layers.RNN(cells)(x)
    pair = [keras.layers.SimpleRNNCell(3), keras.layers.SimpleRNNCell(2)]
    via_stack = keras.layers.RNN(keras.layers.StackedRNNCells(pair))(x)
    reference = keras.Model(x, keras.layers.Concatenate()([stacked, via_stack]))
    assert model.count_params() == reference.count_params() == 209
    assert [type(c).__name__ for c in model.get_layer("stacked").cell.cells] == [
        "LSTMCell",
        "GRUCell",
    ]
