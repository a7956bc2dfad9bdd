"""Shape rules for attention layers: MultiHeadAttention, Attention, AdditiveAttention ..."""

from __future__ import annotations
