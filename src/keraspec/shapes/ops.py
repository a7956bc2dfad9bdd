"""Shape rules for the allowlisted ``keras.ops`` functions."""

from __future__ import annotations
