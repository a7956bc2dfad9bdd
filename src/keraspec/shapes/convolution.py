"""Shape rules for convolution, pooling, padding, cropping and upsampling layers."""

from __future__ import annotations
