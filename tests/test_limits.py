"""Limits and refusals of docs/security.md: what a spec may cost, and what it may read.

Each limit has a default (keraspec.limits.Limits), an API keyword and a CLI flag.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import keraspec
from keraspec.cli import ExitCode, main
from keraspec.diagnostics import SpecError
from keraspec.limits import Limits

MLP = Path(__file__).parent.parent / "specs" / "mlp.yaml"  # 55,050 parameters
HUGE = """\
keraspec: 1
name: huge
inputs:
  x: {shape: [784]}
nodes:
  wide: {type: Dense, units: 50000000, inputs: x}
  out: {type: Dense, units: 10, inputs: wide}
outputs: [out]
"""
LOOKUP = """\
keraspec: 1
name: lookup
inputs:
  words: {shape: [1], dtype: string}
nodes:
  ids: {type: StringLookup, vocabulary: VOCABULARY, inputs: words}
outputs: [ids]
"""


def found(text: str, **policy) -> list[str]:
    return [str(d) for d in keraspec.validate(keraspec.loads(text, "s.yaml"), **policy)]


def test_a_huge_dense_layer_is_refused_before_keras_allocates_it() -> None:
    assert found(HUGE) == [
        "s.yaml:6:3: E602 node `wide` (Dense): its weight of shape (784, 50000000) has "
        "39,200,000,000 elements, more than the 2,147,483,647 allowed"
    ]
    with pytest.raises(SpecError) as caught:  # build checks first: nothing is allocated
        keraspec.build(keraspec.loads(HUGE, "s.yaml"))
    assert [d.code for d in caught.value.diagnostics] == ["E602"]


def test_the_parameter_limit_counts_the_whole_model_once() -> None:
    big_tensors = Limits(max_tensor=10**12)
    assert found(HUGE, limits=big_tensors) == [
        "s.yaml:6:3: E601 node `wide` (Dense): the model reaches 39,250,000,000 parameters "
        "here, more than the 2,000,000,000 allowed"
    ]
    [d] = keraspec.validate(MLP, limits=Limits(max_params=50_000))
    assert (d.code, d.line, d.message) == (
        "E601",
        8,
        "node `dense_1` (Dense): the model reaches 50,240 parameters here, "
        "more than the 50,000 allowed",
    )
    assert d.hint == "raise the limit with --max-params if the model is meant to be this big"
    assert keraspec.validate(MLP, limits=Limits(max_params=55_050)) == []


def test_an_input_too_big_for_one_tensor_is_refused() -> None:
    text = HUGE.replace("shape: [784]", "shape: [100000, 100000]").replace("50000000", "8")
    assert found(text) == [
        "s.yaml:4:3: E602 input `x`: shape (None, 100000, 100000) has 10,000,000,000 elements "
        "per sample, more than the 2,147,483,647 allowed"
    ]


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "https://example.com/vocab.txt", "vocab.txt", "~/.ssh/id_rsa"]
)
def test_a_vocabulary_file_is_refused_unless_files_are_allowed(path: str) -> None:
    assert found(LOOKUP.replace("VOCABULARY", path)) == [
        f"s.yaml:6:41: E228 node `ids` (StringLookup): `vocabulary: {path}` would read a file, "
        "and specs may not read files"
    ]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/etc/passwd", "must be a relative path, not an absolute one"),
        ("https://example.com/v.txt", "must be a local path, not a URL"),
        ("../vocab.txt", "must stay inside the working directory (no `..`)"),
        ("~/x", "must be a relative path, not one in a home directory"),
        ("C:/x", "must be a relative path, not an absolute one"),
    ],
)
def test_allowed_files_stay_below_the_working_directory(path: str, problem: str) -> None:
    text = LOOKUP.replace("VOCABULARY", repr(path))
    assert [d.split(": ", 1)[1] for d in found(text, allow_files=True)] == [
        f"E228 node `ids` (StringLookup): `vocabulary: {path}` {problem}"
    ]


def test_a_symlink_out_of_the_working_directory_is_outside(tmp_path: Path, monkeypatch) -> None:
    """A pull request can add `data -> /home/user`: `data/vocab.txt` is then outside."""
    outside, work = tmp_path / "outside", tmp_path / "work"
    outside.mkdir()
    work.mkdir()
    (work / "data").symlink_to(outside, target_is_directory=True)
    (work / "own").mkdir()
    monkeypatch.chdir(work)
    assert found(LOOKUP.replace("VOCABULARY", "own/vocab.txt"), allow_files=True) == []
    assert found(LOOKUP.replace("VOCABULARY", "data/vocab.txt"), allow_files=True) == [
        "s.yaml:6:41: E228 node `ids` (StringLookup): `vocabulary: data/vocab.txt` must stay "
        "inside the working directory (a symlink on the way leads out)"
    ]
    fit = "keraspec: 1\nname: m\ninputs: {x: {shape: [2]}}\nnodes:\n"
    fit += "  y: {type: Dense, units: 1, inputs: x}\noutputs: [y]\n"
    fit += "compile: {optimizer: adam, loss: mse}\n"
    fit += "fit: {callbacks: [{type: CSVLogger, filename: data/.bashrc}]}\n"
    assert [d.split(" ", 2)[1] for d in found(fit)] == ["E805"]


def test_allowed_files_and_written_vocabularies_pass() -> None:
    assert found(LOOKUP.replace("VOCABULARY", "data/vocab.txt"), allow_files=True) == []
    assert found(LOOKUP.replace("VOCABULARY", "[a, b, c]")) == []


def test_embedding_weights_from_a_file_are_refused() -> None:
    text = HUGE.replace(
        "{type: Dense, units: 50000000, inputs: x}",
        "{type: Embedding, input_dim: 10, output_dim: 4, weights: w.npy, inputs: x}",
    )
    assert [d.split(" ", 2)[1] for d in found(text)] == ["E228"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_each_limit_is_a_flag(capsys) -> None:
    code, out, _ = run(capsys, "validate", MLP, "--max-params", "50000")
    assert code == ExitCode.INVALID and " E601 " in out
    code, out, _ = run(capsys, "validate", MLP, "--max-file-size", "100")
    assert code == ExitCode.INVALID and f"{MLP}:1:1: E109 the file is larger than 100 bytes" in out
    code, out, _ = run(capsys, "summary", MLP, "--max-tensor", "100")
    assert code == ExitCode.INVALID
    assert run(capsys, "validate", MLP, "--max-params", "55050")[0] == ExitCode.OK


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_a_limit_flag_takes_a_positive_integer(capsys, value: str) -> None:
    code, _, err = run(capsys, "validate", MLP, "--max-params", value)
    assert code == ExitCode.USAGE
    assert "Invalid value for '--max-params'" in err


def test_allow_files_is_a_flag(capsys, tmp_path: Path) -> None:
    spec = tmp_path / "lookup.yaml"
    spec.write_text(LOOKUP.replace("VOCABULARY", "vocab.txt"))
    assert run(capsys, "validate", spec)[0] == ExitCode.INVALID
    assert run(capsys, "validate", spec, "--allow-files")[0] == ExitCode.OK


@pytest.mark.keras
def test_building_leaves_keras_global_state_as_it_was() -> None:
    import keras

    before = (
        keras.config.dtype_policy().name,
        keras.config.floatx(),
        keras.config.epsilon(),
        keras.config.image_data_format(),
        keras.config.backend(),
    )
    text = HUGE.replace("shape: [784]", "shape: [8], dtype: float64").replace(
        "units: 50000000,", "units: 4, dtype: mixed_float16,"
    )
    keraspec.build(keraspec.loads(text))
    after = (
        keras.config.dtype_policy().name,
        keras.config.floatx(),
        keras.config.epsilon(),
        keras.config.image_data_format(),
        keras.config.backend(),
    )
    assert after == before == ("float32", "float32", 1e-07, "channels_last", "tensorflow")
