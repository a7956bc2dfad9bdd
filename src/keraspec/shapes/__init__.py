"""Static shape, dtype and parameter inference: what Keras would build, without Keras.

``infer(program)`` walks the IR; each layer class and op has a rule in one of
the family modules below (``core``, ``merging``, ``convolution``, ``recurrent``,
``attention``, ``augmentation``, ``ops``), registered by name in ``registry``.
"""

from __future__ import annotations

from . import (  # noqa: F401  (registers the rules)
    attention,
    augmentation,
    convolution,
    core,
    merging,
    ops,
    recurrent,
)
from .infer import GraphShapes, Inference, NodeShapes, infer
from .registry import LAYER_RULES, OP_RULES
from .tensor import UNKNOWN, Tensor, show

__all__ = [
    "LAYER_RULES",
    "OP_RULES",
    "UNKNOWN",
    "GraphShapes",
    "Inference",
    "NodeShapes",
    "Tensor",
    "infer",
    "show",
]
