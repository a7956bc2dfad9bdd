"""Shape rules for recurrent layers and wrappers: LSTM, GRU, SimpleRNN, RNN, Bidirectional,
TimeDistributed."""

from __future__ import annotations
