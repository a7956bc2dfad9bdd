"""Image augmentation layers, held against Keras: shape kept (RandomCrop sets height
and width), compute dtype except RandomGrayscale on integer images."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keraspec
from keraspec.shapes.augmentation import SHAPE_KEEPING
from shape_oracle import assert_same_as_keras

pytestmark = pytest.mark.keras

# Arguments a layer requires, or that keep it away from its random corners.
ARGUMENTS = {
    "RandomBrightness": {"factor": 0.2},
    "RandomContrast": {"factor": 0.2},
    "RandomRotation": {"factor": 0.2},
    "RandomZoom": {"height_factor": 0.2},
    "RandomTranslation": {"height_factor": 0.1, "width_factor": 0.1},
    "RandomColorDegeneration": {"factor": 0.2},
    "RandomHue": {"factor": 0.2, "value_range": [0, 255]},
    "RandomPosterization": {"factor": [1, 8]},
    "RandomSaturation": {"factor": 0.2},
    "RandomSharpness": {"factor": 0.2},
    "RandomShear": {"x_factor": 0.2},
    "Solarization": {"addition_factor": 0.1},
    "RandomCrop": {"height": 4, "width": 3},
}
DIM = st.one_of(st.none(), st.integers(5, 9))


def spec(name: str, shape: list, dtype: str, extra: dict | None = None) -> str:
    node = {"type": name, **ARGUMENTS.get(name, {}), **(extra or {}), "inputs": "x"}
    return (
        f"keraspec: 1\nname: t\ninputs:\n  x: {json.dumps({'shape': shape, 'dtype': dtype})}\n"
        f"nodes:\n  y: {json.dumps(node)}\noutputs: [y]\n"
    )


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from([*SHAPE_KEEPING, "RandomCrop"]),
    shape=st.tuples(DIM, DIM, st.just(3)),
    dtype=st.sampled_from(["float32", "float16", "uint8", "int32"]),
    channels_first=st.booleans(),
)
def test_augmentation_layers_as_keras_builds_them(name, shape, dtype, channels_first) -> None:
    extra = {}
    if channels_first and name == "RandomCrop":
        extra, shape = {"data_format": "channels_first"}, (3, *shape[:2])
    inference = assert_same_as_keras(spec(name, list(shape), dtype, extra))
    assert inference.unchecked == []


def test_random_crop_and_integer_images() -> None:
    crop = keraspec.infer(keraspec.loads(spec("RandomCrop", [None, 9, 3], "uint8")))
    assert (crop.main.nodes["y"].output.shape, crop.main.nodes["y"].output.dtype) == (
        (None, 4, 3, 3),
        "float32",
    )
    gray = keraspec.infer(keraspec.loads(spec("RandomGrayscale", [8, 8, 3], "uint8")))
    assert gray.main.nodes["y"].output.dtype == "uint8"


@pytest.mark.parametrize("shape", [[8, 8], [8, 8, 1]], ids=["unbatched", "grey"])
def test_what_is_not_a_batch_of_rgb_images_is_left_to_the_build(shape: list) -> None:
    text = spec("RandomFlip", shape, "float32")
    assert [str(d) for d in keraspec.validate(keraspec.loads(text), verbose=True)] == [
        "<string>:6:3: I600 node `y` (RandomFlip): shape not checked statically"
    ]
