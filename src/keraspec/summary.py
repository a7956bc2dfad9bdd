"""Per-node rows for ``keraspec summary``: what each node calls, on what, and its weights.

Builds the model with Keras to read shapes and parameter counts (issue: a
TensorFlow-free summary comes with static shape inference).
"""

from __future__ import annotations

from typing import Any

from . import api
from .ir import Call
from .schema import Spec


def summarize(spec: Spec) -> tuple[list[tuple[str, ...]], int]:
    """Rows of (node, layer, inputs, output shape, params) and the model's total params."""
    from .emit.keras_model import ModelBuilder

    program = api.lower(spec)
    builder = ModelBuilder(program)
    model = builder.build()
    rows = [(i.id, "Input", "", _shape(builder.tensors[i.id]), "0") for i in program.main.inputs]
    counted: set[int] = set()  # variables already shown: shared weights count once
    for call in program.main.calls:
        params = "0"
        if call.kind != "op":
            layer = model.get_layer(call.id if call.kind == "new_layer" else call.target)
            new = [w for w in layer.weights if id(w) not in counted]
            counted |= {id(w) for w in layer.weights}
            params = f"{sum(int(w.numpy().size) for w in new):,}"
            if layer.weights and not new:
                params = "(shared)"
        rows.append(
            (call.id, _label(call), _inputs(call), _shape(builder.tensors[call.id]), params)
        )
    return rows, model.count_params()


def _label(call: Call) -> str:
    labels = {"new_layer": call.target, "op": f"ops.{call.target}", "model": f"model {call.target}"}
    return labels.get(call.kind, f"shared {call.target}")


def _inputs(call: Call) -> str:
    parts = [str(a) for a in _flat(call.args)] + [f"{k}={_text(v)}" for k, v in call.kwargs.items()]
    return ", ".join(parts)


def _text(value: Any) -> str:
    return (
        "[" + ", ".join(str(v) for v in _flat(value)) + "]"
        if isinstance(value, tuple)
        else str(value)
    )


def _flat(values: Any) -> list[Any]:
    if isinstance(values, tuple):
        return [x for v in values for x in _flat(v)]
    return [values]


def _shape(tensor: Any) -> str:
    if isinstance(tensor, (list, tuple)):
        return ", ".join(_shape(t) for t in tensor)
    if isinstance(tensor, dict):
        return ", ".join(_shape(t) for t in tensor.values())
    return str(tuple(tensor.shape))
