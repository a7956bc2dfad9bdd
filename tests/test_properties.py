"""Property tests: random DAG specs validate, lower in dependency order, and round-trip."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keraspec
from keraspec.graph import tensor_references
from keraspec.lower import topological_order


@st.composite
def dag_specs(draw) -> tuple[str, dict[str, int]]:
    """A spec text of Dense/Concatenate nodes over two inputs, and each tensor's width."""
    widths = {"a": draw(st.integers(1, 6)), "b": draw(st.integers(1, 6))}
    nodes: list[tuple[str, dict]] = []
    for i in range(draw(st.integers(1, 10))):
        name = f"n{i}"
        sources = draw(
            st.lists(st.sampled_from(sorted(widths)), min_size=1, max_size=2, unique=True)
        )
        if len(sources) == 1:
            units = draw(st.integers(1, 5))
            nodes.append((name, {"type": "Dense", "units": units, "inputs": sources[0]}))
            widths[name] = units
        else:
            nodes.append((name, {"type": "Concatenate", "inputs": sources}))
            widths[name] = sum(widths[s] for s in sources)
    order = draw(st.permutations(nodes))
    used = {
        s
        for _, n in nodes
        for s in ([n["inputs"]] if isinstance(n["inputs"], str) else n["inputs"])
    }
    sinks = [name for name, _ in nodes if name not in used]
    unused_inputs = [i for i in ("a", "b") if i not in used]
    outputs = sinks + unused_inputs
    lines = ["keraspec: 1", "name: random_dag", "inputs:"]
    lines += [f"  {i}: {{shape: [{widths[i]}]}}" for i in ("a", "b")]
    lines += ["nodes:"] + [f"  {name}: {json.dumps(node)}" for name, node in order]
    lines += [f"outputs: {json.dumps(outputs)}"]
    return "\n".join(lines) + "\n", widths


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag_specs())
def test_random_dags_validate_and_lower_in_dependency_order(case) -> None:
    text, _ = case
    spec = keraspec.loads(text)
    assert keraspec.validate(spec) == []
    program = keraspec.lower(spec)
    seen = {i.id for i in program.main.inputs}
    for call in program.main.calls:
        refs = call.args[0] if isinstance(call.args[0], tuple) else (call.args[0],)
        assert {r.node for r in refs} <= seen
        seen.add(call.id)
    assert keraspec.lower(keraspec.loads(text)) == program


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag_specs())
def test_topological_order_is_networkx_lexicographical_order(case) -> None:
    """lower's own Kahn's algorithm orders as networkx does, ties by declaration."""
    spec = keraspec.loads(case[0])
    names = [*spec.inputs, *spec.nodes]
    dag = nx.DiGraph()
    dag.add_nodes_from(names)
    for name, node in spec.nodes.items():
        dag.add_edges_from((ref.node, name) for ref, _ in tensor_references(node.inputs, ()))
    expected = list(nx.lexicographical_topological_sort(dag, key=names.index))
    assert topological_order(spec) == expected


@settings(max_examples=60, deadline=None)
@given(dag_specs())
def test_random_dags_round_trip_through_dumps(case) -> None:
    spec = keraspec.loads(case[0])
    text = keraspec.dumps(spec)
    assert keraspec.loads(text) == spec
    assert keraspec.dumps(keraspec.loads(text)) == text


@settings(max_examples=40, deadline=None)
@given(dag_specs(), st.data())
def test_a_dangling_reference_is_reported_once_where_it_is(case, data) -> None:
    text, _ = case
    lines = text.splitlines()
    node_lines = [i for i, line in enumerate(lines) if line.startswith("  n")]
    target = data.draw(st.sampled_from(node_lines))
    errors = [d for d in keraspec.validate(keraspec.loads(_ghost(text, target))) if d.is_error]
    assert [(d.code, d.line) for d in errors] == [("E300", target + 1)]
    assert "unknown `ghost`" in errors[0].message


def _ghost(text: str, line_index: int) -> str:
    """Point the node on ``line_index`` at an undeclared name."""
    lines = text.splitlines()
    head, _, _ = lines[line_index].partition('"inputs": ')
    lines[line_index] = head + '"inputs": "ghost"}'
    return "\n".join(lines) + "\n"


@pytest.mark.keras
@settings(max_examples=8, deadline=None)
@given(dag_specs())
def test_random_dags_build_with_the_expected_parameter_count(case) -> None:
    text, widths = case
    spec = keraspec.loads(text)
    expected = 0
    for node in spec.nodes.values():
        if node.type == "Dense":
            expected += widths[node.inputs] * node.args["units"] + node.args["units"]
    assert keraspec.build(spec).count_params() == expected


@settings(max_examples=60, deadline=None)
@given(dag_specs())
def test_random_dags_infer_widths_and_parameters_without_keras(case) -> None:
    text, widths = case
    spec = keraspec.loads(text)
    inference = keraspec.infer(spec)
    expected = 0
    for name, node in spec.nodes.items():
        assert inference.main.nodes[name].output.shape == (None, widths[name])
        if node.type == "Dense":
            expected += widths[node.inputs] * node.args["units"] + node.args["units"]
    assert inference.main.params == expected
