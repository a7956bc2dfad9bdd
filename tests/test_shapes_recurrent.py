"""Recurrent and attention layers: what static inference says equals what Keras builds.

Explicit cases pin Keras's shapes, parameter counts and quirks: Keras builds an RNN
from shapes alone, so initial states and unrolling over unknown time are not
checked; a Bidirectional's shapes are its forward layer's; MultiHeadAttention's
scores are sized by the query's second axis twice. What Keras refuses is an E600 at
the node, and Keras refuses it too. Hypothesis then draws configurations and
compares them with Keras through the oracle (tests/shape_oracle.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keraspec
from keraspec import api, shapes
from shape_oracle import assert_same_as_keras, infer_node, located

pytestmark = pytest.mark.keras

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def spec(inputs: str, node: str, extra: str = "") -> str:
    """Inputs ``inputs`` (a flow mapping) and one node ``y`` (line 5, column 3)."""
    return f"keraspec: 1\nname: t\ninputs: {inputs}\nnodes:\n  y: {{{node}}}\noutputs: [y]\n{extra}"


def flow(args: dict[str, Any]) -> str:
    """Layer arguments as a YAML flow mapping's body (JSON values are YAML)."""
    return ", ".join(f"{k}: {v if isinstance(v, Raw) else json.dumps(v)}" for k, v in args.items())


class Raw(str):
    """A value written as is (a nested flow mapping, a reference)."""


SEQ = "{x: {shape: [5, 3]}}"
LSTM4 = "{type: LSTM, units: 4, return_sequences: true, return_state: true}"
QV = "{q: {shape: [6, 8]}, v: {shape: [9, 5]}, k: {shape: [9, 7]}}"
MHA = "type: MultiHeadAttention, num_heads: 2, key_dim: 3"
GQA = "type: GroupQueryAttention, head_dim: 3, num_query_heads: 4, num_key_value_heads: 2"
QVK = "{q: {shape: [6, 8]}, v: {shape: [9, 5]}, k: {shape: [4, 7]}}"
SCORES = "call: {return_attention_scores: true}"
CONV = "type: ConvLSTM2D, filters: 5, kernel_size: 3"

# What Keras builds: every output shape (batch axis first) and count_params().
BUILDS = [
    # kernel (in, g*units), recurrent kernel (units, g*units), bias: g = 4, 3, 1
    (SEQ, "type: LSTM, units: 4, inputs: x", [(None, 4)], 128),
    (SEQ, LSTM4[1:-1] + ", inputs: x", [(None, 5, 4), (None, 4), (None, 4)], 128),
    (SEQ, "type: GRU, units: 4, inputs: x", [(None, 4)], 108),  # reset_after: bias (2, 12)
    (
        SEQ,
        "type: GRU, units: 4, reset_after: false, return_sequences: true, return_state: true, "
        "inputs: x",
        [(None, 5, 4), (None, 4)],
        96,
    ),
    (
        SEQ,
        "type: SimpleRNN, units: 4, use_bias: false, return_state: true, inputs: x",
        [(None, 4)] * 2,
        28,
    ),
    # Keras builds from shapes: unrolling unknown time and the initial state's shape
    # fail only when the model runs
    ("{x: {shape: [null, 3]}}", "type: LSTM, units: 4, unroll: true, inputs: x", [(None, 4)], 128),
    (
        "{x: {shape: [5, 3]}, h: {shape: [7]}}",
        "type: GRU, units: 4, inputs: {sequences: x, initial_state: h}",
        [(None, 4)],
        108,
    ),
    (
        "{x: {shape: [5, 3], batch_size: 2}}",
        "type: LSTM, units: 4, stateful: true, inputs: x",
        [(2, 4)],
        128,
    ),
    # RNN has no input spec: a time step may have several axes, or none but the batch's
    (
        "{x: {shape: [5, 3, 2]}}",
        "type: RNN, cell: {type: LSTMCell, units: 4}, inputs: x",
        [(None, 4)],
        112,
    ),
    (
        "{x: {shape: [5], batch_size: 2}}",
        "type: RNN, cell: {type: LSTMCell, units: 4}, inputs: x",
        [(2, 4)],
        112,
    ),
    (  # a list of cells is a stack: states in cell order, the output is the last cell's
        SEQ,
        "type: RNN, return_state: true, inputs: x, "
        "cell: [{type: GRUCell, units: 4, reset_after: false}, {type: SimpleRNNCell, units: 2}]",
        [(None, 2), (None, 4), (None, 2)],
        110,
    ),
    (
        SEQ,
        "type: RNN, return_sequences: true, return_state: true, inputs: x, "
        "cell: {type: StackedRNNCells, cells: [{type: GRUCell, units: 3}]}",
        [(None, 5, 3), (None, 3)],
        72,
    ),
    # Bidirectional: forward states, then backward states
    (SEQ, f"type: Bidirectional, layer: {LSTM4}, inputs: x", [(None, 5, 8)] + [(None, 4)] * 4, 256),
    (
        SEQ,
        f"type: Bidirectional, merge_mode: ave, layer: {LSTM4}, inputs: x",
        [(None, 5, 4)] + [(None, 4)] * 4,
        256,
    ),
    (
        SEQ,
        f"type: Bidirectional, merge_mode: null, layer: {LSTM4}, inputs: x",
        [(None, 5, 4)] * 2 + [(None, 4)] * 4,
        256,
    ),
    (  # shapes are the forward layer's, though the backward GRU has 6 units
        SEQ,
        "type: Bidirectional, layer: {type: LSTM, units: 4}, "
        "backward_layer: {type: GRU, units: 6, go_backwards: true}, inputs: x",
        [(None, 8)],
        326,
    ),
    (  # concat doubles the last axis, channels or not
        "{x: {shape: [4, 3, 10, 10]}}",
        "type: Bidirectional, inputs: x, layer: "
        "{type: ConvLSTM2D, filters: 5, kernel_size: 3, data_format: channels_first}",
        [(None, 5, 8, 16)],
        2920,
    ),
    # TimeDistributed builds the layer it wraps itself, without that layer's input spec
    (
        "{x: {shape: [7, 5, 3]}}",
        "type: TimeDistributed, layer: {type: Dense, units: 4}, inputs: x",
        [(None, 7, 5, 4)],
        16,
    ),
    (
        "{x: {shape: [7, 5, 3, 2]}}",
        "type: TimeDistributed, layer: {type: LSTM, units: 4}, inputs: x",
        [(None, 7, 4)],
        112,
    ),
    (  # nor does a Bidirectional it wraps check its forward layer's
        "{x: {shape: [7, 5, 3, 2]}}",
        "type: TimeDistributed, inputs: x, "
        "layer: {type: Bidirectional, layer: {type: LSTM, units: 2}}",
        [(None, 7, 4)],
        80,
    ),
    (  # ConvLSTM: kernels (k..., in, 4f) and (k..., f, 4f), bias (4f,)
        "{x: {shape: [4, 10, 10, 3]}}",
        "type: ConvLSTM2D, filters: 5, kernel_size: 3, return_sequences: true, return_state: true, "
        "inputs: x",
        [(None, 4, 8, 8, 5), (None, 8, 8, 5), (None, 8, 8, 5)],
        1460,
    ),
    (
        "{x: {shape: [4, 10, 3]}}",
        "type: ConvLSTM1D, filters: 5, kernel_size: 3, strides: 2, padding: same, inputs: x",
        [(None, 5, 5)],
        500,
    ),
    (
        "{x: {shape: [4, 3, 10, 10]}}",
        "type: ConvLSTM2D, filters: 5, kernel_size: [3, 2], data_format: channels_first, inputs: x",
        [(None, 5, 8, 9)],
        980,
    ),
    (
        "{x: {shape: [4, 10, 10, 3]}}",
        f"{CONV}, dilation_rate: 2, use_bias: false, inputs: x",
        [(None, 6, 6, 5)],
        1440,
    ),
    (
        "{x: {shape: [3, 6, 6, 6, 2]}}",
        "type: ConvLSTM3D, filters: 2, kernel_size: [2, 3, 1], strides: [1, 2, 3], "
        "return_sequences: true, inputs: x",
        [(None, 3, 5, 2, 2, 2)],
        200,
    ),
    # MultiHeadAttention: query, key, value kernels (dim, heads, size), output kernel
    # (heads, value_dim, *output_shape)
    (QV, f"{MHA}, inputs: {{query: q, value: v}}, {SCORES}", [(None, 6, 8), (None, 2, 6, 6)], 182),
    (
        QV,
        f"{MHA}, value_dim: 4, output_shape: [2, 3], use_bias: false, "
        "inputs: {query: q, value: v, key: k}",
        [(None, 6, 2, 3)],
        178,
    ),
    (
        QV,
        f"{MHA}, output_shape: 5, use_gate: true, inputs: {{query: q, value: v, key: k}}",
        [(None, 6, 5)],
        227,
    ),
    (  # scores: (batch, heads, query.shape[1], query.shape[1]) whatever the attention axes
        "{q: {shape: [4, 6, 8]}, v: {shape: [4, 9, 5]}}",
        f"{MHA}, attention_axes: [1, 2], inputs: {{query: q, value: v}}, {SCORES}",
        [(None, 4, 6, 8), (None, 2, 4, 4)],
        182,
    ),
    (
        "{q: {shape: [8]}, v: {shape: [5]}}",
        f"{MHA}, inputs: {{query: q, value: v}}, {SCORES}",
        [(None, 8), (None, 2, 8, 8)],
        182,
    ),
    (QV, f"{MHA}, attention_axes: -7, inputs: {{query: q, value: v}}", [(None, 6, 8)], 182),
    # GroupQueryAttention reads features on axis 2 (the last of rank-3 inputs)
    (
        "{q: {shape: [6, 8]}, v: {shape: [9, 8]}, k: {shape: [9, 7]}}",
        f"{GQA}, inputs: {{query: q, value: v, key: k}}, {SCORES}",
        [(None, 6, 8), (None, 4, 6, 9)],
        314,
    ),
    (
        "{q: {shape: [2, 6, 8]}, v: {shape: [2, 9, 8]}}",
        f"{GQA}, inputs: {{query: q, value: v}}, {SCORES}",
        [(None, 2, 6, 8), (None, 4, 2, 2)],
        308,
    ),
    (
        "{q: {shape: [6, 8]}, v: {shape: [9, 8]}}",
        f"{GQA}, use_bias: false, use_gate: true, inputs: {{query: q, value: v}}",
        [(None, 6, 8)],
        384,
    ),
    # Attention: two scalars at most; AdditiveAttention: a scale per query feature
    (QVK, f"type: Attention, inputs: [q, v, k], {SCORES}", [(None, 6, 5), (None, 6, 4)], 0),
    (
        QVK,
        "type: Attention, use_scale: true, score_mode: concat, inputs: [q, v]",
        [(None, 6, 5)],
        2,
    ),
    (QVK, f"type: AdditiveAttention, inputs: [q, v], {SCORES}", [(None, 6, 5), (None, 6, 9)], 8),
    (
        "{q: {shape: [3]}, v: {shape: [2, 5, 4]}}",
        f"type: Attention, inputs: {{inputs: [q, v]}}, {SCORES}",
        [(None, 4), (None, 5)],
        0,
    ),
]


@pytest.mark.parametrize(("inputs", "node", "outputs", "params"), BUILDS)
def test_output_shapes_and_parameters(inputs: str, node: str, outputs: list, params: int) -> None:
    text = spec(inputs, node)
    inferred = infer_node(text)
    assert ([t.shape for t in inferred.tensors], inferred.params) == (outputs, params)
    assert_same_as_keras(text)


SUB_MODEL = """models:
  enc:
    inputs: {a: {shape: [5, 3]}}
    nodes:
      d: {type: Dense, units: 2, inputs: a}
      f: {type: Flatten, inputs: d}
    outputs: [f]
"""
WITH_NAMES = [  # layers given by name: a shared cell, a sub-model, a shared layer
    ("type: RNN, cell: [sc, sc], inputs: x", "layers:\n  sc: {type: GRUCell, units: 3}\n", 72),
    ("type: TimeDistributed, layer: enc, inputs: t", SUB_MODEL, 8),
    ("type: TimeDistributed, layer: sd, inputs: t", "layers:\n  sd: {type: Dense, units: 2}\n", 8),
]


@pytest.mark.parametrize(("node", "extra", "params"), WITH_NAMES)
def test_layers_given_by_name_bring_their_weights(node: str, extra: str, params: int) -> None:
    text = spec("{x: {shape: [7, 3]}, t: {shape: [7, 5, 3]}}", node, extra)
    assert infer_node(text).params == params
    assert_same_as_keras(text)


def test_outputs_take_the_wrappers_compute_dtype() -> None:
    text = spec(
        "{q: {shape: [5, 3]}}",
        "type: Bidirectional, merge_mode: ave, dtype: mixed_float16, "
        "layer: {type: GRU, units: 2, dtype: float32}, inputs: q",
    )
    assert infer_node(text).output == shapes.Tensor((None, 2), "float16")
    assert_same_as_keras(text)


def test_nested_states_of_stacked_cells_are_left_to_keras() -> None:
    """A stack holding an LSTMCell returns its states as a nested list, which a node's
    flat outputs cannot say: the node is unchecked (an info), never wrong."""
    text = spec(
        SEQ,
        "type: RNN, return_state: true, inputs: x, "
        "cell: [{type: LSTMCell, units: 4}, {type: GRUCell, units: 2}]",
    )
    inference = shapes.infer(api.lower(keraspec.loads(text)))
    assert [located(d) for d in inference.unchecked] == [
        "5:3 I600 node `y` (RNN returning nested states): shape not checked statically"
    ]
    assert_same_as_keras(text)


def test_a_bidirectional_copying_a_shared_cell_is_left_to_keras() -> None:
    """Keras rebuilds both directions from the layer's config, so a cell given by name
    becomes two new cells that are not the shared one."""
    text = spec(SEQ, "type: Bidirectional, layer: {type: RNN, cell: [sc]}, inputs: x")
    text += "layers:\n  sc: {type: GRUCell, units: 2}\n"
    inference = shapes.infer(api.lower(keraspec.loads(text)))
    assert [d.message for d in inference.unchecked] == [
        "node `y` (Bidirectional copying a layer given by name): shape not checked statically"
    ]
    assert inference.main.params is None
    assert_same_as_keras(text)


def test_a_cell_called_on_its_own_is_left_to_keras() -> None:
    text = spec(
        "{x: {shape: [3]}, h: {shape: [2]}}",
        "type: GRUCell, units: 2, inputs: {inputs: x, states: h}",
    )
    inference = shapes.infer(api.lower(keraspec.loads(text)))
    assert [d.message for d in inference.unchecked] == [
        "node `y` (GRUCell): shape not checked statically"
    ]


GO_BACK = "{type: GRU, units: 6, go_backwards: true}"
# What Keras refuses while building, as the E600 static inference reports at the node.
REFUSALS = [
    (
        "{x: {shape: [3]}}",
        "type: LSTM, units: 4, inputs: x",
        "LSTM): expects a rank-3 input (batch axis included); received (None, 3)",
    ),
    (
        "{x: {shape: [5, 3, 2]}}",
        "type: GRU, units: 4, inputs: x",
        "GRU): expects a rank-3 input (batch axis included); received (None, 5, 3, 2)",
    ),
    (
        "{x: {shape: [5, null]}}",
        "type: GRU, units: 4, inputs: x",
        "GRU): each time step, of shape (None, None), must have a known last axis; "
        "received (None, 5, None)",
    ),
    (
        SEQ,
        "type: LSTM, units: 4, stateful: true, inputs: x",
        "LSTM): `stateful: true` needs a fixed batch size (`batch_size:` on the input); "
        "received (None, 5, 3)",
    ),
    (
        "{x: {shape: [5]}}",
        "type: RNN, cell: {type: GRUCell, units: 4}, inputs: x",
        "RNN): each time step, of shape (None,), must have a known last axis; received (None, 5)",
    ),
    (
        "{x: {shape: [], batch_size: 2}}",
        "type: RNN, cell: {type: GRUCell, units: 4}, inputs: x",
        "RNN): expects a sequence input (batch, time, ...); received (2,)",
    ),
    (
        SEQ,
        "type: RNN, cell: {type: Dense, units: 3}, inputs: x",
        "RNN): `cell` must be an RNN cell (LSTMCell, GRUCell, SimpleRNNCell, StackedRNNCells "
        "or a list of cells); received Dense",
    ),
    (
        SEQ,
        "type: Bidirectional, layer: {type: Dense, units: 4}, inputs: x",
        "Bidirectional): `layer` must be a recurrent layer; received Dense",
    ),
    (
        SEQ,
        "type: Bidirectional, layer: {type: LSTM, units: 4}, "
        "backward_layer: {type: GRU, units: 6}, inputs: x",
        "Bidirectional): `layer` and `backward_layer` need different `go_backwards`; "
        "received False and False",
    ),
    (
        SEQ,
        f"type: Bidirectional, layer: {LSTM4}, backward_layer: {GO_BACK}, inputs: x",
        "Bidirectional): `layer` and `backward_layer` need the same `return_sequences`; "
        "received True and False",
    ),
    (
        SEQ,
        "type: Bidirectional, layer: {type: LSTM, units: 4, go_backwards: true}, inputs: x",
        "Bidirectional): `layer` has `go_backwards: true`, and so would its backward copy; "
        "give a `backward_layer` that goes forwards",
    ),
    (
        "{x: {shape: [3]}}",
        "type: Bidirectional, layer: {type: LSTM, units: 4}, inputs: x",
        "Bidirectional): expects a rank-3 input (batch axis included); received (None, 3)",
    ),
    (
        "{x: {shape: [5, 3]}}",
        "type: Bidirectional, layer: {type: GRU, units: 2, stateful: true}, inputs: x",
        "Bidirectional): `stateful: true` needs a fixed batch size (`batch_size:` on the input); "
        "received (None, 5, 3)",
    ),
    (
        "{x: {shape: [5, 3], batch_size: 2}}",
        "type: Bidirectional, layer: {type: GRU, units: 2, stateful: true, return_state: true}, "
        "inputs: x",
        "Bidirectional): cannot return the states of a stateful layer (Keras fails to build it)",
    ),
    (
        "{x: {shape: [7]}}",
        "type: TimeDistributed, layer: {type: Dense, units: 4}, inputs: x",
        "TimeDistributed): expects an input of rank 3 or more (batch and time axes included); "
        "received (None, 7)",
    ),
    (
        "{x: {shape: [7, 5]}}",
        "type: TimeDistributed, layer: {type: LSTM, units: 4}, inputs: x",
        "TimeDistributed): each time step, of shape (None,), must have a known last axis; "
        "received (None, 5)",
    ),
    (
        "{x: {shape: [7, 5, 3]}}",
        f"type: TimeDistributed, layer: {LSTM4}, inputs: x",
        "TimeDistributed): wraps a layer with one output; LSTM returns 3",
    ),
    (
        "{x: {shape: [4, 10, 3]}}",
        f"{CONV}, inputs: x",
        "ConvLSTM2D): expects a rank-5 input (batch axis included); received (None, 4, 10, 3)",
    ),
    (
        "{x: {shape: [4, 10, 10, 3]}}",
        "type: ConvLSTM2D, filters: 5, kernel_size: [3], inputs: x",
        "ConvLSTM2D): `kernel_size` needs 2 values, one per spatial axis; received [3]",
    ),
    (
        "{x: {shape: [4, 10, null, 3]}}",
        f"{CONV}, inputs: x",
        "ConvLSTM2D): needs static spatial axes; received (None, 4, 10, None, 3)",
    ),
    (
        "{x: {shape: [4, 10, 10, null]}}",
        f"{CONV}, inputs: x",
        "ConvLSTM2D): needs a known channel axis; received (None, 4, 10, 10, None)",
    ),
    (
        "{x: {shape: [4, 2, 10, 3]}}",
        f"{CONV}, inputs: x",
        "ConvLSTM2D): kernel (3, 3) with dilation (1, 1) does not fit the spatial axes of "
        "(None, 4, 2, 10, 3) (`padding: valid`)",
    ),
    (
        "{x: {shape: [4, 10, 10, 3]}}",
        f"{CONV}, strides: 2, dilation_rate: 2, inputs: x",
        "ConvLSTM2D): `strides` (2, 2) and `dilation_rate` (2, 2) cannot both exceed 1",
    ),
    (
        QV,
        f"{MHA}, inputs: [q, v]",
        "MultiHeadAttention): needs a `value` tensor besides the query: "
        "inputs: {query: ..., value: ...}",
    ),
    (
        QV,
        f"{MHA}, inputs: {{query: q, value: q, key: k}}",
        "MultiHeadAttention): `value` and `key` must agree on every axis but the last; "
        "received (None, 6, 8) and (None, 9, 7)",
    ),
    (
        "{q: {shape: [6, 8]}, v: {shape: [null, 4]}, k: {shape: [9, 4]}}",  # None ≠ 9 to Keras
        f"{MHA}, inputs: {{query: q, value: v, key: k}}",
        "MultiHeadAttention): `value` and `key` must agree on every axis but the last; "
        "received (None, None, 4) and (None, 9, 4)",
    ),
    (
        "{q: {shape: [6, null]}, v: {shape: [9, 5]}}",
        f"{MHA}, inputs: {{query: q, value: v}}",
        "MultiHeadAttention): the last axis of the query must be known; received (None, 6, None)",
    ),
    (
        "{q: {shape: [6, 8]}, v: {shape: [9, null]}}",
        f"{MHA}, inputs: {{query: q, value: v}}",
        "MultiHeadAttention): the last axis of the value must be known; received (None, 9, None)",
    ),
    (
        QV,
        f"{MHA}, attention_axes: [1, 4], inputs: {{query: q, value: v}}",
        "MultiHeadAttention): `attention_axes` has an axis out of range for value (None, 9, 5): "
        "[1, 4]",
    ),
    (
        "{q: {shape: [6, 8]}, v: {shape: [9, 5]}}",
        f"{GQA}, inputs: {{query: q, value: v}}",
        "GroupQueryAttention): `query` and `value` must have the same last axis; "
        "received (None, 6, 8) and (None, 9, 5)",
    ),
    (
        "{q: {shape: [8]}, v: {shape: [8]}}",
        f"{GQA}, inputs: {{query: q, value: v}}",
        "GroupQueryAttention): expects a query of rank 3 or more (batch axis included); "
        "received (None, 8)",
    ),
    (
        "{q: {shape: [6, 8]}, v: {shape: [9, 8]}}",
        "type: GroupQueryAttention, head_dim: 3, num_query_heads: 4, num_key_value_heads: 3, "
        "inputs: {query: q, value: v}",
        "GroupQueryAttention): `num_query_heads` (4) must be a multiple of "
        "`num_key_value_heads` (3)",
    ),
    (
        QVK,
        "type: Attention, inputs: q",
        "Attention): must be called on a list, [query, value] or [query, value, key]; "
        "received one tensor (None, 6, 8)",
    ),
    (
        QVK,
        "type: Attention, inputs: [q, v, k, k]",
        "Attention): takes [query, value] or [query, value, key]; received a list of 4",
    ),
    (
        QVK,
        "type: Attention, inputs: {inputs: [q, v], mask: q}",
        "Attention): `mask` must be a list, [query_mask, value_mask]",
    ),
    (
        "{q: {shape: [6, null]}, v: {shape: [9, 5]}}",
        "type: AdditiveAttention, inputs: [q, v]",
        "AdditiveAttention): the last axis of the query must be known; received (None, 6, None)",
    ),
    (
        "{q: {shape: []}, v: {shape: []}}",
        f"type: Attention, inputs: [q, v], {SCORES}",
        "Attention): expects a key of rank 2 or more (batch axis included); received (None,)",
    ),
]


@pytest.mark.parametrize(("inputs", "node", "message"), REFUSALS)
def test_what_keras_refuses_is_an_error_at_the_node(inputs: str, node: str, message: str) -> None:
    text = spec(inputs, node)
    assert infer_node(text) == [f"5:3 E600 node `y` ({message}"]
    assert_same_as_keras(text)


# Hypothesis: random configurations, compared with Keras. Sizes stay small (RNN builds
# are slow); unknown axes and mismatched flags come up often enough to meet refusals.
SIZES = st.integers(1, 4)
MAYBE = st.sampled_from([3, 1, 2, 4, 3, 2, 4, None])  # an axis, sometimes unknown
OFTEN = st.sampled_from([True] * 5 + [False])


@st.composite
def recurrent_layer(draw: st.DrawFn, kind: str | None = None) -> dict[str, Any]:
    kind = kind or draw(st.sampled_from(["LSTM", "GRU", "SimpleRNN"]))
    args: dict[str, Any] = {"type": kind, "units": draw(SIZES)}
    for flag in ("return_sequences", "return_state", "use_bias"):
        args[flag] = draw(st.booleans())
    if kind == "GRU":
        args["reset_after"] = draw(st.booleans())
    return args


@st.composite
def recurrent_specs(draw: st.DrawFn) -> str:
    """LSTM, GRU or SimpleRNN, alone or in Bidirectional or TimeDistributed."""
    shape = [draw(st.sampled_from([None, 4])), draw(MAYBE)]
    wrapper = draw(st.sampled_from(["", "Bidirectional", "TimeDistributed"]))
    args = draw(recurrent_layer())
    batch = draw(st.sampled_from([None, None, 2]))
    args["stateful"] = not draw(OFTEN)  # refused without a batch size
    if wrapper == "TimeDistributed":
        shape.insert(0, draw(SIZES))
        args["return_state"] = not draw(OFTEN)  # one output, or a refusal
        args = {"type": wrapper, "layer": Raw("{" + flow(args) + "}")}
    elif wrapper:
        args = {"type": wrapper, "layer": Raw("{" + flow(args) + "}"), **bidirectional(draw, args)}
    if draw(st.booleans()):
        args["dtype"] = "mixed_float16"
    shape = draw(st.sampled_from([shape] * 6 + [shape[:-1], [*shape, 2]]))  # wrong ranks too
    sized = f", batch_size: {batch}" if batch else ""
    return spec(f"{{x: {{shape: {json.dumps(shape)}{sized}}}}}", flow(args) + ", inputs: x")


def bidirectional(draw: st.DrawFn, forward: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "merge_mode": draw(st.sampled_from(["concat", "sum", "mul", "ave", None]))
    }
    if draw(st.booleans()):
        backward = draw(recurrent_layer())
        flags = ("return_sequences", "return_state", "stateful")
        backward.update({f: forward[f] for f in flags if draw(OFTEN)})
        backward["go_backwards"] = draw(OFTEN)
        args["backward_layer"] = Raw("{" + flow(backward) + "}")
    return args


@SETTINGS
@given(recurrent_specs())
def test_recurrent_layers_and_wrappers_match_keras(text: str) -> None:
    assert_same_as_keras(text)


@st.composite
def rnn_specs(draw: st.DrawFn) -> str:
    """RNN over one cell, a list of cells or StackedRNNCells (nested states left to Keras)."""
    cells = [
        {
            "type": draw(st.sampled_from(["LSTMCell", "GRUCell", "SimpleRNNCell"])),
            "units": draw(SIZES),
        }
        for _ in range(draw(st.integers(1, 3)))
    ]
    written = [Raw("{" + flow(c) + "}") for c in cells]
    form = draw(st.sampled_from(["one", "list", "stacked"]))
    cell = Raw(f"[{', '.join(written)}]")
    if form == "one":
        cell = written[0]
    elif form == "stacked":
        cell = Raw(f"{{type: StackedRNNCells, cells: {cell}}}")
    args = {"type": "RNN", "cell": cell}
    args.update({f: draw(st.booleans()) for f in ("return_sequences", "return_state")})
    shape = draw(st.sampled_from([[5, 3], [None, 2], [4, 3, 2], [5, 3], [4, None]]))
    return spec(f"{{x: {{shape: {json.dumps(shape)}}}}}", flow(args) + ", inputs: x")


@SETTINGS
@given(rnn_specs())
def test_rnn_cells_match_keras(text: str) -> None:
    assert_same_as_keras(text)


@st.composite
def conv_lstm_specs(draw: st.DrawFn) -> str:
    rank = draw(st.integers(1, 2))
    first = draw(st.booleans())
    spatial: list[int | None] = [draw(st.integers(3, 6)) for _ in range(rank)]
    if not draw(OFTEN):
        spatial[-1] = None
    channels = draw(MAYBE)
    shape = [draw(st.sampled_from([None, 3])), *([channels] if first else []), *spatial]
    shape += [] if first else [channels]
    args: dict[str, Any] = {"type": f"ConvLSTM{rank}D", "filters": draw(SIZES)}
    args["kernel_size"] = draw(st.integers(1, 3))
    args["strides"] = draw(st.sampled_from([1, 1, 2]))
    args["dilation_rate"] = draw(st.sampled_from([1, 1, 2]))
    args["padding"] = draw(st.sampled_from(["valid", "same"]))
    args["data_format"] = "channels_first" if first else "channels_last"
    args.update({f: draw(st.booleans()) for f in ("return_sequences", "return_state", "use_bias")})
    if not draw(OFTEN):
        args = {"type": "Bidirectional", "layer": Raw("{" + flow(args) + "}")}
    return spec(f"{{x: {{shape: {json.dumps(shape)}}}}}", flow(args) + ", inputs: x")


@SETTINGS
@given(conv_lstm_specs())
def test_conv_lstm_matches_keras(text: str) -> None:
    assert_same_as_keras(text)


def tensor_shape(draw: st.DrawFn, rank: int, last: int | None = None) -> list[int | None]:
    """A shape without the batch axis: ``rank - 1`` axes of small sizes, sometimes unknown."""
    axes = [draw(MAYBE) for _ in range(rank - 2)]
    return [*axes, last if last is not None else draw(MAYBE)]


@st.composite
def multi_head_specs(draw: st.DrawFn) -> str:
    """MultiHeadAttention or GroupQueryAttention on a query, a value and maybe a key."""
    rank = draw(st.sampled_from([3, 3, 3, 4, 2]))
    query = tensor_shape(draw, rank)
    value = tensor_shape(draw, draw(st.sampled_from([rank, rank, rank, 3, 4])))
    key = [*value[:-1], draw(MAYBE)] if draw(OFTEN) else tensor_shape(draw, rank)
    with_key = draw(st.booleans())
    if draw(st.booleans()):
        args = multi_head_args(draw)
    else:
        args = {"type": "GroupQueryAttention", "head_dim": draw(SIZES)}
        args["num_key_value_heads"] = draw(st.integers(1, 2))
        args["num_query_heads"] = args["num_key_value_heads"] * draw(st.integers(1, 2))
        value[-1] = query[-1] if draw(OFTEN) else value[-1]
    args.update({f: draw(st.booleans()) for f in ("use_bias", "use_gate")})
    tensors = "{query: q, value: v" + (", key: k}" if with_key else "}")
    scores = draw(st.booleans())
    node = flow(args) + f", inputs: {tensors}" + (f", {SCORES}" if scores else "")
    inputs = f"{{q: {{shape: {query}}}, v: {{shape: {value}}}, k: {{shape: {key}}}}}"
    return spec(inputs.replace("None", "null"), node)


def multi_head_args(draw: st.DrawFn) -> dict[str, Any]:
    args: dict[str, Any] = {"type": "MultiHeadAttention", "num_heads": draw(SIZES)}
    args["key_dim"] = draw(SIZES)
    args["value_dim"] = draw(st.sampled_from([None, 2]))
    args["output_shape"] = draw(st.sampled_from([None, 3, [2, 2]]))
    args["attention_axes"] = draw(st.sampled_from([None, None, 1, -2, [1, 2], 4, [-7], [-8]]))
    return args


@SETTINGS
@given(multi_head_specs())
def test_multi_head_attention_matches_keras(text: str) -> None:
    assert_same_as_keras(text)


@st.composite
def dot_attention_specs(draw: st.DrawFn) -> str:
    """Attention or AdditiveAttention on [query, value] or [query, value, key]."""
    rank = draw(st.sampled_from([3, 3, 2, 4]))
    dim = draw(MAYBE)
    query, value, key = (tensor_shape(draw, rank, dim) for _ in range(3))
    args: dict[str, Any] = {"type": draw(st.sampled_from(["Attention", "AdditiveAttention"]))}
    args["use_scale"] = draw(st.booleans())
    args["score_mode"] = draw(st.sampled_from(["dot", "concat"]))
    listed = draw(st.sampled_from(["[q, v]", "[q, v, k]", "[q, v, k]", "q"]))
    scores = draw(st.booleans())
    node = flow(args) + f", inputs: {listed}" + (f", {SCORES}" if scores else "")
    inputs = f"{{q: {{shape: {query}}}, v: {{shape: {value}}}, k: {{shape: {key}}}}}"
    return spec(inputs.replace("None", "null"), node)


@SETTINGS
@given(dot_attention_specs())
def test_attention_and_additive_attention_match_keras(text: str) -> None:
    assert_same_as_keras(text)
