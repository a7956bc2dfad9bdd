"""`keraspec.from_keras`: a Keras model → a spec that builds the same model again.

Round trip, for every model: ``build(loads(dumps(from_keras(m))))`` has the same
parameters, layer classes and names, input and output shapes, and, with the
weights copied by layer name, the same predictions (max abs difference ≤ 1e-5).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import pytest

import keraspec
from keras_compare import assert_same_outputs, predict, random_inputs
from keraspec import SpecError

pytestmark = pytest.mark.keras

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml")) + sorted(
    (ROOT / "specs" / "applications").glob("*.yaml")
)
# keras.applications with weights=None, at the smallest input size each allows (time).
APPLICATIONS = {
    "ResNet50": 32,
    "MobileNetV2": 32,
    "InceptionV3": 75,
    "DenseNet121": 32,
    "EfficientNetB0": 32,
    "Xception": 71,
    "VGG16": 32,
    "NASNetMobile": 32,
    "MobileNetV3Small": 32,
}


def imported(model: keras.Model, warnings: tuple[str, ...] = ()) -> str:
    """The spec text of ``model``; it validates without errors, with only these warnings."""
    text = keraspec.dumps(keraspec.from_keras(model))
    assert [d.code for d in keraspec.validate(keraspec.loads(text))] == list(warnings)
    return text


def rebuilt(model: keras.Model) -> keras.Model:
    return keraspec.build(keraspec.loads(imported(model)), compile=False)


def layer_names(model: keras.Model) -> list[Any]:
    """``(name, class)`` of every layer, nested models expanded.

    A nested Sequential is rebuilt as a functional sub-model (the spec's only kind):
    it is listed as a model, and inputs layers are left out on both sides.
    """
    found: list[Any] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            found.append((layer.name, "Model", layer_names(layer)))
        else:
            found.append((layer.name, type(layer).__name__))
    return found


def shapes(tensors: list[Any]) -> list[tuple[Any, ...]]:
    return [(tuple(t.shape), str(t.dtype)) for t in tensors]


def assert_same_model(original: keras.Model, copy: keras.Model) -> None:
    assert copy.count_params() == original.count_params()
    assert layer_names(copy) == layer_names(original)
    assert shapes(copy.inputs) == shapes(original.inputs)
    assert shapes(copy.outputs) == shapes(original.outputs)
    for layer in original.layers:
        copy.get_layer(layer.name).set_weights(layer.get_weights())
    inputs = random_inputs(original)
    assert_same_outputs(predict(original, inputs), predict(copy, inputs))


def node(text: str, node_id: str) -> dict[str, Any]:
    """One node of an imported spec, as plain data."""
    return keraspec.dump.to_data(keraspec.loads(text).nodes[node_id])


def nodes(text: str) -> list[dict[str, Any]]:
    """The nodes of an imported spec, in order, as plain data (op names vary: `add_3`)."""
    return [keraspec.dump.to_data(n) for n in keraspec.loads(text).nodes.values()]


# -- every spec in specs/ ------------------------------------------------------------


@pytest.mark.parametrize("path", SPECS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_spec_models_round_trip(path: Path) -> None:
    original = keraspec.build(path, compile=False)
    assert_same_model(original, rebuilt(original))
    keras.backend.clear_session()


# -- keras.applications ----------------------------------------------------------------


@pytest.fixture(scope="module", params=list(APPLICATIONS))
def application(request: pytest.FixtureRequest) -> tuple[keras.Model, str]:
    size = APPLICATIONS[request.param]
    constructor = getattr(keras.applications, request.param)
    model = constructor(weights=None, input_shape=(size, size, 3), classes=10)
    yield model, imported(model)
    keras.backend.clear_session()


def test_application_round_trips(application: tuple[keras.Model, str]) -> None:
    model, text = application
    assert_same_model(model, keraspec.build(keraspec.loads(text), compile=False))


def test_application_ejected_to_python_is_the_same_model(
    application: tuple[keras.Model, str],
) -> None:
    model, text = application
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(keraspec.to_python(keraspec.loads(text)), "<generated>", "exec"), namespace)
    assert_same_model(model, namespace["build_model"]())


def test_convnext_layer_scale_is_a_clear_error() -> None:
    model = keras.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3), classes=10)
    with pytest.raises(SpecError) as caught:
        keraspec.from_keras(model)
    assert [str(d) for d in caught.value.diagnostics] == [
        "convnext_tiny:0:0: E702 layer `convnext_tiny_stage_0_block_0_layer_scale` "
        "(keras.src.applications.convnext.LayerScale) is a custom layer class: register it "
        "with `--allow-module keras.src.applications.convnext` (allow_modules=[...]) or an "
        "entry point (17 more layers of this class)"
    ]
    # Mapped, the import goes through, and the downsampling Sequential models are sub-models.
    layer_scale = type(model.get_layer("convnext_tiny_stage_0_block_0_layer_scale"))
    spec = keraspec.from_keras(model, custom_layers={layer_scale: "LayerScale"})
    assert list(spec.models) == [
        "convnext_tiny_stem",
        "convnext_tiny_downsampling_block_0",
        "convnext_tiny_downsampling_block_1",
        "convnext_tiny_downsampling_block_2",
    ]
    assert [n.type for n in spec.models["convnext_tiny_stem"].nodes.values()] == [
        "Conv2D",
        "LayerNormalization",
    ]
    assert spec.nodes["convnext_tiny_stem_call"].model == "convnext_tiny_stem"
    assert keraspec.dump.to_data(spec.nodes["convnext_tiny_stage_0_block_0_layer_scale"]) == {
        "type": "LayerScale",
        "init_values": 1e-06,
        "projection_dim": 96,
        "inputs": "convnext_tiny_stage_0_block_0_pointwise_conv_2",
    }
    keras.backend.clear_session()


# -- features, on small hand-written models ------------------------------------------------


def test_only_arguments_that_differ_from_the_defaults_are_written() -> None:
    x = keras.Input((8,), name="x")
    dense = keras.layers.Dense(4, use_bias=False, name="dense")(x)
    model = keras.Model(x, keras.layers.Dropout(0.5, name="drop")(dense), name="small")
    assert imported(model) == (
        "keraspec: 1\nname: small\ninputs:\n  x:\n    shape: [8]\nnodes:\n"
        "  dense: {type: Dense, units: 4, use_bias: false, inputs: x}\n"
        "  drop: {type: Dropout, rate: 0.5, inputs: dense}\n"
        "outputs: [drop]\n"
    )
    assert_same_model(model, rebuilt(model))


def test_initializers_regularizers_and_constraints_take_the_compact_forms() -> None:
    x = keras.Input((8,), name="x")
    dense = keras.layers.Dense(
        4,
        kernel_initializer="he_normal",
        bias_initializer=keras.initializers.Constant(0.1),
        kernel_regularizer=keras.regularizers.L2(1e-4),
        bias_regularizer="l2",
        kernel_constraint=keras.constraints.MaxNorm(3.0),
        bias_constraint=keras.constraints.MaxNorm(2.0),
        name="dense",
    )
    model = keras.Model(x, dense(x))
    assert node(imported(model), "dense") == {
        "type": "Dense",
        "units": 4,
        "kernel_initializer": "he_normal",
        "bias_initializer": {"type": "Constant", "value": 0.1},
        "kernel_regularizer": {"type": "L2", "l2": 0.0001},
        "bias_regularizer": "l2",
        "kernel_constraint": {"type": "MaxNorm", "max_value": 3.0},
        "bias_constraint": "max_norm",  # MaxNorm's default max_value is 2
        "inputs": "x",
    }
    assert_same_model(model, rebuilt(model))


def test_a_shared_layer_goes_to_layers_and_each_call_is_a_node() -> None:
    a, b = keras.Input((5,), name="a"), keras.Input((5,), name="b")
    shared = keras.layers.Dense(3, name="shared")
    merged = keras.layers.Concatenate(name="merged")([shared(a), shared(b)])
    model = keras.Model([a, b], merged)
    spec = keraspec.loads(imported(model))
    assert keraspec.dump.to_data(spec.layers) == {"shared": {"type": "Dense", "units": 3}}
    assert {k: keraspec.dump.to_data(n) for k, n in spec.nodes.items()} == {
        "shared_call1": {"layer": "shared", "inputs": "a"},
        "shared_call2": {"layer": "shared", "inputs": "b"},
        "merged": {"type": "Concatenate", "inputs": ["shared_call1", "shared_call2"]},
    }
    assert_same_model(model, rebuilt(model))


def test_nested_functional_and_sequential_models_become_sub_models() -> None:
    inner_in = keras.Input((4,), name="inner_in")
    encoder = keras.Model(inner_in, keras.layers.Dense(3, name="enc")(inner_in), name="encoder")
    head = keras.Sequential(
        [keras.Input((3,), name="head_in"), keras.layers.Dense(2, name="out")], name="head"
    )
    x, y = keras.Input((4,), name="x"), keras.Input((4,), name="y")
    both = keras.layers.Add(name="both")([encoder(x), encoder(y)])
    model = keras.Model([x, y], head(both), name="outer")
    spec = keraspec.loads(imported(model))
    assert keraspec.dump.to_data(spec.models) == {
        "encoder": {
            "inputs": {"inner_in": {"shape": [4]}},
            "nodes": {"enc": {"type": "Dense", "units": 3, "inputs": "inner_in"}},
            "outputs": ["enc"],
        },
        "head": {
            "inputs": {"head_in": {"shape": [3]}},
            "nodes": {"out": {"type": "Dense", "units": 2, "inputs": "head_in"}},
            "outputs": ["out"],
        },
    }
    assert list(spec.nodes) == ["encoder_call1", "encoder_call2", "both", "head_call"]
    assert_same_model(model, rebuilt(model))


def test_keras_ops_become_op_nodes_with_their_arguments_and_constants() -> None:
    x = keras.Input((4, 6), name="x")
    joined = keras.ops.concatenate([x, x], axis=-1)
    mean = keras.ops.mean(joined, axis=1, keepdims=True)
    scaled = 2.0 - keras.ops.softmax(mean)
    model = keras.Model(x, scaled)
    ids = [op.name for op in model.operations[1:]]
    assert nodes(imported(model)) == [
        {"op": "concatenate", "axis": -1, "inputs": [["x", "x"]]},
        {"op": "mean", "axis": 1, "keepdims": True, "inputs": ids[0]},
        {"op": "softmax", "inputs": ids[1]},  # axis=-1 is softmax's default
        {"op": "subtract", "inputs": [2.0, ids[2]]},
    ]
    assert_same_model(model, rebuilt(model))


def test_keyword_inputs_call_arguments_and_multi_output_references() -> None:
    q = keras.Input((5, 8), name="q")
    v = keras.Input((7, 8), name="v")
    attention = keras.layers.MultiHeadAttention(2, 4, name="attention")
    out, scores = attention(q, v, return_attention_scores=True)
    seq, h, _ = keras.layers.LSTM(3, return_sequences=True, return_state=True, name="lstm")(out)
    model = keras.Model([q, v], [seq, h, scores])
    text = imported(model, warnings=("W324",))  # `lstm[0]` and `lstm[1]` are both `lstm`
    assert node(text, "attention") == {
        "type": "MultiHeadAttention",
        "num_heads": 2,
        "key_dim": 4,
        "attention_axes": [1],
        "inputs": {"query": "q", "value": "v"},
        "call": {"return_attention_scores": True},
    }
    assert node(text, "lstm")["inputs"] == "attention[0]"
    assert keraspec.loads(text).outputs == ["lstm[0]", "lstm[1]", "attention[1]"]
    assert_same_model(model, keraspec.build(keraspec.loads(text), compile=False))


def test_a_lambda_layer_is_an_error_naming_it() -> None:
    x = keras.Input((3,), name="x")
    model = keras.Model(x, keras.layers.Lambda(lambda t: t * 2, name="double")(x), name="m")
    with pytest.raises(SpecError) as caught:
        keraspec.from_keras(model)
    (d,) = caught.value.diagnostics
    assert (d.code, d.message, d.hint) == (
        "E703",
        "layer `double` (keras.layers.Lambda) cannot be written in a spec: "
        "it runs Python code, which a spec cannot hold",
        "write its computation with `op:` nodes, or as a registered custom layer",
    )


class Scale(keras.layers.Layer):
    def __init__(self, factor: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs: Any) -> Any:
        return inputs * self.factor

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor}


def scaled_model() -> keras.Model:
    x = keras.Input((3,), name="x")
    return keras.Model(x, Scale(2.5, name="scale")(x), name="m")


def test_a_custom_layer_class_is_an_error_naming_it() -> None:
    with pytest.raises(SpecError) as caught:
        keraspec.from_keras(scaled_model())
    assert [(d.code, d.message) for d in caught.value.diagnostics] == [
        (
            "E702",
            "layer `scale` (test_import.Scale) is a custom layer class: register it with "
            "`--allow-module test_import` (allow_modules=[...]) or an entry point",
        )
    ]


def test_custom_layers_maps_a_class_to_a_spec_type_with_its_config_arguments() -> None:
    spec = keraspec.from_keras(scaled_model(), custom_layers={Scale: "mypkg.layers.Scale"})
    assert keraspec.dump.to_data(spec.nodes["scale"]) == {
        "type": "mypkg.layers.Scale",
        "factor": 2.5,
        "inputs": "x",
    }


def test_a_layer_name_that_is_no_spec_name_is_an_error_and_the_model_name_is_made_one() -> None:
    x = keras.Input((3,), name="x")
    model = keras.Model(x, keras.layers.Dense(2, name="dense.1")(x), name="m")
    with pytest.raises(SpecError) as caught:
        keraspec.from_keras(model)
    assert [str(d) for d in caught.value.diagnostics] == [
        "m:0:0: E706 layer `dense.1` cannot keep its name in a spec: names are letters, "
        "digits, `_` and `-`, starting with a letter or `_`"
    ]
    named = keras.Model(x, keras.layers.Dense(2, name="dense")(x), name="mobilenet_1.00_224")
    assert keraspec.from_keras(named).name == "mobilenet_1_00_224"


def twice(t: Any) -> Any:
    return t * 2


def test_an_unreadable_argument_value_is_an_error_naming_the_layer() -> None:
    x = keras.Input((3,), name="x")
    model = keras.Model(x, keras.layers.Dense(2, activation=twice, name="d")(x), name="m")
    with pytest.raises(SpecError) as caught:
        keraspec.from_keras(model)
    assert [d.code for d in caught.value.diagnostics] == ["E705"]
    assert "layer `d`: argument `activation`" in caught.value.diagnostics[0].message


def test_wrapped_layers_frozen_layers_and_dtypes() -> None:
    x = keras.Input((6, 4), name="x")
    both = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True), name="both")
    steps = keras.layers.TimeDistributed(keras.layers.Dense(2), name="steps")(both(x))
    frozen = keras.layers.Dense(2, trainable=False, dtype="float64", name="frozen")(steps)
    model = keras.Model(x, frozen)
    assert nodes(imported(model)) == [
        {
            "type": "Bidirectional",
            # Bidirectional sets zero_output_for_mask on the layer it wraps; kept, as Keras has it.
            "layer": {
                "type": "GRU",
                "return_sequences": True,
                "zero_output_for_mask": True,
                "units": 3,
            },
            "inputs": "x",
        },
        {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2}, "inputs": "both"},
        {"type": "Dense", "units": 2, "trainable": False, "dtype": "float64", "inputs": "steps"},
    ]
    assert_same_model(model, rebuilt(model))


def test_an_op_outside_the_allowlist_is_an_error_naming_it() -> None:
    x = keras.Input((3, 4), name="x")
    first = x[:, 0]
    model = keras.Model(x, first, name="m")
    with pytest.raises(SpecError) as caught:
        keraspec.from_keras(model)
    assert [(d.code, d.message, d.hint) for d in caught.value.diagnostics] == [
        (
            "E704",
            f"operation `{model.operations[1].name}` (keras.src.ops.numpy.GetItem) is not a "
            "keras.ops function a spec may call",
            "see the ops allowlist in docs/spec-format.md; others need a custom layer",
        )
    ]


class Subclassed(keras.Model):
    def __init__(self) -> None:
        super().__init__(name="subclassed")
        self.dense = keras.layers.Dense(2)

    def call(self, inputs: Any) -> Any:
        return self.dense(inputs)


def test_a_subclassed_model_is_an_error() -> None:
    with pytest.raises(SpecError) as caught:
        keraspec.from_keras(Subclassed())
    assert [(d.code, d.message) for d in caught.value.diagnostics] == [
        (
            "E707",
            "model `subclassed` (test_import.Subclassed) is not a functional or Sequential "
            "model: its graph is in Python code, not in Keras's config",
        )
    ]


def test_convnext_round_trips_once_its_module_is_allowed() -> None:
    """ConvNeXtTiny's LayerScale, registered by allowing its module: the same model back."""
    allowed = ["keras.src.applications.convnext"]
    model = keras.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3), classes=10)
    spec = keraspec.from_keras(model, allow_modules=allowed)
    scale = spec.nodes["convnext_tiny_stage_0_block_0_layer_scale"]
    assert scale.type == "keras.src.applications.convnext.LayerScale"
    text = keraspec.dumps(spec)
    assert keraspec.validate(keraspec.loads(text), allow_modules=allowed) == []
    assert_same_model(model, keraspec.build(keraspec.loads(text), allow_modules=allowed))
    keras.backend.clear_session()
