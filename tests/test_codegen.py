"""`keraspec codegen` / `keraspec.to_python`: the written module builds the same model."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import keraspec
from keraspec.cli import ExitCode, main

ROOT = Path(__file__).parent.parent
MLP = ROOT / "specs" / "mlp.yaml"
THREE = ROOT / "tests" / "cases" / "invalid" / "three_errors.yaml"
SPECS = [
    *sorted((ROOT / "specs").glob("*.yaml")),
    *sorted((ROOT / "specs" / "applications").glob("*.yaml")),
    *sorted((ROOT / "tests" / "cases" / "valid").glob("*.yaml")),
]

# assert_same_model's random batch does not fit these: `slice` fixes the batch at 1, and
# numpy has no `string` dtype. Their structure is compared without running them.
NOT_RUNNABLE = {"ops", "quoted_strings"}


def spec_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def run_module(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


@pytest.mark.keras
@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_generated_module_builds_the_same_model(spec: Path) -> None:
    import keras

    from keras_compare import assert_same_compile, assert_same_model, assert_same_structure

    keras.backend.clear_session()  # objects named automatically (metrics) get the same names
    built = keraspec.build(spec)
    keras.backend.clear_session()
    generated = run_module(keraspec.to_python(spec))["build_model"]()
    if spec.stem in NOT_RUNNABLE:
        assert_same_structure(built, generated)
    else:
        assert_same_model(built, generated)
    assert_same_compile(built, generated)
    assert [layer.name for layer in generated.layers] == [layer.name for layer in built.layers]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_generated_source_is_deterministic(spec: Path) -> None:
    assert keraspec.to_python(spec) == keraspec.to_python(keraspec.load(spec))


def test_generated_source_is_ruff_clean(tmp_path: Path) -> None:
    for spec in SPECS:
        (tmp_path / f"{spec.parent.name}_{spec.stem}.py").write_text(keraspec.to_python(spec))
    ruff = [sys.executable, "-m", "ruff"]
    for command in (["check", "--isolated", "."], ["format", "--isolated", "--check", "."]):
        done = subprocess.run(
            ruff + command, cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_to_python_does_not_import_keras() -> None:
    code = f"import keraspec, sys; keraspec.to_python({str(MLP)!r}); print('keras' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


def test_names_that_are_not_identifiers_become_unique_variables(tmp_path: Path) -> None:
    spec = tmp_path / "names.yaml"
    spec.write_text(
        "keraspec: 1\nname: names\ninputs:\n  input: {shape: [4]}\nnodes:\n"
        "  class: {type: Dense, units: 2, inputs: input}\n"
        "  layers: {type: Dense, units: 2, inputs: class}\n"
        "outputs: [layers]\n"
    )
    source = keraspec.to_python(spec)
    assert 'input_ = keras.Input(shape=(4,), name="input")' in source
    assert 'class_ = layers.Dense(2, name="class")(input_)' in source
    assert 'layers_2 = layers.Dense(2, name="layers")(class_)' in source


WRAPPED_SUBMODEL = """\
keraspec: 1
name: wrap
inputs:
  frames: {shape: [3, 5]}
models:
  projector:
    inputs: {v: {shape: [5]}}
    nodes:
      p: {type: Dense, units: 5, inputs: v}
    outputs: [p]
layers:
  per_frame: {type: TimeDistributed, layer: projector}
nodes:
  a: {layer: per_frame, inputs: frames}
  b: {layer: per_frame, inputs: a}
outputs: [b]
"""


@pytest.mark.keras
def test_a_shared_layer_wrapping_a_submodel_is_made_after_it(tmp_path: Path) -> None:
    from keras_compare import assert_same_model

    spec = tmp_path / "wrap.yaml"
    spec.write_text(WRAPPED_SUBMODEL)
    source = keraspec.to_python(spec)
    assert source.index("projector_model = projector()") < source.index("per_frame = layers")
    assert_same_model(keraspec.build(spec), run_module(source)["build_model"]())


def run(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_codegen_prints_the_module(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "codegen", MLP) == (ExitCode.OK, keraspec.to_python(MLP), "")


def test_codegen_writes_the_module(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "model.py"
    assert run(capsys, "codegen", MLP, "-o", target) == (ExitCode.OK, "", f"wrote {target}\n")
    assert target.read_text() == keraspec.to_python(MLP)
    assert [p.name for p in tmp_path.iterdir()] == ["model.py"]


def test_codegen_of_invalid_spec_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "codegen", THREE, "-o", tmp_path / "model.py")
    assert (code, out) == (ExitCode.INVALID, "")
    assert "three_errors.yaml:" in err and "E210" in err
    assert err.endswith("invalid: 3 errors, 0 warnings in 1 file\n")
    assert list(tmp_path.iterdir()) == []


def test_codegen_output_must_be_a_python_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "codegen", MLP, "-o", tmp_path / "model.keras")
    assert (code, out) == (ExitCode.USAGE, "")
    assert "the output file name must end in `.py`" in err
    assert list(tmp_path.iterdir()) == []


def test_docs_show_the_real_output_for_the_mlp() -> None:
    page = (ROOT / "docs" / "import-and-export.md").read_text(encoding="utf-8")
    (excerpt,) = re.findall(r"```python\n(.*?)```", page, re.DOTALL)
    assert excerpt == keraspec.to_python(MLP)
