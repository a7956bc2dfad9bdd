"""`fit:` and `distribute:` in a spec, and training data, checked without TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import keraspec
from keraspec import api
from keraspec.cli import ExitCode, main
from keraspec.json_schema import editor_schema
from keraspec.train import data

ROOT = Path(__file__).parent.parent
HEADLINE = ROOT / "specs" / "headline.yaml"
MLP = ROOT / "specs" / "mlp.yaml"

BASE = """keraspec: 1
name: tiny
inputs:
  x: {shape: [4]}
nodes:
  y: {type: Dense, units: 1, inputs: x}
outputs: [y]
compile: {optimizer: adam, loss: mse}
"""


def messages(text: str) -> list[str]:
    return [str(d) for d in keraspec.validate(keraspec.loads(text, "s.yaml"))]


def checked_messages(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return [f"{d.line}:{d.column}: {d.code} {d.message}" for d in api.validate(path)]


def test_a_fit_section_loads_dumps_and_loads_back() -> None:
    text = BASE + (
        "fit:\n  epochs: 3\n  batch_size: 16\n  validation_split: 0.25\n  shuffle: false\n"
        "  callbacks:\n  - TerminateOnNaN\n  - {type: EarlyStopping, monitor: loss, patience: 2}\n"
        "distribute:\n  strategy: mirrored\n  devices: ['/cpu:0', '/cpu:1']\n"
    )
    spec = keraspec.loads(text)
    assert spec.fit.epochs == 3 and spec.fit.validation_split == 0.25
    assert spec.distribute.devices == ["/cpu:0", "/cpu:1"]
    assert keraspec.dumps(spec).split("compile:")[1] == text.split("compile:")[1]
    assert keraspec.loads(keraspec.dumps(spec)) == spec
    assert messages(text) == []


def test_schema_errors_in_fit_and_distribute_are_located(tmp_path) -> None:
    text = BASE + (
        "fit: {epochs: 0, batch_size: x, validation_split: 1, shufle: true}\n"
        "distribute: {strategy: mirored}\n"
    )
    assert checked_messages(tmp_path, text) == [
        "9:15: E203 invalid `fit.epochs`: input should be greater than 0. Received: epochs=0",
        "9:30: E203 invalid `fit.batch_size`: input should be a valid integer. "
        "Received: batch_size='x'",
        "9:51: E203 invalid `fit.validation_split`: input should be less than 1. "
        "Received: validation_split=1",
        "9:54: E201 unknown key `shufle` in `fit`",
        "10:24: E203 invalid `distribute.strategy`: input should be 'default', 'mirrored', "
        "'multi_worker', 'tpu' or 'parameter_server'. Received: strategy='mirored'",
    ]


def test_the_rest_of_a_spec_is_checked_despite_a_bad_fit_section(tmp_path) -> None:
    text = BASE.replace("type: Dense", "type: Dnse") + "fit: {epochs: 0}\n"
    assert checked_messages(tmp_path, text) == [
        "6:13: E210 node `y`: unknown layer type `Dnse`",
        "9:15: E203 invalid `fit.epochs`: input should be greater than 0. Received: epochs=0",
    ]


BAD_CALLBACKS = (
    BASE
    + """fit:
  callbacks:
    - EarlyStoping
    - LambdaCallback
    - {type: EarlyStopping, patience: two, monitr: loss, restore_best_weights: 1}
    - {type: ModelCheckpoint, filepath: /tmp/best.keras}
    - {type: CSVLogger, filename: ../log.csv}
    - {type: TensorBoard, log_dir: ~/tb}
    - {type: BackupAndRestore}
    - {type: ReduceLROnPlateau, factor: high}
distribute: {strategy: multi_worker, devices: ['/cpu:0']}
"""
)


def test_callbacks_are_checked_by_name_arguments_and_paths(tmp_path) -> None:
    assert checked_messages(tmp_path, BAD_CALLBACKS) == [
        "11:7: E801 unknown callback `EarlyStoping`",
        "12:7: E802 callback `LambdaCallback` is not allowed: it runs Python functions",
        "13:39: E804 callback `EarlyStopping`: `patience` must be a number; "
        "received patience='two'",
        "13:44: E803 callback `EarlyStopping`: unknown argument `monitr`",
        "13:80: E804 callback `EarlyStopping`: `restore_best_weights` must be true or false; "
        "received restore_best_weights=1",
        "14:41: E805 callback `ModelCheckpoint`: `filepath` must be a relative path, "
        "not an absolute one; received filepath='/tmp/best.keras'",
        "15:35: E805 callback `CSVLogger`: `filename` must stay inside the working directory "
        "(no `..`); received filename='../log.csv'",
        "16:36: E805 callback `TensorBoard`: `log_dir` must be a relative path, "
        "not one in a home directory; received log_dir='~/tb'",
        "17:7: E804 callback `BackupAndRestore`: missing required argument `backup_dir`",
        "18:41: E804 callback `ReduceLROnPlateau`: `factor` must be a number; "
        "received factor='high'",
        "19:38: E810 `devices` is for the mirrored strategy, not `multi_worker`",
    ]


def test_callback_hints(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BAD_CALLBACKS, encoding="utf-8")
    hints = {d.code: d.hint for d in api.validate(path) if d.hint}
    assert hints["E801"] == "did you mean `EarlyStopping`?"
    assert hints["E803"] == "did you mean `monitor`?"
    assert hints["E805"] == (
        "write it relative to the directory keraspec fit runs in, e.g. checkpoints/best.keras"
    )


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("best.keras", None),
        ("runs/1/best.keras", None),
        ("./logs", None),
        ("/etc/passwd", "must be a relative path, not an absolute one"),
        ("C:\\logs", "must be a relative path, not an absolute one"),
        ("~/.bashrc", "must be a relative path, not one in a home directory"),
        ("logs/../../x", "must stay inside the working directory (no `..`)"),
        ("..\\x", "must stay inside the working directory (no `..`)"),
        ("s3://bucket/x", "must be a local path, not a URL"),
        ("", "must be a path (a non-empty string)"),
    ],
)
def test_callback_paths_stay_in_the_working_directory(path, problem) -> None:
    from keraspec.paths import path_problem

    assert path_problem(path) == problem


def test_fit_without_a_loss_is_an_error() -> None:
    text = BASE.replace("compile: {optimizer: adam, loss: mse}\n", "") + "fit: {epochs: 2}\n"
    assert messages(text) == [
        "s.yaml:8:1: E800 `fit` trains the model, which needs a loss: the spec has no "
        "`compile.loss`"
    ]


def test_validate_checks_fit_without_importing_tensorflow(tmp_path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(BAD_CALLBACKS, encoding="utf-8")
    code = (
        "import sys\nfrom keraspec.cli import main\ncode = main(['validate', sys.argv[1]])\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(spec)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == ExitCode.INVALID, result.stderr
    assert "E805" in result.stdout and result.stderr.endswith(
        "invalid: 11 errors, 0 warnings in 1 file\n"
    )


def test_the_editor_schema_has_fit_and_distribute() -> None:
    spec = editor_schema()["definitions"]["spec"]["properties"]
    callbacks = spec["fit"]["properties"]["callbacks"]["items"]["anyOf"][0]["anyOf"][0]["enum"]
    assert callbacks == [
        "BackupAndRestore",
        "CSVLogger",
        "EarlyStopping",
        "ModelCheckpoint",
        "ReduceLROnPlateau",
        "TensorBoard",
        "TerminateOnNaN",
    ]
    strategy = spec["distribute"]["properties"]["strategy"]["anyOf"][0]["enum"]
    assert strategy == ["default", "mirrored", "multi_worker", "tpu", "parameter_server"]
    json.dumps(spec)


# Data: slots from the spec, .npz checking and synthetic data (NumPy only).


def slots_of(path: Path, with_targets: bool = True) -> tuple[object, list[data.Slot]]:
    inference = api.infer(path)
    program = inference.program
    outputs = data.output_slots(program, inference) if with_targets else []
    return program, data.input_slots(program) + outputs


def test_headline_slots_name_every_input_and_output() -> None:
    _, slots = slots_of(HEADLINE)
    assert [s.describe() for s in slots] == [
        "input `main_input`: shape (N, 100), int32",
        "input `aux_input`: shape (N, 5), float32",
        "output `main_output`: shape (N, 1), float32",
        "output `aux_output`: shape (N, 1), float32",
    ]
    assert [s.target for s in slots[2:]] == ["binary", "binary"]


def check(arrays: dict, path: Path = HEADLINE) -> list[str]:
    _, slots = slots_of(path)
    with pytest.raises(data.DataError) as caught:
        data.check_arrays(arrays, slots, "d.npz")
    return caught.value.problems


def test_missing_extra_misshaped_and_mistyped_arrays_are_all_listed() -> None:
    arrays = {
        "main_input": np.zeros((8, 100), dtype=np.float64),
        "aux_input": np.zeros((8, 4), dtype=np.float32),
        "main_output": np.array(["a"] * 8),
        "labels": np.zeros(8),
    }
    assert check(arrays) == [
        "missing array `aux_output` for output `aux_output`: shape (N, 1), float32",
        "array `main_input` has dtype float64, which does not convert to input "
        "`main_input`'s int32",
        "array `aux_input` has shape (8, 4); input `aux_input` needs (N, 5)",
        "array `main_output` has shape (8,); output `main_output` needs (N, 1)",
        "array `main_output` has dtype str, which does not convert to output "
        "`main_output`'s float32",
        "unexpected array `labels`: the spec's arrays are `main_input`, `aux_input`, "
        "`main_output`, `aux_output`",
    ]


def test_arrays_must_hold_the_same_number_of_samples() -> None:
    arrays = {"digits": np.zeros((8, 784)), "predictions": np.zeros((6, 10))}
    assert check(arrays, MLP) == [
        "arrays have different numbers of samples: `digits` 8, `predictions` 6"
    ]


def test_ids_past_an_embedding_or_the_classes_are_refused_before_training() -> None:
    """TensorFlow would stop mid-epoch with a lookup error (a keraspec "bug", exit 3)."""
    ok = {
        "main_input": np.zeros((2, 100), dtype=np.int32),
        "aux_input": np.zeros((2, 5)),
        "main_output": np.zeros((2, 1)),
        "aux_output": np.zeros((2, 1)),
    }
    assert check({**ok, "main_input": np.full((2, 100), 10000)}) == [
        "array `main_input` holds ids from 10000 to 10000; input `main_input` has an Embedding "
        "with input_dim 10000, so ids must be 0 to 9999"
    ]
    assert check({**ok, "main_input": np.full((2, 100), -1)})[0].startswith(
        "array `main_input` holds ids from -1 to -1"
    )


def test_castable_dtypes_are_accepted_and_converted() -> None:
    _, slots = slots_of(HEADLINE)
    arrays = {
        "main_input": np.ones((3, 100), dtype=np.int64),
        "aux_input": np.ones((3, 5), dtype=np.float64),
        "main_output": np.ones((3, 1), dtype=bool),
        "aux_output": np.ones((3, 1), dtype=np.int8),
    }
    data.check_arrays(arrays, slots, "d.npz")
    converted = data.as_model_data(arrays, slots)
    assert {k: v.dtype.name for k, v in converted.items()} == {
        "main_input": "int32",
        "aux_input": "float32",
        "main_output": "float32",
        "aux_output": "float32",
    }


def test_a_pickled_npz_is_refused(tmp_path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, digits=np.array([{"a": 1}], dtype=object))
    with pytest.raises(data.DataError) as caught:
        data.load_npz(path)
    assert caught.value.problems == ["cannot read it: it holds Python objects"]


def test_synthetic_data_follows_embeddings_and_losses() -> None:
    program, slots = slots_of(HEADLINE)
    arrays = data.synthetic(program, slots, 256, seed=0)
    assert {k: (v.shape, v.dtype.name) for k, v in arrays.items()} == {
        "main_input": ((256, 100), "int32"),
        "aux_input": ((256, 5), "float32"),
        "main_output": ((256, 1), "float32"),
        "aux_output": ((256, 1), "float32"),
    }
    assert arrays["main_input"].min() >= 0 and arrays["main_input"].max() < 10000
    assert arrays["main_input"].max() > 5000  # the whole Embedding range is used
    assert set(np.unique(arrays["main_output"])) == {0.0, 1.0}
    data.check_arrays(arrays, slots, "synthetic")  # what --synthetic makes fits the spec


@pytest.mark.parametrize(
    ("loss", "kind", "shape", "values"),
    [
        ("sparse_categorical_crossentropy", "sparse", (32,), set(range(10))),
        ("categorical_crossentropy", "one_hot", (32, 10), {0.0, 1.0}),
        ("{type: BinaryCrossentropy, from_logits: true}", "binary", (32, 10), {0.0, 1.0}),
        ("mse", "float", (32, 10), None),
    ],
)
def test_targets_match_each_output_loss(tmp_path, loss, kind, shape, values) -> None:
    path = tmp_path / "mlp.yaml"
    path.write_text(
        MLP.read_text().replace("loss: categorical_crossentropy", f"loss: {loss}"), "utf-8"
    )
    program, slots = slots_of(path)
    target = data.synthetic(program, slots, 32, seed=1)["predictions"]
    assert slots[-1].target == kind and target.shape == shape
    if values is not None:
        assert set(np.unique(target)) <= values and len(np.unique(target)) > 1
    if kind == "one_hot":
        assert (target.sum(axis=1) == 1).all()


def test_an_integer_input_without_embedding_gets_zeros_and_ones(tmp_path) -> None:
    text = BASE.replace("x: {shape: [4]}", "x: {shape: [4], dtype: int32}")
    text = text.replace("inputs: x}", "inputs: x, dtype: float32}")
    path = tmp_path / "s.yaml"
    path.write_text(text, "utf-8")
    program, slots = slots_of(path)
    assert set(np.unique(data.synthetic(program, slots, 64, seed=0)["x"])) == {0, 1}


def test_bad_data_exits_1_before_tensorflow_and_writes_nothing(tmp_path) -> None:
    bad = tmp_path / "d.npz"
    np.savez(bad, digits=np.zeros((4, 783)), extra=np.zeros(4))
    out = tmp_path / "m.keras"
    code = (
        "import sys\nfrom keraspec.cli import main\ncode = main(sys.argv[1:])\n"
        "assert 'tensorflow' not in sys.modules\nsys.exit(code)\n"
    )
    args = ["fit", str(MLP), "--data", str(bad), "-o", str(out)]
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == ExitCode.INVALID
    assert result.stderr == (
        f"{bad}: missing array `predictions` for output `predictions`: shape (N, 10), float32\n"
        f"{bad}: array `digits` has shape (4, 783); input `digits` needs (N, 784)\n"
        f"{bad}: unexpected array `extra`: the spec's arrays are `digits`, `predictions`\n"
        "invalid data: 3 problems\n"
    )
    assert list(tmp_path.iterdir()) == [bad]


def test_data_and_synthetic_are_one_or_the_other(capsys) -> None:
    assert main(["fit", str(MLP)]) == ExitCode.USAGE
    assert "give the data: either --data FILE or --synthetic N" in capsys.readouterr().err


def test_fit_needs_a_loss(tmp_path, capsys) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace("compile: {optimizer: adam, loss: mse}\n", ""), "utf-8")
    assert main(["fit", str(path), "--synthetic", "4"]) == ExitCode.INVALID
    assert capsys.readouterr().err == (
        f"{path}: the spec has no `compile.loss`: training and evaluating need one "
        "(add compile: {optimizer: adam, loss: mse})\n"
    )


def test_synthetic_data_needs_statically_known_shapes() -> None:
    slot = data.Slot("y", "output", None, "float32")
    with pytest.raises(data.DataError) as caught:
        data.synthetic(api.lower(MLP), [slot], 4, seed=0)
    assert str(caught.value) == (
        "--synthetic: the shape of output `y` is not known without Keras "
        "(`keraspec validate -v` names the node), so it cannot be made up: use --data"
    )


# docs/training.md shows real output: these runs print exactly its text blocks.
TRAINING_DOC = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
BAD_SPEC = (
    BASE.replace("name: tiny", "name: bad")
    + """fit:
  callbacks:
    - {type: EarlyStopping, monitr: val_loss}
    - {type: CSVLogger, filename: /var/log/train.csv}
    - LearningRateScheduler
"""
)


def doc_block(starting: str) -> str:
    start = TRAINING_DOC.index(starting)
    return TRAINING_DOC[start : TRAINING_DOC.index("```", start)]


def test_the_docs_validate_output_is_real(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text(BAD_SPEC, encoding="utf-8")
    assert main(["validate", "bad.yaml"]) == ExitCode.INVALID
    captured = capsys.readouterr()
    assert captured.out + captured.err == doc_block("bad.yaml:11:29:")


def test_the_docs_data_errors_are_real(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("headline.yaml").write_text(HEADLINE.read_text(encoding="utf-8"), encoding="utf-8")
    np.savez(
        "data.npz",
        main_input=np.zeros((100, 100)),
        aux_input=np.zeros((100, 4), "float32"),
        main_output=np.zeros((100, 1)),
        labels=np.zeros(100),
    )
    command = "keraspec fit headline.yaml --data data.npz"
    assert main(command.split()[1:]) == ExitCode.INVALID
    assert f"$ {command}\n{capsys.readouterr().err}" == doc_block(f"$ {command}")


def test_sparse_targets_are_class_ids_per_sample(tmp_path) -> None:
    path = tmp_path / "mlp.yaml"
    text = MLP.read_text().replace("categorical_crossentropy", "sparse_categorical_crossentropy")
    path.write_text(text, "utf-8")
    _, slots = slots_of(path)
    assert slots[-1].describe() == "output `predictions`: shape (N,), int32"
    ok = {"digits": np.zeros((4, 784)), "predictions": np.array([[1], [2], [3], [9]])}
    data.check_arrays(ok, slots, "d.npz")  # (N, 1) is taken too
    with pytest.raises(data.DataError) as caught:
        data.check_arrays({**ok, "predictions": np.zeros((4, 10))}, slots, "d.npz")
    assert caught.value.problems == [
        "array `predictions` has shape (4, 10); output `predictions` needs (N,)",
        "array `predictions` has dtype float64, which does not convert to output "
        "`predictions`'s int32",
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not numpy at all", "not an .npz file: write named arrays with numpy.savez"),
        (None, "a single array (.npy): write named arrays with numpy.savez"),
    ],
)
def test_files_that_are_not_npz_are_refused(tmp_path, content, problem) -> None:
    path = tmp_path / "d.npz"
    if content is None:
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    else:
        path.write_bytes(content)
    with pytest.raises(data.DataError) as caught:
        data.load_npz(path)
    assert caught.value.problems == [problem]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["predict", "-o", "/proc/p.npz"], "Invalid value for -o: cannot write `/proc/p.npz`"),
        (["fit", "--export", "savedmodel", "/proc/sm"], "Invalid value for --export: cannot"),
    ],
)
def test_an_unwritable_destination_is_refused_before_any_work(capsys, args, message) -> None:
    weights = ["--weights", str(HEADLINE)] if args[0] == "predict" else []
    code = main([args[0], str(HEADLINE), *args[1:], *weights, "--synthetic", "4"])
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert message in err


def test_parameter_server_is_refused_by_validate() -> None:
    text = BASE + "distribute: {strategy: parameter_server}\n"
    [d] = keraspec.validate(keraspec.loads(text, "s.yaml"))
    assert (d.code, d.message, d.hint) == (
        "E811",
        "strategy `parameter_server` cannot train this model: Keras 3's model.fit does not "
        "run under ParameterServerStrategy",
        "use multi_worker",
    )
