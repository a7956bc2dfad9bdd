"""The static inference walk itself: located shape errors, shared weights, sub-models,
nodes no rule covers, and how infos are shown. The rules have their own files
(tests/test_shapes_*.py); every example spec is compared with Keras in
tests/test_shapes_specs.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import keraspec
from keraspec import api
from keraspec.cli import ExitCode, main
from keraspec.shapes import LAYER_RULES

MERGE = """\
keraspec: 1
name: merge
inputs:
  a: {shape: [32, 32, 64]}
  b: {shape: [30, 30, 64]}
nodes:
  sum: {type: Add, inputs: [a, b]}
outputs: [sum]
"""

SHARED = """\
keraspec: 1
name: shared
inputs:
  a: {shape: [8]}
  b: {shape: [4]}
layers:
  proj: {type: Dense, units: 2}
nodes:
  pa: {layer: proj, inputs: a}
  pb: {layer: proj, inputs: b}
outputs: [pa, pb]
"""

SUBMODEL = """\
keraspec: 1
name: outer
inputs:
  x: {shape: [4]}
models:
  inner:
    inputs: {v: {shape: [5]}}
    nodes:
      d: {type: Dense, units: 3, inputs: v}
    outputs: [d]
nodes:
  call: {model: inner, inputs: x}
outputs: [call]
"""

CHAIN = """\
keraspec: 1
name: chain
inputs:
  x: {shape: [8]}
nodes:
  d1: {type: Dense, units: 4, inputs: x}
  d2: {type: Dense, units: 2, inputs: d1}
  s: {type: Add, inputs: [d2, x]}
outputs: [s]
"""


def messages(text: str, verbose: bool = False) -> list[str]:
    return [str(d) for d in keraspec.validate(keraspec.loads(text), verbose=verbose)]


def test_mismatched_merge_names_both_shapes_at_the_node() -> None:
    assert messages(MERGE) == [
        "<string>:7:3: E600 node `sum` (Add): input 0 has shape (None, 32, 32, 64), "
        "input 1 has (None, 30, 30, 64)"
    ]


def test_the_cli_reports_it_located_with_exit_1(capsys, tmp_path: Path) -> None:
    spec = tmp_path / "merge.yaml"
    spec.write_text(MERGE)
    assert main(["validate", str(spec)]) == ExitCode.INVALID
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{spec}:7:3: E600 node `sum` (Add): input 0 has shape (None, 32, 32, 64), "
        "input 1 has (None, 30, 30, 64)",
        "    7 |   sum: {type: Add, inputs: [a, b]}",
        "      |   ^",
    ]
    assert err == "invalid: 1 error, 0 warnings in 1 file\n"


def test_a_shared_layer_must_fit_the_weights_its_first_call_made() -> None:
    assert messages(SHARED) == [
        "<string>:10:3: E600 node `pb` (shared Dense `proj`): shared layer `proj` was built "
        "by node `pa` for input (None, 8); this call gives it (None, 4)"
    ]


def test_a_sub_model_checks_the_shapes_it_is_called_on() -> None:
    assert messages(SUBMODEL) == [
        "<string>:12:3: E600 node `call` (model `inner`): input `v` of model `inner` has "
        "shape (None, 5); received (None, 4)"
    ]


def test_a_node_without_a_rule_is_an_info_in_verbose_mode_and_nothing_after_it_is_checked(
    monkeypatch,
) -> None:
    monkeypatch.delitem(LAYER_RULES, "Dense")
    assert messages(CHAIN) == []  # `s` adds (None, 2) to (None, 8), but d2 is unknown
    assert messages(CHAIN, verbose=True) == [  # the cause only, not every node after it
        "<string>:6:3: I600 node `d1` (Dense): shape not checked statically",
    ]
    assert api.infer(keraspec.loads(CHAIN)).main.params is None


def test_with_every_rule_the_same_chain_is_an_error() -> None:
    assert messages(CHAIN) == [
        "<string>:8:3: E600 node `s` (Add): input 0 has shape (None, 2), input 1 has (None, 8)"
    ]


def test_a_failing_rule_is_a_reported_bug_not_a_crash(monkeypatch) -> None:
    def broken(layer, inputs):
        raise KeyError("units")

    monkeypatch.setitem(LAYER_RULES, "Dense", broken)
    (info,) = keraspec.validate(keraspec.loads(CHAIN), verbose=True)[:1]
    assert str(info) == (
        "<string>:6:3: I601 node `d1` (Dense): shape rule failed (KeyError: 'units')"
    )
    assert info.hint.startswith("a bug in keraspec: please report it")


def test_infos_never_fail_a_run_even_strict(capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delitem(LAYER_RULES, "Dense")
    spec = tmp_path / "chain.yaml"
    spec.write_text(CHAIN)
    assert main(["validate", "--strict", "-v", str(spec)]) == ExitCode.OK
    out, err = capsys.readouterr()
    assert f"{spec}:6:3: I600 node `d1` (Dense): shape not checked statically" in out
    assert "hint: `keraspec validate --build` checks it with Keras" in out
    assert err == "ok: 0 errors, 0 warnings, 1 info in 1 file\n"
    assert main(["validate", "--strict", str(spec)]) == ExitCode.OK
    assert capsys.readouterr() == ("", "ok: 0 errors, 0 warnings in 1 file\n")


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("github", "::notice file={file},line=6,col=3,title=I600::node `d1` (Dense): shape"),
        ("json", '"severity": "info"'),
        ("sarif", '"level": "note"'),
    ],
)
def test_infos_in_machine_formats(capsys, monkeypatch, tmp_path, fmt, expected) -> None:
    monkeypatch.delitem(LAYER_RULES, "Dense")
    spec = tmp_path / "chain.yaml"
    spec.write_text(CHAIN)
    assert main(["validate", "-v", "--format", fmt, str(spec)]) == ExitCode.OK
    out = capsys.readouterr().out
    file = str(spec).replace(":", "%3A").replace(",", "%2C")
    assert expected.format(file=file) in out
    if fmt != "github":
        json.loads(out)


def test_a_sub_model_called_twice_and_wrapped_counts_its_weights_once() -> None:
    inference = api.infer(Path(__file__).parent / "cases" / "valid" / "submodels.yaml")
    nodes = inference.main.nodes
    assert (nodes["enc_left"].params, nodes["enc_right"].shared_again) == (34, True)
    assert nodes["per_frame"].shared_again and nodes["per_frame"].params == 0
    assert inference.main.params == 34


def test_an_output_index_past_what_a_node_returns_is_located_at_the_output() -> None:
    text = (
        "keraspec: 1\nname: m\ninputs:\n  x: {shape: [4]}\n"
        'nodes:\n  u: {op: unstack, inputs: x, axis: 1}\noutputs: ["u[7]"]\n'
    )
    assert messages(text) == ["<string>:7:11: E600 output `u[7]`: `u` returns 4 outputs"]


def test_an_input_declared_int_is_int64_as_keras_makes_it() -> None:
    text = (
        "keraspec: 1\nname: m\ninputs:\n  x: {shape: [4], dtype: int}\n"
        "nodes:\n  f: {type: Flatten, inputs: x}\noutputs: [f]\n"
    )
    inference = api.infer(keraspec.loads(text))
    assert inference.main.inputs["x"].dtype == "int64"
    assert inference.main.nodes["f"].output.dtype == "int64"


SUB_MODELS = """\
keraspec: 1
name: qa
inputs:
  question: {shape: [3, 16]}
  frames: {shape: [10, 8, 8, 3]}
  ids: {shape: [8], dtype: int32}
models:
  encoder:
    inputs: {tokens: {shape: [null, 16]}}
    nodes:
      conv: {type: Conv1D, filters: 8, kernel_size: 5, inputs: tokens}
      pool: {type: GlobalMaxPooling1D, inputs: conv}
    outputs: [pool]
  frame_enc:
    inputs: {img: {shape: [4, 4, 3]}}
    nodes:
      f: {type: Flatten, inputs: img}
    outputs: [f]
  caster:
    inputs: {v: {shape: [8]}}
    nodes:
      a: {op: add, inputs: [v, v]}
    outputs: [a]
nodes:
  q: {model: encoder, inputs: question}
  td: {type: TimeDistributed, layer: frame_enc, inputs: frames}
  c: {model: caster, inputs: ids}
outputs: [q, td, c]
"""


def test_sub_models_are_checked_on_the_shapes_they_are_called_on() -> None:
    assert messages(SUB_MODELS) == [
        "<string>:25:3: E600 node `q` (model `encoder`): model `encoder` called on "
        "(None, 3, 16): node `conv` (Conv1D): kernel 5 is larger than the input length 3 "
        "along axis 1 of (None, 3, 16)",
        "<string>:26:3: E600 node `td` (TimeDistributed): input `img` of model `frame_enc` "
        "has shape (None, 4, 4, 3); received (None, 8, 8, 3)",
    ]


def test_a_sub_model_converts_its_inputs_to_the_dtypes_it_declares() -> None:
    inference = api.infer(
        keraspec.loads(
            SUB_MODELS.replace("kernel_size: 5", "kernel_size: 3").replace(
                "frames: {shape: [10, 8, 8, 3]}", "frames: {shape: [10, 4, 4, 3]}"
            )
        )
    )
    assert inference.main.nodes["c"].output.dtype == "float32"  # ids are int32


def test_a_single_input_layer_given_a_list_of_one_is_refused_as_keras_does() -> None:
    text = CHAIN.replace("inputs: x}", "inputs: [x]}", 1)
    (error,) = keraspec.validate(keraspec.loads(text))
    assert str(error) == (
        "<string>:6:3: E600 node `d1` (Dense): expects one input tensor; received a list of 1"
    )
    assert error.hint == "write `inputs: x`, not `inputs: [x]`"


ATTENTION = """\
keraspec: 1
name: m
inputs: {q: {shape: [4, 8]}, v: {shape: [6, 8]}}
nodes:
  a: {type: %s, inputs: {query: q, value: v}}
outputs: [a]
"""


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (
            "MultiHeadAttention, num_heads: 2, key_dim: 4, attention_axes: 1.5",
            "(MultiHeadAttention): `attention_axes` must be an integer or a list of them; "
            "received 1.5",
        ),
        (
            "MultiHeadAttention, num_heads: 2, key_dim: 4, output_shape: same",
            "(MultiHeadAttention): `output_shape` must be a positive integer or a list of them; "
            "received 'same'",
        ),
        (
            "GroupQueryAttention, head_dim: 4, num_query_heads: 2, num_key_value_heads: 0",
            "(GroupQueryAttention): `num_key_value_heads` must be an integer of at least 1; "
            "received 0",
        ),
    ],
)
def test_rules_refuse_argument_values_keras_refuses_instead_of_failing(node, message) -> None:
    assert messages(ATTENTION % node, verbose=True) == [f"<string>:5:3: E600 node `a` {message}"]


def test_a_shared_batch_normalization_keeps_the_rank_of_its_first_call() -> None:
    text = (
        "keraspec: 1\nname: m\ninputs:\n  x: {shape: [4]}\n  y: {shape: [3, 4]}\n"
        "layers:\n  bn: {type: BatchNormalization}\n"
        "nodes:\n  a: {layer: bn, inputs: x}\n  b: {layer: bn, inputs: y}\noutputs: [a, b]\n"
    )
    assert messages(text) == [
        "<string>:10:3: E600 node `b` (shared BatchNormalization `bn`): shared layer `bn` was "
        "built by node `a` for input (None, 4); this call gives it (None, 3, 4)"
    ]


def test_weights_of_nodes_no_output_depends_on_are_not_counted() -> None:
    text = (
        "keraspec: 1\nname: m\ninputs:\n  x: {shape: [8]}\n"
        "nodes:\n  used: {type: Dense, units: 2, inputs: x}\n"
        "  unused: {type: Dense, units: 5, inputs: x}\noutputs: [used]\n"
    )
    inference = api.infer(keraspec.loads(text))
    assert inference.main.nodes["unused"].params == 45  # its own row still says what it has
    assert inference.main.params == 18  # as Keras's count_params(): the model leaves it out
