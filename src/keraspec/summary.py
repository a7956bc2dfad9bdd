"""Per-node rows for ``keraspec summary``: what each node calls, on what, its output
shapes and the parameters it adds, all inferred statically (no TensorFlow).

The numbers are Keras's own: tests compare them with built models for every spec
in ``specs/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import api
from .ir import Call
from .schema import Spec
from .shapes import Inference, NodeShapes, Tensor, show

Row = tuple[str, str, str, str, str]


def summarize(spec: Spec) -> tuple[list[Row], int | None]:
    """Rows of (node, layer, inputs, output shape, params) and the model's total params.

    A count of None (shown as ``?``) is a node no static rule covers.
    """
    return rows_of(api.infer(spec))


def rows_of(inference: Inference) -> tuple[list[Row], int | None]:
    """``summarize``'s rows from an inference already made."""
    main = inference.main
    rows: list[Row] = [(i, "Input", "", _shape(t), "0") for i, t in main.inputs.items()]
    rows += [_row(call, main.nodes[call.id]) for call in inference.program.main.calls]
    return rows, main.params


def _row(call: Call, node: NodeShapes) -> Row:
    params = "?" if node.params is None else f"{node.params:,}"
    if node.shared_again:
        params = "(shared)"
    shape = "?" if not all(t.known for t in node.tensors) else _shape(node.output)
    return (call.id, _label(call), _inputs(call), shape, params)


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
    if isinstance(values, Mapping):
        return [x for v in values.values() for x in _flat(v)]
    return [values]


def _shape(output: Any) -> str:
    if isinstance(output, Tensor):
        return show(output.shape)
    return ", ".join(_shape(t) for t in output)
