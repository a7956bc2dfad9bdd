"""keraspec fit, evaluate and predict with Keras: whole runs, outputs, files, exit codes."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from keraspec.cli import ExitCode, main

pytestmark = pytest.mark.keras

ROOT = Path(__file__).parent.parent
HEADLINE = ROOT / "specs" / "headline.yaml"
MLP = ROOT / "specs" / "mlp.yaml"


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def mlp_data(path: Path, count: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {
        "digits": rng.random((count, 784), dtype=np.float32),
        "predictions": np.eye(10, dtype=np.float32)[rng.integers(0, 10, count)],
    }
    np.savez(path, **arrays)
    return arrays


@pytest.fixture(scope="module")
def trained_mlp(tmp_path_factory) -> tuple[Path, Path, dict[str, np.ndarray]]:
    """The MLP trained for two epochs on a data file: (model, data file, arrays)."""
    folder = tmp_path_factory.mktemp("mlp")
    data, model = folder / "d.npz", folder / "mlp.keras"
    arrays = mlp_data(data)
    code = main(
        ["fit", str(MLP), "--data", str(data), "--epochs", "2", "--quiet", "-o", str(model)]
    )
    assert code == ExitCode.OK
    return model, data, arrays


def test_fit_headline_on_synthetic_data_shows_progress_and_saves(tmp_path, capsys) -> None:
    out = tmp_path / "headline.keras"
    code, stdout, stderr = run(
        capsys, "fit", HEADLINE, "--synthetic", 64, "--epochs", 2, "--batch-size", 32, "-o", out
    )
    assert (code, stderr) == (0, f"wrote {out}\n")
    assert "Epoch 1/2" in stdout and "Epoch 2/2" in stdout and "main_output_loss" in stdout
    import keras

    model = keras.saving.load_model(out)
    assert [t.name for t in model.inputs] == ["main_input", "aux_input"]
    assert model.optimizer.iterations.numpy() == 4  # 2 epochs of 64 samples in batches of 32


def test_fit_uses_the_spec_fit_section_and_its_callbacks(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "mlp.yaml"
    spec.write_text(
        MLP.read_text()
        + "fit:\n  epochs: 3\n  batch_size: 16\n  validation_split: 0.25\n  callbacks:\n"
        "  - {type: CSVLogger, filename: logs/train.csv}\n"
        "  - {type: ModelCheckpoint, filepath: checkpoints/best.keras, save_best_only: true}\n"
        "  - {type: EarlyStopping, monitor: val_loss, patience: 5}\n",
        encoding="utf-8",
    )
    mlp_data(tmp_path / "d.npz")
    code, _, stderr = run(capsys, "fit", spec, "--data", "d.npz", "--quiet")
    assert (code, stderr) == (0, "wrote mlp.keras\n")
    with open("logs/train.csv", encoding="utf-8") as log:
        rows = list(csv.DictReader(log))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert {"loss", "val_loss", "accuracy"} <= set(rows[0])
    assert Path("checkpoints/best.keras").is_file()


def test_evaluate_reports_what_the_saved_model_evaluates(trained_mlp, capsys) -> None:
    model_path, data, arrays = trained_mlp
    code, stdout, _ = run(
        capsys, "evaluate", MLP, "--weights", model_path, "--data", data, "--quiet"
    )
    import keras

    expected = keras.saving.load_model(model_path).evaluate(
        arrays["digits"], arrays["predictions"], batch_size=32, verbose=0, return_dict=True
    )
    assert code == 0
    assert stdout == "".join(f"{k}: {float(v):.6g}\n" for k, v in expected.items())
    assert stdout.startswith("accuracy: ") and "\nloss: " in stdout


def test_predict_writes_what_the_saved_model_predicts(trained_mlp, tmp_path, capsys) -> None:
    model_path, data, arrays = trained_mlp
    preds = tmp_path / "preds.npz"
    code, _, stderr = run(
        capsys, "predict", MLP, "--weights", model_path, "--data", data, "-o", preds, "--quiet"
    )
    assert (code, stderr) == (0, f"wrote {preds}\n")
    import keras

    expected = keras.saving.load_model(model_path).predict(arrays["digits"], verbose=0)
    with np.load(preds) as found:
        assert found.files == ["predictions"]
        np.testing.assert_allclose(found["predictions"], expected, rtol=1e-6, atol=1e-7)


def test_predict_ignores_targets_and_names_headline_outputs(tmp_path, capsys) -> None:
    model = tmp_path / "h.keras"
    assert main(["fit", str(HEADLINE), "--synthetic", "32", "--quiet", "-o", str(model)]) == 0
    preds = tmp_path / "p.npz"
    code, _, _ = run(
        capsys, "predict", HEADLINE, "--weights", model, "--synthetic", 8, "-o", preds, "--quiet"
    )
    assert code == 0
    with np.load(preds) as found:
        assert {k: found[k].shape for k in found.files} == {
            "main_output": (8, 1),
            "aux_output": (8, 1),
        }


def test_export_savedmodel_serves_the_trained_model(trained_mlp, tmp_path, capsys) -> None:
    _, data, arrays = trained_mlp
    model, exported = tmp_path / "m.keras", tmp_path / "served"
    code, _, stderr = run(
        capsys,
        "fit",
        MLP,
        "--data",
        data,
        "--quiet",
        "-o",
        model,
        "--export",
        "savedmodel",
        exported,
    )
    assert (code, stderr) == (0, f"wrote {model}\nexported a SavedModel to {exported}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras", "served"]
    import keras
    import tensorflow as tf

    loaded = tf.saved_model.load(str(exported))  # kept: its variables live as long as it
    served = loaded.serve(arrays["digits"][:4])
    expected = keras.saving.load_model(model).predict(arrays["digits"][:4], verbose=0)
    np.testing.assert_allclose(served.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_export_refuses_an_existing_directory_before_training(tmp_path, capsys) -> None:
    (tmp_path / "served").mkdir()
    code, _, stderr = run(
        capsys, "fit", MLP, "--synthetic", 8, "-o", tmp_path / "m.keras",
        "--export", "savedmodel", tmp_path / "served",
    )  # fmt: skip
    assert code == ExitCode.USAGE
    assert f"Invalid value for --export: `{tmp_path / 'served'}` already exists" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["served"]


def test_a_failing_fit_writes_nothing_and_keeps_the_old_model(tmp_path, capsys) -> None:
    spec = tmp_path / "mlp.yaml"
    spec.write_text(
        MLP.read_text().replace("loss: categorical_crossentropy", "loss: mse")
        + "fit:\n  callbacks: [{type: TerminateOnNaN, raise_error: true}]\n",
        encoding="utf-8",
    )
    data = tmp_path / "inf.npz"  # an infinite target makes an infinite loss
    np.savez(data, digits=np.zeros((8, 784)), predictions=np.full((8, 10), np.inf))
    old = tmp_path / "m.keras"
    old.write_bytes(b"the model of yesterday")
    code, _, stderr = run(capsys, "fit", spec, "--data", data, "--quiet", "-o", old)
    assert code == ExitCode.INVALID
    assert stderr == (
        "keraspec: training failed: RuntimeError: NaN or Inf loss encountered at batch 0. "
        "Loss value: inf. Terminating training immediately.\n"
    )
    assert old.read_bytes() == b"the model of yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inf.npz", "m.keras", "mlp.yaml"]


def test_a_callback_keras_refuses_is_located_before_training(tmp_path, capsys) -> None:
    spec = tmp_path / "mlp.yaml"
    spec.write_text(
        MLP.read_text() + "fit:\n  callbacks:\n  - {type: ModelCheckpoint, filepath: best.txt}\n",
        encoding="utf-8",
    )
    code, _, stderr = run(capsys, "fit", spec, "--synthetic", 8, "-o", tmp_path / "m.keras")
    assert code == ExitCode.INVALID
    assert stderr.splitlines()[0] == (
        f"{spec}:18:5: E400 Keras rejected callback `fit.callbacks[0]`: ValueError: "
        "The filepath provided must end in `.keras` (Keras model format). "
        "Received: filepath=best.txt"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.yaml"]


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_evaluate_and_predict_check_the_data_first(trained_mlp, tmp_path, capsys, command) -> None:
    model_path, _, _ = trained_mlp
    bad = tmp_path / "bad.npz"
    np.savez(bad, digits=np.zeros((4, 784), dtype=np.complex64), predictions=np.zeros((4, 10)))
    out = ["-o", tmp_path / "p.npz"] if command == "predict" else []
    code, stdout, stderr = run(capsys, command, MLP, "--weights", model_path, "--data", bad, *out)
    assert (code, stdout) == (ExitCode.INVALID, "")
    assert stderr == (
        f"{bad}: array `digits` has dtype complex64, which does not convert to input "
        "`digits`'s float32\ninvalid data: 1 problem\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npz"]


def test_evaluate_with_another_spec_weights_is_a_clear_error(trained_mlp, tmp_path, capsys) -> None:
    model_path, _, _ = trained_mlp
    code, stdout, stderr = run(
        capsys, "evaluate", HEADLINE, "--weights", model_path, "--synthetic", 4
    )
    assert (code, stdout) == (ExitCode.INVALID, "")
    assert stderr.splitlines()[-1].startswith(
        f"keraspec: cannot load the weights in {model_path}: ValueError: "
    )


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (
            "multi_worker",
            "Error: strategy `multi_worker`: the multi_worker strategy reads its cluster from "
            'TF_CONFIG, which is not set or not JSON with "cluster" and "task" '
            "(see docs/training.md)\n",
        ),
        (
            "parameter_server",
            "Error: strategy `parameter_server`: Keras 3's model.fit does not run under "
            "ParameterServerStrategy (it needs tf.keras 2's ClusterCoordinator support); "
            "use multi_worker\n",
        ),
    ],
)
def test_unusable_strategies_are_usage_errors(tmp_path, capsys, monkeypatch, strategy, message):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    out = tmp_path / "m.keras"
    code, _, stderr = run(capsys, "fit", MLP, "--synthetic", 4, "--strategy", strategy, "-o", out)
    assert (code, stderr) == (ExitCode.USAGE, message)
    assert not out.exists()


def test_predict_needs_no_compile_section(tmp_path, capsys) -> None:
    spec = ROOT / "specs" / "transformer_block.yaml"
    model, preds = tmp_path / "t.keras", tmp_path / "t.npz"
    assert main(["compile", str(spec), "-o", str(model)]) == 0
    code, _, _ = run(
        capsys, "predict", spec, "--weights", model, "--synthetic", 4, "--quiet", "-o", preds
    )
    assert code == 0
    with np.load(preds) as found:
        assert {k: found[k].shape for k in found.files} == {"logits": (4, 2)}


def test_a_device_this_machine_lacks_is_a_usage_error(tmp_path, capsys) -> None:
    spec = tmp_path / "mlp.yaml"
    spec.write_text(
        MLP.read_text() + "distribute: {strategy: mirrored, devices: ['/gpu:7']}\n", "utf-8"
    )
    code, _, stderr = run(capsys, "fit", spec, "--synthetic", 4, "-o", tmp_path / "m.keras")
    assert code == ExitCode.USAGE
    assert stderr.startswith(
        "Error: strategy `mirrored`: no device `/gpu:7` here; this machine has /cpu:0"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.yaml"]


def test_mirrored_on_one_device_says_one_replica(tmp_path, capsys) -> None:
    out = tmp_path / "m.keras"
    code, _, stderr = run(
        capsys, "fit", MLP, "--synthetic", 8, "--strategy", "mirrored", "--quiet", "-o", out
    )
    assert (code, stderr) == (0, f"strategy: mirrored, 1 replica in sync\nwrote {out}\n")
