"""`keraspec draw`: one box per node and input, one edge per tensor reference, in every format."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

import keraspec
from keraspec.cli import ExitCode, main
from keraspec.draw import layout, render
from keraspec.ir import GraphIR, TensorRef

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml")) + sorted(
    (ROOT / "specs/applications").glob("*.yaml")
)
SUBMODELS = ROOT / "tests/cases/valid/submodels.yaml"
HEADLINE = ROOT / "specs/headline.yaml"
SVG = "{http://www.w3.org/2000/svg}"
ids = [p.relative_to(ROOT / "specs").as_posix() for p in SPECS]
RESNET = ROOT / "specs/applications/resnet50.yaml"
TWICE = """\
keraspec: 1
name: twice
blocks:
  mlp:
    inputs: x
    nodes:
      a: {type: Dense, units: 4, inputs: x}
      b: {type: Dense, units: 4, inputs: a}
      c: {type: Add, inputs: [b, x]}
    outputs: c
inputs:
  x: {shape: [4]}
nodes:
  first: {block: mlp, inputs: x}
  second: {block: mlp, inputs: first, repeat: 2}
  join: {type: Concatenate, inputs: [first, second, x]}
outputs: join
"""


@cache
def drawn(path: Path, fmt: str, expand: bool = False) -> bytes:
    inference = keraspec.infer(path)
    return render(layout(inference.program, inference, expand), fmt)


def refs(value: Any) -> Iterator[TensorRef]:
    if isinstance(value, TensorRef):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from refs(v)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from refs(v)


def top_uses(graph: GraphIR) -> dict[str, str]:
    """Each node a block use expanded, with that use's id (the outermost use-site note)."""
    uses = {c.id: [n.use for n in c.location.via if n.block] for c in graph.calls}
    return {node: found[-1] for node, found in uses.items() if found}


def counts(graph: GraphIR, expand: bool = False) -> tuple[int, int]:
    """Boxes and edges a graph's drawing has: a box per input and node, an edge per tensor
    reference, except that, collapsed, a block use is one box with one edge per neighbour."""
    uses = {} if expand else top_uses(graph)
    unit = {i.id: i.id for i in graph.inputs} | {c.id: uses.get(c.id, c.id) for c in graph.calls}
    plain, grouped = 0, set()
    for call in graph.calls:
        for ref in refs((call.args, call.kwargs)):
            source, target = unit[ref.node], unit[call.id]
            if ref.node not in uses and call.id not in uses:
                plain += 1
            elif source != target:
                label = None if ref.node in uses else ref.index
                grouped.add((source, target, label))
    return len(set(unit.values())), plain + len(grouped)


def svg_parts(data: bytes, kind: str) -> list[ET.Element]:
    root = ET.fromstring(data)
    return [g for g in root.iter(f"{SVG}g") if g.get("class", "").split()[0] == kind]


@pytest.mark.parametrize("path", SPECS, ids=ids)
def test_svg_has_a_box_per_node_and_an_edge_per_reference(path: Path) -> None:
    data = drawn(path, "svg")
    assert (len(svg_parts(data, "node")), len(svg_parts(data, "edge"))) == counts(
        keraspec.lower(path).main
    )


@pytest.mark.parametrize("path", SPECS, ids=ids)
def test_dot_and_mermaid_have_a_node_line_per_box_and_an_edge_line_per_reference(
    path: Path,
) -> None:
    expected = counts(keraspec.lower(path).main)
    dot = drawn(path, "dot").decode().splitlines()
    assert dot[0].startswith("digraph ") and dot[-1] == "}"
    dot_nodes = [line for line in dot if re.match(r'\s+"[^"]+" \[label=', line)]
    assert (len(dot_nodes), sum(" -> " in line for line in dot)) == expected
    mermaid = drawn(path, "mermaid").decode().splitlines()
    assert mermaid[0] == "flowchart TD"
    nodes = [re.fullmatch(r'\s+(\w+)\["([^"]*)"\]', line) for line in mermaid]
    edges = [re.fullmatch(r'\s+(\w+) -->(\|"[^"]*"\|)? (\w+)', line) for line in mermaid]
    assert (len([n for n in nodes if n]), len([e for e in edges if e])) == expected
    declared = {n.group(1) for n in nodes if n}
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", name) for name in declared)
    assert {e.group(i) for e in edges if e for i in (1, 3)} <= declared


@pytest.mark.parametrize("path", SPECS, ids=ids)
def test_png_opens_and_has_a_sane_size(path: Path) -> None:
    image = Image.open(io.BytesIO(drawn(path, "png")))
    assert image.format == "PNG" and image.mode == "RGB"
    width, height = image.size
    assert 100 <= width <= 5000 and 100 <= height <= 65000, image.size  # DenseNet: 51,444


@pytest.mark.parametrize("path", SPECS, ids=ids)
def test_the_same_spec_draws_the_same_bytes(path: Path) -> None:
    inference = keraspec.infer(path)
    formats = ("svg", "dot", "mermaid") + (("png",) if path.parent.name == "specs" else ())
    for fmt in formats:
        again = render(layout(inference.program, inference), fmt)
        assert again == drawn(path, fmt), fmt


def test_shared_layers_share_a_colour_and_a_heavier_border() -> None:
    data = drawn(ROOT / "specs/shared_lstm_tweets.yaml", "svg")
    shared = [g for g in svg_parts(data, "node") if "shared_layer" in g.get("class", "")]
    assert len(shared) == 2
    rects = [g.find(f"{SVG}rect") for g in shared]
    assert {r.get("fill") for r in rects} != {"#ffffff"} and len(
        {r.get("fill") for r in rects}
    ) == 1
    assert {r.get("stroke-width") for r in rects} == {"2.5"}
    mermaid = drawn(ROOT / "specs/shared_lstm_tweets.yaml", "mermaid").decode()
    assert re.search(r"^    class n_\w+,n_\w+ shared0$", mermaid, re.M)


def test_a_multi_output_edge_carries_its_output_index() -> None:
    path = ROOT / "specs/seq2seq.yaml"
    dot = drawn(path, "dot").decode()
    assert '"encoder" -> "decoder_lstm" [label="1"];' in dot
    assert '"encoder" -> "decoder_lstm" [label="2"];' in dot
    assert '"decoder_lstm" -> "decoder_dense" [label="0"];' in dot
    assert 'n_encoder -->|"1"| n_decoder_lstm' in drawn(path, "mermaid").decode()
    labels = [t.text for g in svg_parts(drawn(path, "svg"), "edge") for t in g.iter(f"{SVG}text")]
    assert sorted(labels) == ["0", "1", "2"]


def test_expand_draws_each_sub_model_inside_a_group() -> None:
    program = keraspec.lower(SUBMODELS)
    plain = drawn(SUBMODELS, "svg")
    assert svg_parts(plain, "group") == []
    data = drawn(SUBMODELS, "svg", expand=True)
    groups = {g.get("id") for g in svg_parts(data, "group")}
    assert groups == {"group-projector", "group-encoder"}
    boxes = {g.get("id") for g in svg_parts(data, "node")}
    inner = {f"node-{sub.name}/{c.id}" for sub in program.submodels for c in sub.calls}
    assert inner == {"node-projector/p", "node-encoder/proj", "node-encoder/out"} and inner <= boxes
    boxes_, edges = counts(program.main)
    for sub in program.submodels:
        boxes_, edges = boxes_ + counts(sub)[0], edges + counts(sub)[1]
    assert (len(boxes), len(svg_parts(data, "edge"))) == (boxes_, edges)
    dot = drawn(SUBMODELS, "dot", expand=True).decode()
    cluster = dot[dot.index('subgraph "cluster_encoder"') :]
    assert '"encoder/proj" [label="proj\\nmodel projector' in cluster[: cluster.index("}")]
    mermaid = drawn(SUBMODELS, "mermaid", expand=True).decode()
    assert '    subgraph group_1["model encoder"]\n        n_encoder_v["v<br/>Input' in mermaid


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_writes_each_format_by_its_suffix(tmp_path: Path, capsys) -> None:
    for name, fmt in [("g.svg", "svg"), ("g.png", "png"), ("g.dot", "dot"), ("g.mmd", "mermaid")]:
        code, out, err = run(capsys, "draw", HEADLINE, "-o", tmp_path / "sub" / name)
        assert (code, out, err) == (0, "", f"wrote {tmp_path / 'sub' / name}\n")
        assert (tmp_path / "sub" / name).read_bytes() == drawn(HEADLINE, fmt)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == [
        "g.dot", "g.mmd", "g.png", "g.svg",
    ]  # fmt: skip
    code, out, _ = run(capsys, "draw", HEADLINE, "--format", "dot")
    assert (code, out) == (0, drawn(HEADLINE, "dot").decode())
    code, out, _ = run(capsys, "draw", HEADLINE, "--format", "mermaid", "-o", tmp_path / "x.txt")
    assert code == 0 and (tmp_path / "x.txt").read_bytes() == drawn(HEADLINE, "mermaid")


def test_cli_usage_errors_exit_2_and_bad_specs_exit_1(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, "draw", HEADLINE, "-o", tmp_path / "graph.jpg")
    assert code == ExitCode.USAGE and "cannot tell the format of" in err
    code, _, err = run(capsys, "draw", HEADLINE, "--format", "png")
    assert code == ExitCode.USAGE and "a PNG is binary" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("keraspec: 1\nname: t\ninputs: {x: {shape: [2]}}\nnodes:\n"
                   "  h: {type: Dnse, units: 2, inputs: x}\noutputs: [h]\n")  # fmt: skip
    code, out, err = run(capsys, "draw", bad, "-o", tmp_path / "bad.svg")
    assert code == ExitCode.INVALID and out == "" and "Traceback" not in err
    assert err.startswith(f"{bad}:5:")
    assert "E210 node `h`: unknown layer type `Dnse`" in err
    assert not (tmp_path / "bad.svg").exists()


def test_draw_never_imports_tensorflow_or_keras(tmp_path: Path) -> None:
    args = ["draw", str(SUBMODELS), "--expand", "-o", str(tmp_path / "g.png")]
    script = (
        "import sys\n"
        "from keraspec.cli import main\n"
        f"code = main({args!r})\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow'))\n"
        "print(code, heavy)\n"
    )
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.stdout == "0 []\n", result.stderr


def test_the_readme_shows_the_headline_drawing_the_command_makes(capsys) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(.*?)```", readme, re.S)
    assert block, "README.md has no mermaid block"
    code, out, _ = run(capsys, "draw", HEADLINE, "--format", "mermaid")
    assert code == 0 and block.group(1) == out
    assert "keraspec draw specs/headline.yaml --format mermaid" in readme


def test_the_drawing_doc_example_is_what_the_command_prints(capsys) -> None:
    doc = (ROOT / "docs/drawing.md").read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(.*?)```", doc, re.S)
    assert block and "`keraspec draw specs/seq2seq.yaml --format mermaid`" in doc
    code, out, _ = run(capsys, "draw", ROOT / "specs/seq2seq.yaml", "--format", "mermaid")
    assert code == 0 and block.group(1) == out


def test_a_block_use_is_one_box_with_one_edge_per_neighbour(tmp_path: Path) -> None:
    spec = tmp_path / "twice.yaml"
    spec.write_text(TWICE)
    dot = drawn(spec, "dot").decode()
    boxes = re.findall(r'^  "([^"]+)" \[label="([^"]*)"', dot, re.M)
    assert boxes == [
        ("x", "x\\nInput\\n(None, 4)"),
        ("first", "first\\nblock mlp"),
        ("second", "second\\nblock mlp \u00d72"),
        ("join", "join\\nConcatenate\\n(None, 12)"),
    ]
    edges = re.findall(r'^  "([^"]+)" -> "([^"]+)";', dot, re.M)
    assert edges == [
        ("x", "first"),
        ("first", "second"),
        ("first", "join"),
        ("second", "join"),
        ("x", "join"),
    ]
    assert "subgraph" not in dot and counts(keraspec.lower(spec).main) == (4, 5)
    mermaid = drawn(spec, "mermaid").decode()
    assert '    n_second["second<br/>block mlp \u00d72"]' in mermaid
    assert "    n_first --> n_second" in mermaid


def test_expand_draws_a_block_uses_nodes_inside_its_group(tmp_path: Path) -> None:
    spec = tmp_path / "twice.yaml"
    spec.write_text(TWICE)
    data = drawn(spec, "svg", expand=True)
    groups = {g.get("id"): g.find(f"{SVG}text").text for g in svg_parts(data, "group")}
    assert groups == {
        "group-first": "first: block mlp",
        "group-second": "second: block mlp \u00d72",
    }
    program = keraspec.lower(spec)
    assert len(svg_parts(data, "node")) == 1 + len(program.main.calls) == 11
    assert len(svg_parts(data, "edge")) == counts(program.main, expand=True)[1] == 15
    dot = drawn(spec, "dot", expand=True).decode()
    cluster = dot[dot.index('subgraph "cluster_second"') :]
    inside = re.findall(r'^    "([^"]+)" \[', cluster[: cluster.index("  }")], re.M)
    assert inside == [f"second_{k}_{n}" for k in (1, 2) for n in "abc"]


def test_resnet50_draws_a_box_per_stage_and_expanded_every_node_in_its_stage() -> None:
    program = keraspec.lower(RESNET)
    written = yaml.safe_load(RESNET.read_text(encoding="utf-8"))["nodes"]
    uses = {name for name, body in written.items() if "block" in body}
    assert uses == set(top_uses(program.main).values()) == {"conv2", "conv3", "conv4", "conv5"}
    plain = len(program.main.inputs) + len(written) - len(uses)
    collapsed = svg_parts(drawn(RESNET, "svg"), "node")
    assert len(collapsed) == plain + len(uses) == 13 < len(program.main.calls) // 10
    assert sum("block" in g.get("class", "").split() for g in collapsed) == len(uses)
    data = drawn(RESNET, "svg", expand=True)
    groups = {g.get("id")[len("group-") :]: g.find(f"{SVG}rect") for g in svg_parts(data, "group")}
    assert set(groups) == uses
    boxes = {g.get("id")[len("node-") :]: g.find(f"{SVG}rect") for g in svg_parts(data, "node")}
    assert len(boxes) == len(program.main.inputs) + len(program.main.calls) == 177
    for node, use in top_uses(program.main).items():
        box, frame = (
            [float(r.get(k)) for k in ("x", "y", "width", "height")]
            for r in (boxes[node], groups[use])
        )
        assert frame[0] < box[0] and box[0] + box[2] < frame[0] + frame[2], node
        assert frame[1] < box[1] and box[1] + box[3] < frame[1] + frame[3], node
    expected = counts(program.main, expand=True)
    assert (len(boxes), len(svg_parts(data, "edge"))) == expected
    dot = drawn(RESNET, "dot", expand=True).decode().splitlines()
    dot_nodes = [line for line in dot if re.match(r'\s+"[^"]+" \[label=', line)]
    assert (len(dot_nodes), sum(" -> " in line for line in dot)) == expected
    mermaid = drawn(RESNET, "mermaid", expand=True).decode().splitlines()
    nodes = [line for line in mermaid if re.fullmatch(r'\s+\w+\["[^"]*"\]', line)]
    edges = [line for line in mermaid if re.fullmatch(r'\s+\w+ -->(\|"[^"]*"\|)? \w+', line)]
    assert (len(nodes), len(edges)) == expected
    assert sum(line.startswith("    subgraph ") for line in mermaid) == len(uses)
    inference = keraspec.infer(RESNET)
    for fmt in ("svg", "dot", "mermaid", "png"):
        assert render(layout(inference.program, inference, True), fmt) == drawn(RESNET, fmt, True)
