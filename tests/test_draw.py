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


def counts(graph: GraphIR) -> tuple[int, int]:
    """Boxes (inputs and nodes) and edges (tensor references) a graph's drawing has."""
    edges = sum(len(list(refs((c.args, c.kwargs)))) for c in graph.calls)
    return len(graph.inputs) + len(graph.calls), edges


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
