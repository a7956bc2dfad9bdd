"""Static inference against Keras, on the same spec: the oracle for every shape rule.

``assert_same_as_keras`` builds the spec with Keras and infers it statically, then
compares every node's output shapes and dtypes, every layer's parameter count and
the model's total. When Keras refuses a node, static inference must refuse the
same node (or not know its input); it must never refuse what Keras builds.

``infer_node`` and ``located`` are for the worked cases beside it: one node as static
inference sees it, or the diagnostics that stop it, as "line:column CODE message".
"""

from __future__ import annotations

from typing import Any

import keras

from keraspec import api, shapes
from keraspec.diagnostics import Diagnostic, SpecError
from keraspec.emit.keras_model import ModelBuilder
from keraspec.ir import Program
from keraspec.lower import lower as lower_program
from keraspec.schema import Spec


def located(d: Diagnostic) -> str:
    return f"{d.line}:{d.column} {d.code} {d.message}"


def infer_node(
    text: str, node_id: str = "y", *, validate: bool = True
) -> shapes.NodeShapes | list[str]:
    """Node ``node_id`` inferred statically, or the located errors that stop it.

    With ``validate`` (``api.lower``, which infers shapes too) those are every error in
    the spec; without it, static inference's own, which an argument's check (E227)
    may otherwise report first.
    """
    spec = api.loads(text)
    try:
        program = api.lower(spec) if validate else lower_program(spec)
    except SpecError as e:
        return [located(d) for d in e.diagnostics]
    inference = shapes.infer(program)
    if inference.diagnostics:  # only without validate, which reports them first
        return [located(d) for d in inference.diagnostics]
    return inference.main.nodes[node_id]


def keras_outputs(value: Any) -> list[tuple[tuple[int | None, ...], str]]:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in keras_outputs(v)]
    return [(tuple(value.shape), str(value.dtype))]


def static_outputs(node: shapes.NodeShapes) -> list[tuple[tuple[int | None, ...], str | None]]:
    return [(t.shape, t.dtype) for t in node.tensors]


def assert_same_as_keras(spec: Spec | str) -> shapes.Inference:
    """Static inference equals what Keras builds; returns the inference for more checks."""
    if isinstance(spec, str):
        spec = api.loads(spec)
    # Not api.lower: it refuses what static inference refuses, and those are
    # exactly the cases to hold against Keras.
    errors = [d for d in api.validate(spec) if d.is_error and d.code not in ("E600", "E227")]
    assert not errors, errors
    program = lower_program(spec)
    inference = shapes.infer(program)
    keras.backend.clear_session(free_memory=False)  # a full gc per example is most of the cost
    builder = ModelBuilder(program)
    try:
        model = builder.build()
    except SpecError as e:
        _assert_refused_alike(program, inference, e)
        return inference
    assert not inference.diagnostics, f"Keras builds it, but: {inference.diagnostics}"
    for graph in (*program.submodels, program.main):
        _assert_graph(builder, model, graph.name, inference.graphs.get(graph.name, inference.main))
    if not inference.unchecked:
        assert inference.main.params == model.count_params(), "total params"
    return inference


def _assert_graph(builder: ModelBuilder, model: Any, name: str, graph: shapes.GraphShapes) -> None:
    tensors = builder.graph_tensors[name]
    for node_id, node in graph.nodes.items():
        if node.output is shapes.UNKNOWN:
            continue
        expected = keras_outputs(tensors[node_id])
        got = static_outputs(node)
        assert [s for s, _ in got] == [s for s, _ in expected], f"{name}.{node_id} shapes"
        for (_, dtype), (_, want) in zip(got, expected, strict=True):
            assert dtype is None or dtype == want, f"{name}.{node_id} dtype {dtype} != {want}"
    if name == model.name:
        for node_id, node in graph.nodes.items():
            if node.params is not None and not node.shared_again:
                layer = _layer_of(model, builder.program, node_id)
                if layer is not None:
                    assert node.params == layer.count_params(), f"{node_id} params"


def _layer_of(model: Any, program: Program, node_id: str) -> Any:
    call = next(c for c in program.main.calls if c.id == node_id)
    if call.kind == "op":
        return None
    try:
        return model.get_layer(call.id if call.kind == "new_layer" else call.target)
    except ValueError:  # a node that leads to no output is not in the model
        return None


def _assert_refused_alike(program: Program, inference: shapes.Inference, e: SpecError) -> None:
    keras_lines = {(d.line, d.column) for d in e.diagnostics}
    static_lines = {(d.line, d.column) for d in inference.diagnostics}
    assert static_lines <= keras_lines, f"static {inference.diagnostics} vs Keras {e.diagnostics}"
    if not static_lines:
        assert inference.unchecked or _unknown_at(program, inference, e), (
            f"Keras refused it ({e.diagnostics[0].message}); static inference found nothing"
        )


def _unknown_at(program: Program, inference: shapes.Inference, e: SpecError) -> bool:
    lines = {(d.line, d.column) for d in e.diagnostics}
    for graph in (*program.submodels, program.main):
        shaped = inference.graphs.get(graph.name, inference.main)
        for call in graph.calls:
            if (call.location.line, call.location.column) in lines:
                return shaped.nodes[call.id].output is shapes.UNKNOWN
    return False
