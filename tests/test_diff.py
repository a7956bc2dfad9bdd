"""`keraspec diff`: what changes between two specs' models, as text and JSON, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keraspec import api
from keraspec.cli import main
from keraspec.diff import RENAMED, SpecDiff, diff, to_json, to_text
from keraspec.shapes import Inference

ROOT = Path(__file__).parent.parent
MLP = ROOT / "specs" / "mlp.yaml"
VISION = ROOT / "specs" / "shared_vision.yaml"
EMBEDDING = ROOT / "specs" / "shared_embedding.yaml"
THREE = ROOT / "tests" / "cases" / "invalid" / "three_errors.yaml"
BASE = """\
keraspec: 1
name: mlp
inputs:
  digits: {shape: [784]}
nodes:
  dense_1: {type: Dense, units: 64, activation: relu, inputs: digits}
  dense_2: {type: Dense, units: 64, activation: relu, inputs: dense_1}
  predictions: {type: Dense, units: 10, activation: softmax, inputs: dense_2}
outputs: [predictions]
"""


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def diff_texts(tmp_path: Path, old: str, new: str) -> SpecDiff:
    sides = [write(tmp_path, name, text) for name, text in (("a.yaml", old), ("b.yaml", new))]
    return diff(*(api.check_file(path).inference for path in sides), "a.yaml", "b.yaml")


def text_of(tmp_path: Path, old: str, new: str) -> str:
    return to_text(diff_texts(tmp_path, old, new)).plain


# The same model, written differently.

REORDERED = """\
name: mlp
keraspec: 1
outputs: [predictions]
nodes:
  predictions: {inputs: dense_2, units: 10, type: Dense, activation: softmax}
  dense_2: {activation: relu, type: Dense, inputs: dense_1, units: 64}
  dense_1: {inputs: digits, type: Dense, units: 64, activation: relu}
inputs:
  digits: {shape: [784]}
"""
BLOCK_STYLE = """\
keraspec: 1
name: mlp
inputs:
  digits:
    shape:
      - 784
nodes:
  dense_1:
    type: Dense
    units: 64
    activation: relu
    inputs: digits
  dense_2:
    type: Dense
    units: 64
    activation: relu
    inputs: dense_1
  predictions:
    type: Dense
    units: 10
    activation: softmax
    inputs: dense_2
outputs:
  - predictions
"""
REPEATED = """\
keraspec: 1
name: mlp
params: {width: 64}
inputs: {digits: {shape: [784]}}
nodes:
  dense: {type: Dense, units: "${width}", activation: relu, inputs: digits, repeat: 2}
  predictions: {type: Dense, units: 10, activation: softmax, inputs: dense}
outputs: [predictions]
"""


@pytest.mark.parametrize(
    "text", [BASE, REORDERED, BLOCK_STYLE, REPEATED], ids=["same", "reordered", "block", "repeat"]
)
def test_the_same_model_written_differently_has_no_differences(tmp_path, capsys, text) -> None:
    base, spec = write(tmp_path, "a.yaml", BASE), write(tmp_path, "b.yaml", text)
    assert run(capsys, "diff", base, spec) == (0, "no differences\n", "")
    code, out, _ = run(capsys, "diff", base, spec, "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "old": str(base),
        "new": str(spec),
        "equal": True,
        "counts": {"changed": 0, "renamed": 0, "added": 0, "removed": 0},
        "name": None,
        "layers": [],
        "graphs": [],
        "compile": [],
        "params": {"old": 55050, "new": 55050, "delta": 0},
    }


# What changed, node by node.

WIDER = BASE.replace(
    "units: 64, activation: relu, inputs: digits", "units: 128, activation: relu, inputs: digits"
)
WITH_DROPOUT = BASE.replace(
    "  dense_2: {type: Dense, units: 64, activation: relu, inputs: dense_1}\n",
    "  dropout: {type: Dropout, rate: 0.5, inputs: dense_1}\n",
).replace("inputs: dense_2", "inputs: dropout")
BRANCHES = """\
keraspec: 1
name: branches
inputs:
  x: {shape: [3]}
  y: {shape: [5]}
nodes:
  p: {type: Dense, units: 4, inputs: x}
  q: {type: Dense, units: 4, inputs: x}
  cat: {type: Concatenate, inputs: [p, q, y]}
outputs: [cat]
"""
SUBMODEL = """\
keraspec: 1
name: tiny
inputs:
  x: {shape: [3]}
models:
  enc:
    inputs: {i: {shape: [3]}}
    nodes: {d: {type: Dense, units: 2, inputs: i}}
    outputs: [d]
nodes:
  e: {model: enc, inputs: x}
outputs: [e]
"""


def test_a_wider_layer_changes_its_parameters_and_the_next_layers(tmp_path) -> None:
    # Dense(784 → 64) has 784·64 + 64 = 50,240 weights; 128 units, 100,480. The next
    # layer's input widens too: 64·64 + 64 = 4,160 becomes 128·64 + 64 = 8,256.
    assert text_of(tmp_path, BASE, WIDER) == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "model mlp\n"
        "  changed  dense_1 (Dense)\n"
        "           units: 64 → 128\n"
        "           params: 50,240 → 100,480 (+50,240)\n"
        "  changed  dense_2 (Dense)\n"
        "           params: 4,160 → 8,256 (+4,096)\n"
        "total params: 55,050 → 109,386 (+54,336)\n"
        "2 changed, 0 renamed, 0 added, 0 removed"
    )


def test_a_wider_layer_as_json(tmp_path) -> None:
    data = to_json(diff_texts(tmp_path, BASE, WIDER))
    (graph,) = data["graphs"]
    assert (graph["kind"], graph["old"], graph["new"], graph["main"]) == (
        "changed",
        "mlp",
        "mlp",
        True,
    )
    assert graph["interface"] == []
    assert graph["params"] == {"old": 55050, "new": 109386, "delta": 54336}
    assert graph["nodes"] == [
        {
            "kind": "changed",
            "old": "dense_1",
            "new": "dense_1",
            "layer": "Dense",
            "target": None,
            "arguments": [{"name": "units", "kind": "changed", "old": 64, "new": 128}],
            "inputs": None,
            "params": {"old": 50240, "new": 100480, "delta": 50240},
        },
        {
            "kind": "changed",
            "old": "dense_2",
            "new": "dense_2",
            "layer": "Dense",
            "target": None,
            "arguments": [],
            "inputs": None,
            "params": {"old": 4160, "new": 8256, "delta": 4096},
        },
    ]
    assert data["counts"] == {"changed": 2, "renamed": 0, "added": 0, "removed": 0}
    assert data["params"] == {"old": 55050, "new": 109386, "delta": 54336}


def test_removed_and_added_nodes_show_where_they_were_and_what_they_had(tmp_path) -> None:
    assert text_of(tmp_path, BASE, WITH_DROPOUT) == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "model mlp\n"
        "  removed  dense_2 (Dense)\n"
        "           units: 64\n"
        "           activation: relu\n"
        "           inputs: dense_1\n"
        "           params: 4,160\n"
        "  added    dropout (Dropout)\n"
        "           rate: 0.5\n"
        "           inputs: dense_1\n"
        "           params: 0\n"
        "  changed  predictions (Dense)\n"
        "           inputs: dense_2 → dropout\n"
        "total params: 55,050 → 50,890 (-4,160)\n"
        "1 changed, 0 renamed, 1 added, 1 removed"
    )


def test_added_and_removed_arguments_as_json(tmp_path) -> None:
    noise = WITH_DROPOUT.replace("type: Dropout, rate: 0.5", "type: GaussianNoise, stddev: 0.1")
    (node,) = to_json(diff_texts(tmp_path, WITH_DROPOUT, noise))["graphs"][0]["nodes"]
    assert node == {
        "kind": "changed",
        "old": "dropout",
        "new": "dropout",
        "layer": "GaussianNoise",
        "target": {"name": "layer", "kind": "changed", "old": "Dropout", "new": "GaussianNoise"},
        "arguments": [
            {"name": "stddev", "kind": "added", "old": None, "new": 0.1},
            {"name": "rate", "kind": "removed", "old": 0.5, "new": None},
        ],
        "inputs": None,
        "params": {"old": 0, "new": 0, "delta": 0},
    }
    assert text_of(tmp_path, WITH_DROPOUT, noise).splitlines()[3:7] == [
        "  changed  dropout (GaussianNoise)",
        "           layer: Dropout → GaussianNoise",
        "           stddev: (unset) → 0.1",
        "           rate: 0.5 → (unset)",
    ]


def test_nested_objects_are_compared_argument_by_argument(tmp_path) -> None:
    old = BASE.replace("activation: softmax", "kernel_regularizer: {type: L2, l2: 0.01}")
    new = old.replace("l2: 0.01", "l2: 0.001")
    assert text_of(tmp_path, old, new).splitlines()[3:5] == [
        "  changed  predictions (Dense)",
        "           kernel_regularizer.l2: 0.01 → 0.001",
    ]


def test_rewired_inputs(tmp_path) -> None:
    assert text_of(tmp_path, BRANCHES, BRANCHES.replace("[p, q, y]", "[q, p, y]")) == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "model branches\n"
        "  changed  cat (Concatenate)\n"
        "           inputs: [p, q, y] → [q, p, y]\n"
        "total params: 32 (unchanged)\n"
        "1 changed, 0 renamed, 0 added, 0 removed"
    )


def test_a_renamed_node_is_only_a_rename(tmp_path) -> None:
    d = diff_texts(tmp_path, BASE, BASE.replace("dense_2", "hidden"))
    assert to_text(d).plain == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "model mlp\n"
        "  renamed  dense_2 → hidden (Dense)\n"
        "total params: 55,050 (unchanged)\n"
        "0 changed, 1 renamed, 0 added, 0 removed"
    )
    (node,) = to_json(d)["graphs"][0]["nodes"]
    assert node == {
        "kind": "renamed",
        "old": "dense_2",
        "new": "hidden",
        "layer": "Dense",
        "target": None,
        "arguments": [],
        "inputs": None,
        "params": {"old": 4160, "new": 4160, "delta": 0},
    }


def test_renamed_inputs_and_chains_of_renamed_nodes(tmp_path) -> None:
    new = BASE.replace("digits", "pixels").replace("dense_", "hidden_")
    assert text_of(tmp_path, BASE, new).splitlines()[3:6] == [
        "  renamed  digits → pixels (Input)",
        "  renamed  dense_1 → hidden_1 (Dense)",
        "  renamed  dense_2 → hidden_2 (Dense)",
    ]


def test_a_rename_with_an_argument_change(tmp_path) -> None:
    # Same layer on the same inputs: a rename with changes, not a remove and an add.
    new = BASE.replace("dense_2", "hidden").replace(
        "64, activation: relu, inputs: dense_1", "32, activation: relu, inputs: dense_1"
    )
    assert text_of(tmp_path, BASE, new) == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "model mlp\n"
        "  renamed  dense_2 → hidden (Dense)\n"
        "           units: 64 → 32\n"
        "           params: 4,160 → 2,080 (-2,080)\n"
        "  changed  predictions (Dense)\n"
        "           params: 650 → 330 (-320)\n"
        "total params: 55,050 → 52,650 (-2,400)\n"
        "1 changed, 1 renamed, 0 added, 0 removed"
    )


def test_of_several_rename_candidates_the_first_in_graph_order_wins(tmp_path) -> None:
    renamed = BRANCHES.replace("  p:", "  r:").replace("  q:", "  s:")
    assert text_of(tmp_path, BRANCHES, renamed.replace("[p, q, y]", "[s, r, y]")).splitlines()[
        3:7
    ] == [
        "  renamed  p → r (Dense)",
        "  renamed  q → s (Dense)",
        "  changed  cat (Concatenate)",
        "           inputs: [p, q, y] → [s, r, y]",
    ]


def test_input_changes(tmp_path) -> None:
    # Dense(100 → 64): 100·64 + 64 = 6,464 weights instead of 50,240.
    assert text_of(tmp_path, BASE, BASE.replace("[784]", "[100], dtype: float16")) == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "model mlp\n"
        "  changed  digits (Input)\n"
        "           shape: [784] → [100]\n"
        "           dtype: (unset) → float16\n"
        "  changed  dense_1 (Dense)\n"
        "           params: 50,240 → 6,464 (-43,776)\n"
        "total params: 55,050 → 11,274 (-43,776)\n"
        "2 changed, 0 renamed, 0 added, 0 removed"
    )


def test_input_order_outputs_and_name(tmp_path) -> None:
    swapped = BRANCHES.replace(
        "  x: {shape: [3]}\n  y: {shape: [5]}\n", "  y: {shape: [5]}\n  x: {shape: [3]}\n"
    )
    assert text_of(tmp_path, BRANCHES, swapped).splitlines()[2:4] == [
        "model branches",
        "  input order: [x, y] → [y, x]",
    ]
    new = BASE.replace("[predictions]", "[predictions, dense_2]").replace(
        "name: mlp", "name: perceptron"
    )
    assert text_of(tmp_path, BASE, new).splitlines()[2:5] == [
        "name: mlp → perceptron",
        "model perceptron",
        "  outputs: [predictions] → [predictions, dense_2]",
    ]


def test_call_arguments_and_renamed_multi_output_nodes(tmp_path) -> None:
    old = (ROOT / "tests" / "cases" / "valid" / "call_arguments.yaml").read_text()
    new = old.replace("training: false", "training: true").replace("encoder", "enc")
    # `decoder` reads `encoder[1]`, now `enc[1]`: not a rewiring.
    assert text_of(tmp_path, old, new).splitlines()[2:] == [
        "model call_arguments",
        "  changed  frozen_dropout (Dropout)",
        "           call.training: false → true",
        "  renamed  encoder → enc (GRU)",
        "total params: 738 (unchanged)",
        "1 changed, 1 renamed, 0 added, 0 removed",
    ]


def test_named_outputs_and_per_output_compile_arguments(tmp_path) -> None:
    old = (ROOT / "tests" / "cases" / "valid" / "named_outputs.yaml").read_text()
    new = old.replace(
        "{score: score_head, label: class_head}", "{score: class_head, label: score_head}"
    )
    new = new.replace("score: mse", "score: mae").replace(
        "learning_rate: 1e-3", "learning_rate: 1e-4"
    )
    assert text_of(tmp_path, old, new).splitlines()[2:] == [
        "model named_outputs",
        "  outputs: {score: score_head, label: class_head}"
        " → {score: class_head, label: score_head}",
        "compile",
        "  optimizer.learning_rate: 0.001 → 0.0001",
        "  loss.score: mse → mae",
        "total params: 76 (unchanged)",
        "0 changed, 0 renamed, 0 added, 0 removed",
    ]
    renamed = old.replace("score_head", "regressor")  # the output follows its node
    assert (
        text_of(tmp_path, old, renamed).splitlines()[3]
        == "  renamed  score_head → regressor (Dense)"
    )


def test_a_changed_sub_model(tmp_path) -> None:
    old = VISION.read_text()
    new = old.replace(
        "filters: 64, kernel_size: [3, 3], inputs: conv_1",
        "filters: 32, kernel_size: [3, 3], inputs: conv_1",
    )
    # conv_2: 3·3·64·32 + 32 = 18,464 weights instead of 3·3·64·64 + 64 = 36,928. The
    # sub-model counts at its first call (out_a); `out` sees 2·(11·11·32) features, not
    # 2·(11·11·64).
    assert text_of(tmp_path, old, new) == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "model digit_comparator\n"
        "  changed  out_a (model vision)\n"
        "           params: 37,568 → 19,104 (-18,464)\n"
        "  changed  out (Dense)\n"
        "           params: 15,489 → 7,745 (-7,744)\n"
        "sub-model vision\n"
        "  changed  conv_2 (Conv2D)\n"
        "           filters: 64 → 32\n"
        "           params: 36,928 → 18,464 (-18,464)\n"
        "  params: 37,568 → 19,104 (-18,464)\n"
        "total params: 53,057 → 26,849 (-26,208)\n"
        "3 changed, 0 renamed, 0 added, 0 removed"
    )


def test_a_renamed_sub_model(tmp_path) -> None:
    d = diff_texts(tmp_path, SUBMODEL, SUBMODEL.replace("enc", "encoder"))
    assert to_text(d).plain == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "sub-model enc → encoder (renamed)\n"
        "total params: 8 (unchanged)\n"
        "0 changed, 1 renamed, 0 added, 0 removed"
    )
    (graph,) = to_json(d)["graphs"]
    assert graph == {
        "kind": "renamed",
        "old": "enc",
        "new": "encoder",
        "main": False,
        "nodes": [],
        "interface": [],
        "params": {"old": 8, "new": 8, "delta": 0},
    }


def test_a_sub_model_renamed_and_changed_is_removed_and_added(tmp_path) -> None:
    # Dense(3 → 5): 3·5 + 5 = 20 weights instead of 3·2 + 2 = 8.
    new = SUBMODEL.replace("enc", "encoder").replace("units: 2", "units: 5")
    assert text_of(tmp_path, SUBMODEL, new) == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "model tiny\n"
        "  changed  e (model encoder)\n"
        "           layer: model enc → model encoder\n"
        "           params: 8 → 20 (+12)\n"
        "sub-model enc (removed)\n"
        "  removed  i (Input)\n"
        "           shape: [3]\n"
        "  removed  d (Dense)\n"
        "           units: 2\n"
        "           inputs: i\n"
        "           params: 8\n"
        "  params: 8\n"
        "sub-model encoder (added)\n"
        "  added    i (Input)\n"
        "           shape: [3]\n"
        "  added    d (Dense)\n"
        "           units: 5\n"
        "           inputs: i\n"
        "           params: 20\n"
        "  params: 20\n"
        "total params: 8 → 20 (+12)\n"
        "1 changed, 0 renamed, 2 added, 2 removed"
    )


def test_shared_layers(tmp_path) -> None:
    old = EMBEDDING.read_text()
    renamed = old.replace("  shared_embedding: {", "  words: {").replace(
        "layer: shared_embedding", "layer: words"
    )
    assert text_of(tmp_path, old, renamed) == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "shared layers\n"
        "  renamed  shared_embedding → words (Embedding)\n"
        "total params: 128,000 (unchanged)\n"
        "0 changed, 1 renamed, 0 added, 0 removed"
    )
    # The shared Embedding's 1,000·64 weights count at its first call; encoded_b shares them.
    assert text_of(tmp_path, old, old.replace("output_dim: 128", "output_dim: 64")) == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "shared layers\n"
        "  changed  shared_embedding (Embedding)\n"
        "           output_dim: 128 → 64\n"
        "model shared_embedding\n"
        "  changed  encoded_a (shared shared_embedding)\n"
        "           params: 128,000 → 64,000 (-64,000)\n"
        "total params: 128,000 → 64,000 (-64,000)\n"
        "2 changed, 0 renamed, 0 added, 0 removed"
    )


def test_compile_changes(tmp_path) -> None:
    old = MLP.read_text()
    new = old.replace("rmsprop", "{type: Adam, learning_rate: 0.001}").replace(
        "[accuracy]", "[accuracy, auc]"
    )
    assert text_of(tmp_path, old, new) == (
        "--- a.yaml\n"
        "+++ b.yaml\n"
        "compile\n"
        "  optimizer: rmsprop → {type: Adam, learning_rate: 0.001}\n"
        "  metrics: [accuracy] → [accuracy, auc]\n"
        "total params: 55,050 (unchanged)\n"
        "0 changed, 0 renamed, 0 added, 0 removed"
    )
    assert text_of(tmp_path, BASE, old).splitlines()[2:] == [
        "compile",
        "  optimizer: (unset) → rmsprop",
        "  loss: (unset) → categorical_crossentropy",
        "  metrics: (unset) → [accuracy]",
        "  run_eagerly: (unset) → false",
        "  jit_compile: (unset) → auto",
        "total params: 55,050 (unchanged)",
        "0 changed, 0 renamed, 0 added, 0 removed",
    ]
    (change,) = to_json(diff_texts(tmp_path, old, old.replace("rmsprop", "adam")))["compile"]
    assert change == {"name": "optimizer", "kind": "changed", "old": "rmsprop", "new": "adam"}


# The command line.


def test_diff_command_text_and_exit_code(tmp_path, capsys) -> None:
    new = write(
        tmp_path,
        "wide.yaml",
        MLP.read_text().replace(
            "units: 64, activation: relu, inputs: digits",
            "units: 128, activation: relu, inputs: digits",
        ),
    )
    assert run(capsys, "diff", MLP, new) == (
        1,
        f"--- {MLP}\n"
        f"+++ {new}\n"
        "model mlp\n"
        "  changed  dense_1 (Dense)\n"
        "           units: 64 → 128\n"
        "           params: 50,240 → 100,480 (+50,240)\n"
        "  changed  dense_2 (Dense)\n"
        "           params: 4,160 → 8,256 (+4,096)\n"
        "total params: 55,050 → 109,386 (+54,336)\n"
        "2 changed, 0 renamed, 0 added, 0 removed\n",
        "",
    )
    code, out, err = run(capsys, "diff", "--format", "json", MLP, new)
    assert (code, err) == (1, "")
    data = json.loads(out)
    assert (data["old"], data["new"], data["equal"]) == (str(MLP), str(new), False)
    assert [n["old"] for n in data["graphs"][0]["nodes"]] == ["dense_1", "dense_2"]
    assert data["params"] == {"old": 55050, "new": 109386, "delta": 54336}


def test_set_applies_to_both_sides(tmp_path, capsys) -> None:
    narrow = write(tmp_path, "narrow.yaml", REPEATED.replace("width: 64", "width: 32"))
    wide = write(tmp_path, "wide.yaml", REPEATED)
    assert run(capsys, "diff", narrow, wide)[0] == 1
    assert run(capsys, "diff", narrow, wide, "--set", "width=128") == (0, "no differences\n", "")


def test_an_invalid_side_is_trouble_with_located_diagnostics(tmp_path, capsys) -> None:
    before = sorted(tmp_path.iterdir())
    code, out, err = run(capsys, "diff", MLP, THREE)
    assert (code, out) == (2, "")
    assert err == (
        f"{THREE}:9:14: E210 node `h1`: unknown layer type `Dnse`\n"
        "    9 |   h1: {type: Dnse, units: 64, inputs: x}\n"
        "      |              ^\n"
        "      hint: did you mean `Dense`?\n"
        f"{THREE}:10:40: E302 cycle: `h2` → `h3` → `h2`\n"
        "   10 |   h2: {type: Dense, units: 64, inputs: h3}\n"
        "      |                                        ^\n"
        "      hint: a node cannot depend on its own output\n"
        f"{THREE}:12:45: E300 node `out` refers to unknown `h4`: not a declared input or node\n"
        "   12 |   out: {type: Dense, units: 1, inputs: [h1, h4]}\n"
        "      |                                             ^\n"
        f"cannot compare {THREE}: 3 errors, 0 warnings in 1 file\n"
    )
    assert sorted(tmp_path.iterdir()) == before  # diff never writes


def test_both_sides_are_reported_before_exiting(tmp_path, capsys) -> None:
    broken = write(tmp_path, "broken.yaml", "keraspec: 1\nname: x\ninputs: {a: {shape: [3]}\n")
    code, out, err = run(capsys, "diff", broken, THREE)
    assert (code, out) == (2, "")
    assert err.startswith(
        f"{broken}:4:1: E100 invalid YAML: expected ',' or '}}', but got '<stream end>' "
        "(while parsing a flow mapping)\n"
        f"cannot compare {broken}: 1 error, 0 warnings in 1 file\n"
        f"{THREE}:9:14: E210"
    )
    assert err.endswith(f"cannot compare {THREE}: 3 errors, 0 warnings in 1 file\n")


def test_a_missing_file_is_trouble(capsys) -> None:
    assert run(capsys, "diff", MLP, "nope.yaml") == (
        2,
        "",
        "Usage: keraspec diff [OPTIONS] OLD NEW\n"
        "Try 'keraspec diff --help' for help.\n"
        "\n"
        "Error: Invalid value for 'NEW': File 'nope.yaml' does not exist.\n",
    )


def test_a_block_library_cannot_be_compared(capsys) -> None:
    library = ROOT / "tests" / "cases" / "includes" / "ok" / "blocks" / "residual.yaml"
    code, out, err = run(capsys, "diff", library, MLP)
    assert (code, out) == (2, "")
    assert f"{library}:1:1: E202 the spec is missing `inputs`\n" in err
    assert err.endswith(f"cannot compare {library}: 4 errors, 1 warning in 1 file\n")


def test_diff_never_imports_tensorflow_or_keras(tmp_path) -> None:
    new = write(tmp_path, "new.yaml", MLP.read_text().replace("rmsprop", "adam"))
    code = (
        "import sys\n"
        "from keraspec.cli import main\n"
        f"rc = main(['diff', {str(MLP)!r}, {str(new)!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(rc, heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "1 []"


SPECS = sorted(
    [*(ROOT / "specs").rglob("*.yaml"), *(ROOT / "tests" / "cases" / "valid").glob("*.yaml")]
)


def test_every_example_spec_equals_its_expansion_and_differs_from_the_next() -> None:
    checked = [api.check_file(path) for path in SPECS]
    inferences = [c.inference for c in checked]
    for path, spec, inference, following in zip(
        SPECS, [c.spec for c in checked], inferences, inferences[1:] + inferences[:1], strict=True
    ):
        expanded = api.infer(api.loads(api.dumps(spec)))  # `keraspec expand`'s flat spec
        assert diff(inference, expanded).equal, path
        d = diff(inference, following)
        assert not d.equal, path
        assert json.loads(json.dumps(to_json(d))) == to_json(d)  # plain JSON data
        assert to_text(d).plain.endswith("removed"), path


# Properties, over random specs and random edits.


@st.composite
def dag_data(draw) -> dict:
    """A spec as data: Dense and Concatenate nodes over two inputs, each node created
    after what it reads (so creation order is a topological order)."""
    widths = {"a": draw(st.integers(1, 4)), "b": draw(st.integers(1, 4))}
    nodes: dict[str, dict] = {}
    for i in range(draw(st.integers(1, 7))):
        sources = draw(
            st.lists(st.sampled_from(sorted(widths)), min_size=1, max_size=2, unique=True)
        )
        if len(sources) == 1:
            node = {"type": "Dense", "units": draw(st.integers(1, 3)), "inputs": sources[0]}
            if draw(st.booleans()):
                node["activation"] = draw(st.sampled_from(["relu", "tanh"]))
            widths[f"n{i}"] = node["units"]
        else:
            node = {"type": "Concatenate", "inputs": sources}
            widths[f"n{i}"] = sum(widths[s] for s in sources)
        nodes[f"n{i}"] = node
    return {"inputs": {i: {"shape": [widths[i]]} for i in ("a", "b")}, "nodes": nodes}


def spec_text(data: dict) -> str:
    """The spec's YAML (flow style, in JSON syntax); its outputs are what nothing reads."""
    read = {s for node in data["nodes"].values() for s in _sources(node)}
    outputs = [n for n in [*data["inputs"], *data["nodes"]] if n not in read]
    lines = ["keraspec: 1", "name: random", f"inputs: {json.dumps(data['inputs'])}", "nodes:"]
    lines += [f"  {name}: {json.dumps(node)}" for name, node in data["nodes"].items()]
    return "\n".join([*lines, f"outputs: {json.dumps(outputs)}"]) + "\n"


def _sources(node: dict) -> list[str]:
    return [node["inputs"]] if isinstance(node["inputs"], str) else node["inputs"]


def renamed(data: dict, old: str, new: str) -> dict:
    def name(n: str) -> str:
        return new if n == old else n

    def node(value: dict) -> dict:
        inputs = value["inputs"]
        inputs = name(inputs) if isinstance(inputs, str) else [name(s) for s in inputs]
        return {**value, "inputs": inputs}

    return {
        "inputs": {name(i): v for i, v in data["inputs"].items()},
        "nodes": {name(n): node(v) for n, v in data["nodes"].items()},
    }


@st.composite
def edited(draw) -> tuple[dict, dict]:
    """A spec and a copy with one random edit, which may change nothing (the same units,
    nodes merely reordered) or change the model."""
    data = draw(dag_data())
    nodes = {n: dict(v) for n, v in data["nodes"].items()}
    dense = [n for n, v in nodes.items() if v["type"] == "Dense"]
    edits = ["rename", "reorder", "shape"] + (["units", "activation", "rewire"] if dense else [])
    edit = draw(st.sampled_from(edits))
    name = draw(st.sampled_from(dense if edit in ("units", "activation", "rewire") else [*nodes]))
    if edit == "units":
        nodes[name]["units"] = draw(st.integers(1, 3))
    elif edit == "activation":
        nodes[name]["activation"] = draw(st.sampled_from(["relu", "tanh", "linear"]))
    elif edit == "rename":
        return data, renamed(data, name, draw(st.sampled_from([name, "zz"])))
    elif edit == "rewire":
        earlier = ["a", "b", *nodes]  # nodes are created after what they read
        nodes[name]["inputs"] = draw(st.sampled_from(earlier[: earlier.index(name)]))
    elif edit == "reorder":
        nodes = dict(draw(st.permutations(list(nodes.items()))))
    else:
        inputs = {**data["inputs"], "a": {"shape": [draw(st.integers(1, 4))]}}
        return data, {"inputs": inputs, "nodes": nodes}
    return data, {**data, "nodes": nodes}


def inferred(text: str) -> Inference:
    return api.infer(api.loads(text))


def lowered(text: str) -> tuple:
    """What a spec builds, in no particular order: the lowered program without locations."""
    program = api.lower(api.loads(text))
    main = program.main
    inputs = {d.id: (d.shape, d.dtype, d.batch_size, d.sparse) for d in main.inputs}
    calls = {c.id: (c.kind, c.target, c.config, c.args, c.kwargs, c.call) for c in main.calls}
    return list(inputs.items()), calls, main.outputs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag_data())
def test_a_spec_has_no_differences_with_itself(data) -> None:
    text = spec_text(data)
    d = diff(inferred(text), inferred(text))
    assert d.equal
    assert to_text(d).plain == "no differences"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_a_diff_is_empty_exactly_when_the_lowered_programs_are_the_same(pair) -> None:
    old, new = (spec_text(data) for data in pair)
    d = diff(inferred(old), inferred(new))
    assert d.equal == (lowered(old) == lowered(new))
    assert d.params.delta == inferred(new).main.params - inferred(old).main.params
    back = diff(inferred(new), inferred(old))  # the same changes, seen from the other side
    counts = back.counts()
    assert d.counts() == {**counts, "added": counts["removed"], "removed": counts["added"]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag_data(), st.data())
def test_renaming_any_input_or_node_is_one_rename(data, choose) -> None:
    name = choose.draw(st.sampled_from(sorted([*data["inputs"], *data["nodes"]])))
    d = diff(inferred(spec_text(data)), inferred(spec_text(renamed(data, name, "zz"))))
    (graph,) = d.graphs
    assert graph.interface == ()
    (change,) = graph.nodes
    assert (change.kind, change.old, change.new) == (RENAMED, name, "zz")
    assert (change.target, change.arguments, change.inputs) == (None, (), None)


def test_the_docs_example_is_real_output(tmp_path, capsys, monkeypatch) -> None:
    docs = (ROOT / "docs" / "import-and-export.md").read_text(encoding="utf-8")
    section = docs.split("## Diff two specs\n")[1].split("\n## ")[0]
    spec = section.split("```yaml\n")[1].split("```")[0]
    console = section.split("```console\n")[1].split("```")[0].splitlines()
    assert console[0] == "$ keraspec diff specs/mlp.yaml mlp_v2.yaml"
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "mlp.yaml").write_text(MLP.read_text(encoding="utf-8"))
    write(tmp_path, "mlp_v2.yaml", spec)
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "diff", "specs/mlp.yaml", "mlp_v2.yaml") == (
        1,
        "\n".join(console[1:]) + "\n",
        "",
    )


# A .keras file on either side.


@pytest.fixture(scope="module")
def mlp_keras(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("keras") / "mlp.keras"
    assert main(["compile", str(MLP), "-o", str(path)]) == 0
    return path


@pytest.mark.keras
def test_a_spec_and_the_keras_file_it_compiles_to_have_no_differences(
    mlp_keras, tmp_path, capsys
) -> None:
    capsys.readouterr()
    assert run(capsys, "diff", MLP, mlp_keras) == (0, "no differences\n", "")
    # Against a .keras file, both sides are read as `keraspec import` reads a model, so
    # how a spec spells an argument makes no difference: here, a default written out.
    spelled = write(
        tmp_path, "spelled.yaml", MLP.read_text().replace("softmax", "softmax, use_bias: true")
    )
    assert run(capsys, "diff", spelled, mlp_keras) == (0, "no differences\n", "")
    assert run(capsys, "diff", spelled, MLP)[1].splitlines()[3:5] == [
        "  changed  predictions (Dense)",
        "           use_bias: true → (unset)",
    ]


@pytest.mark.keras
def test_a_keras_file_against_a_changed_spec(mlp_keras, tmp_path, capsys) -> None:
    capsys.readouterr()
    wide = write(
        tmp_path,
        "wide.yaml",
        MLP.read_text().replace(
            "units: 64, activation: relu, inputs: digits",
            "units: 128, activation: relu, inputs: digits",
        ),
    )
    assert run(capsys, "diff", mlp_keras, wide) == (
        1,
        f"--- {mlp_keras}\n"
        f"+++ {wide}\n"
        "model mlp\n"
        "  changed  dense_1 (Dense)\n"
        "           units: 64 → 128\n"
        "           params: 50,240 → 100,480 (+50,240)\n"
        "  changed  dense_2 (Dense)\n"
        "           params: 4,160 → 8,256 (+4,096)\n"
        "total params: 55,050 → 109,386 (+54,336)\n"
        "2 changed, 0 renamed, 0 added, 0 removed\n",
        "",
    )


@pytest.mark.keras
def test_an_unreadable_keras_file_is_trouble(tmp_path, capsys) -> None:
    junk = write(tmp_path, "junk.keras", "not a zip\n")
    code, out, err = run(capsys, "diff", junk, MLP)
    assert (code, out) == (2, "")
    assert err.startswith(f"{junk}:0:0: E700 cannot load `{junk}`: ")
    assert err.endswith(f"cannot compare {junk}: 1 error, 0 warnings in 1 file\n")
