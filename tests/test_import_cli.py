"""`keraspec import SOURCE [-o spec.yaml]`: whole outputs, exit codes, nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import pytest

import keraspec
from keraspec.cli import ExitCode, main

pytestmark = pytest.mark.keras

SMALL_SPEC = """\
keraspec: 1
name: small
inputs:
  x:
    shape: [8]
nodes:
  hidden: {type: Dense, units: 4, activation: relu, inputs: x}
  out: {type: Dense, units: 2, activation: softmax, inputs: hidden}
outputs: [out]
"""


def run(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def fresh_keras_names() -> None:
    """Keras numbers default layer names per process (`input_layer_7`): start each from 0,
    as `keraspec import` does in a process of its own."""
    keras.backend.clear_session()


@pytest.fixture(scope="module")
def small_keras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "small.keras"
    keraspec.build(keraspec.loads(SMALL_SPEC)).save(path)
    return path


def test_import_prints_the_spec(capsys, small_keras: Path) -> None:
    assert run(capsys, "import", small_keras) == (ExitCode.OK, SMALL_SPEC, "")


def test_import_writes_the_spec_with_o(capsys, small_keras: Path, tmp_path: Path) -> None:
    output = tmp_path / "out" / "small.yaml"
    assert run(capsys, "import", small_keras, "-o", output) == (0, "", f"wrote {output}\n")
    assert output.read_text(encoding="utf-8") == SMALL_SPEC
    assert run(capsys, "validate", output)[0] == ExitCode.OK


def test_import_an_application_by_name(capsys, tmp_path: Path) -> None:
    output = tmp_path / "mobilenet.yml"
    code, out, err = run(capsys, "import", "keras.applications.MobileNetV3Small", "-o", output)
    assert (code, out, err) == (0, "", f"wrote {output}\n")
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[:8] == [
        "keraspec: 1",
        "name: MobileNetV3Small",
        "inputs:",
        "  input_layer:",
        "    shape: [null, null, 3]",  # MobileNetV3 takes any image size by default
        "nodes:",
        "  rescaling: {type: Rescaling, scale: 0.00784313725490196, offset: -1.0, "
        "inputs: input_layer}",
        "  conv: {type: Conv2D, filters: 16, kernel_size: 3, strides: 2, padding: same, "
        "use_bias: false, inputs: rescaling}",
    ]
    assert run(capsys, "validate", output) == (0, "", "ok: 0 errors, 0 warnings in 1 file\n")
    keras.backend.clear_session()


def failure(capsys, tmp_path: Path, source: Any) -> tuple[int, str, str]:
    """Run an import that must fail: with -o, nothing may appear in ``tmp_path``."""
    before = sorted(tmp_path.iterdir())
    result = run(capsys, "import", source, "-o", tmp_path / "out.yaml")
    assert sorted(tmp_path.iterdir()) == before
    return result


def test_no_such_file(capsys, tmp_path: Path) -> None:
    source = tmp_path / "missing.keras"
    assert failure(capsys, tmp_path, source) == (
        ExitCode.INVALID,
        "",
        f"{source}:0:0: E700 no such file: `{source}`\ninvalid: 1 error, 0 warnings in 1 file\n",
    )


def test_unknown_application(capsys, tmp_path: Path) -> None:
    assert failure(capsys, tmp_path, "keras.applications.ResNet51") == (
        ExitCode.INVALID,
        "",
        "keras.applications.ResNet51:0:0: E701 `keras.applications.ResNet51` is neither a "
        ".keras file nor a keras.applications model\n"
        "      hint: did you mean `ResNet50`?\n"
        "invalid: 1 error, 0 warnings in 1 file\n",
    )


def test_a_name_that_is_no_application_constructor(capsys, tmp_path: Path) -> None:
    # `resnet` is a module of keras.applications, `imagenet_utils` too: not models.
    code, _, err = failure(capsys, tmp_path, "keras.applications.resnet")
    assert (code, err.splitlines()[0]) == (
        ExitCode.INVALID,
        "keras.applications.resnet:0:0: E701 `keras.applications.resnet` is neither a "
        ".keras file nor a keras.applications model",
    )


def test_a_file_that_is_not_a_keras_archive(capsys, tmp_path: Path) -> None:
    source = tmp_path / "model.h5"
    source.write_bytes(b"not a model")
    assert failure(capsys, tmp_path, source) == (
        ExitCode.INVALID,
        "",
        f"{source}:0:0: E700 `{source}` is not a .keras file\n"
        "      hint: keraspec imports Keras 3 .keras archives or keras.applications models\n"
        "invalid: 1 error, 0 warnings in 1 file\n",
    )


def test_a_corrupt_keras_file(capsys, tmp_path: Path) -> None:
    source = tmp_path / "broken.keras"
    source.write_bytes(b"PK\x03\x04 not really a zip")
    code, out, err = failure(capsys, tmp_path, source)
    assert (code, out) == (ExitCode.INVALID, "")
    assert err.startswith(f"{source}:0:0: E700 cannot load `{source}`: ")
    assert err.endswith("or an entry point)\ninvalid: 1 error, 0 warnings in 1 file\n")


@keras.saving.register_keras_serializable(package="test_import_cli")
class Twice(keras.layers.Layer):
    def call(self, inputs: Any) -> Any:
        return inputs * 2


def test_a_custom_layer_in_a_keras_file(capsys, tmp_path: Path) -> None:
    x = keras.Input((3,), name="x")
    source = tmp_path / "custom.keras"
    keras.Model(x, Twice(name="twice")(x), name="m").save(source)
    assert failure(capsys, tmp_path, source) == (
        ExitCode.INVALID,
        "",
        f"{source}:0:0: E702 layer `twice` (test_import_cli.Twice) is a custom layer class: "
        "register it with `--allow-module test_import_cli` (allow_modules=[...]) or an entry "
        "point\n"
        "      hint: a spec names keras.layers classes and registered custom layers only\n"
        "invalid: 1 error, 0 warnings in 1 file\n",
    )


def test_output_must_be_yaml(capsys, small_keras: Path, tmp_path: Path) -> None:
    code, out, err = run(capsys, "import", small_keras, "-o", tmp_path / "x.txt")
    assert (code, out) == (ExitCode.USAGE, "")
    assert err.endswith(
        "Error: Invalid value for -o: the output file name must end in `.yaml` or `.yml`\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_docs_show_the_real_import_of_resnet50(capsys) -> None:
    docs = (Path(__file__).parent.parent / "docs" / "import-and-export.md").read_text("utf-8")
    section = docs.split("## Import a Keras model\n")[1].split("\n## ")[0]
    excerpt = section.split("```yaml\n")[1].split("```")[0].splitlines()
    code, out, _ = run(capsys, "import", "keras.applications.ResNet50")
    assert code == ExitCode.OK
    assert excerpt[:-1] == out.splitlines()[: len(excerpt) - 1]
    nodes = len(keraspec.loads(out).nodes)
    assert excerpt[-1] == f"  # ... {nodes - 7} more nodes, then `outputs: [predictions]`"
    assert out.endswith("outputs: [predictions]\n")
    keras.backend.clear_session()


def test_a_lambda_in_a_keras_file_is_refused_by_safe_mode(capsys, tmp_path: Path) -> None:
    x = keras.Input((3,), name="x")
    source = tmp_path / "lambda.keras"
    keras.Model(x, keras.layers.Lambda(lambda t: t * 2, name="double")(x)).save(source)
    code, out, err = failure(capsys, tmp_path, source)
    assert (code, out) == (ExitCode.INVALID, "")
    assert err.startswith(
        f"{source}:0:0: E700 cannot load `{source}`: ValueError: Requested the deserialization "
        "of a `Lambda` layer whose `function` is a Python lambda."
    )
    assert err.endswith(
        "      hint: keraspec loads .keras files with safe_mode=True: a Lambda layer cannot be "
        "imported, nor a custom class unless it is registered (--allow-module MODULE, or an "
        "entry point)\n"
        "invalid: 1 error, 0 warnings in 1 file\n"
    )
