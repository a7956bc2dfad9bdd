"""Shape rules for image augmentation layers: they keep the image's shape (RandomCrop
sets its height and width), and return the compute dtype, except RandomGrayscale,
which keeps integer images as they are.

Only batches of RGB images, (batch, height, width, 3), have rules: that is what
these layers are for, and Keras's behaviour elsewhere (unbatched images, other
channel counts, where some colour layers fail or hand back their input) is left
to ``--build``.
"""

from __future__ import annotations

from .registry import Inputs, Layer, NoRule, layer
from .tensor import Tensor

SHAPE_KEEPING = (
    "AugMix",
    "AutoContrast",
    "CutMix",
    "MixUp",
    "RandAugment",
    "RandomBrightness",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomContrast",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomFlip",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterization",
    "RandomRotation",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Solarization",
)
# It passes integer images through untouched; the others compute in floats.
# (Equalization has no rule: Keras 3.15 cannot build a functional model around it
# for most inputs, "part of a cycle", which is left for --build to report.)
KEEP_INTEGERS = frozenset({"RandomGrayscale"})


@layer(*SHAPE_KEEPING)
def shape_keeping(lay: Layer, inputs: Inputs) -> Tensor:
    x = _image(lay, inputs)
    integer = x.dtype is not None and not x.dtype.startswith(("float", "bfloat"))
    return Tensor(x.shape, x.dtype if lay.type in KEEP_INTEGERS and integer else lay.dtype)


@layer("RandomCrop")
def random_crop(lay: Layer, inputs: Inputs) -> Tensor:
    x = _image(lay, inputs)
    assert x.shape is not None
    if lay["data_format"] == "channels_first":
        return lay.out((*x.shape[:-2], lay["height"], lay["width"]))
    return lay.out((*x.shape[:-3], lay["height"], lay["width"], x.shape[-1]))


def _image(lay: Layer, inputs: Inputs) -> Tensor:
    x = inputs.tensor()
    channels_first = lay["data_format"] == "channels_first"
    if x.rank != 4 or x.shape[1 if channels_first else -1] != 3:  # type: ignore[index]
        raise NoRule(lay.type)
    return x
