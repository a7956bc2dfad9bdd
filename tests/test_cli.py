"""The command line: whole outputs and exit codes."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel
from sarif_pydantic import Sarif

import keraspec
from keraspec import api
from keraspec.cli import ExitCode, main
from keraspec.shapes import LAYER_RULES

ROOT = Path(__file__).parent.parent
HEADLINE = ROOT / "specs" / "headline.yaml"
INVALID = ROOT / "tests" / "cases" / "invalid"
THREE = INVALID / "three_errors.yaml"
VALID = ROOT / "tests" / "cases" / "valid"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_validate_valid_spec(capsys) -> None:
    assert run(capsys, "validate", HEADLINE) == (0, "", "ok: 0 errors, 0 warnings in 1 file\n")


def test_validate_reports_three_located_errors_in_one_run(capsys) -> None:
    code, out, err = run(capsys, "validate", THREE)
    assert code == ExitCode.INVALID
    rel = str(THREE)
    assert out == (
        f"{rel}:9:14: E210 node `h1`: unknown layer type `Dnse`\n"
        "    9 |   h1: {type: Dnse, units: 64, inputs: x}\n"
        "      |              ^\n"
        "      hint: did you mean `Dense`?\n"
        f"{rel}:10:40: E302 cycle: `h2` → `h3` → `h2`\n"
        "   10 |   h2: {type: Dense, units: 64, inputs: h3}\n"
        "      |                                        ^\n"
        "      hint: a node cannot depend on its own output\n"
        f"{rel}:12:45: E300 node `out` refers to unknown `h4`: not a declared input or node\n"
        "   12 |   out: {type: Dense, units: 1, inputs: [h1, h4]}\n"
        "      |                                             ^\n"
    )
    assert err == "invalid: 3 errors, 0 warnings in 1 file\n"


def test_python_tag_exits_1_and_runs_nothing(tmp_path, capsys) -> None:
    marker = tmp_path / "pwned"
    spec = tmp_path / "evil.yaml"
    spec.write_text(f'keraspec: 1\nx: !!python/object/apply:os.system ["touch {marker}"]\n')
    code, out, _ = run(capsys, "validate", spec)
    assert code == ExitCode.INVALID
    assert "E102 unsupported YAML tag `!!python/object/apply:os.system`" in out
    assert not marker.exists()


def test_globs_are_expanded(capsys) -> None:
    code, _, err = run(capsys, "validate", str(ROOT / "specs" / "*.yaml"))
    count = len(list((ROOT / "specs").glob("*.yaml")))
    assert (code, err) == (0, f"ok: 0 errors, 0 warnings in {count} files\n")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["validate"], "Missing argument 'SPEC...'."),
        (["validate", "nope.yaml"], "Invalid value for SPEC: no such file: `nope.yaml`"),
        (["validate", "none/*.yaml"], "Invalid value for SPEC: no file matches `none/*.yaml`"),
        (
            ["validate", "--format", "xml", str(HEADLINE)],
            "Invalid value for '--format': 'xml' is not one of 'text', 'json', 'github', 'sarif'.",
        ),
        (["frobnicate"], "No such command 'frobnicate'."),
        (
            ["compile", str(HEADLINE), "-o", "model.h5"],
            "Invalid value for -o: the output file name must end in `.keras`",
        ),
        (
            ["compile", str(HEADLINE), "-o", f"{HEADLINE}/m.keras"],
            f"Invalid value for -o: cannot write `{HEADLINE}/m.keras`: not a file path",
        ),
    ],
)
def test_usage_errors_exit_2(capsys, args: list[str], error: str) -> None:
    code, out, err = run(capsys, *args)
    assert (code, out) == (ExitCode.USAGE, "")
    assert err.splitlines()[-1] == f"Error: {error}"
    assert err.splitlines()[0].startswith("Usage: keraspec")


def test_json_format_is_an_empty_list_when_all_is_well(capsys) -> None:
    assert run(capsys, "validate", "--format", "json", HEADLINE) == (0, "[]\n", "")


def test_json_format(capsys) -> None:
    code, out, err = run(capsys, "validate", "--format", "json", THREE)
    assert code == 1 and err == ""
    first = json.loads(out)[0]
    assert first == {
        "code": "E210",
        "severity": "error",
        "message": "node `h1`: unknown layer type `Dnse`",
        "file": str(THREE),
        "line": 9,
        "column": 14,
        "hint": "did you mean `Dense`?",
        "notes": [],
    }


def test_github_format(capsys) -> None:
    _, out, _ = run(capsys, "validate", "--format", "github", THREE)
    assert out.splitlines()[0] == (
        f"::error file={THREE},line=9,col=14,title=E210::"
        "node `h1`: unknown layer type `Dnse` (hint: did you mean `Dense`?)"
    )


def test_github_format_escapes_file_names(tmp_path, capsys) -> None:
    spec = tmp_path / "a,b:c.yaml"
    spec.write_text(THREE.read_text())
    _, out, _ = run(capsys, "validate", "--format", "github", spec)
    escaped = str(spec).replace(":", "%3A").replace(",", "%2C")
    assert out.splitlines()[0].startswith(f"::error file={escaped},line=9,col=14,title=E210::")


def test_strict_turns_warnings_into_failure(capsys) -> None:
    unused = INVALID / "unused.yaml"
    assert run(capsys, "validate", unused)[0] == ExitCode.OK
    assert run(capsys, "validate", "--strict", unused)[0] == ExitCode.INVALID


def test_internal_errors_exit_3_without_traceback(capsys, monkeypatch) -> None:
    def explode(*_, **__):
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "check_file", explode)
    monkeypatch.delenv("KERASPEC_DEBUG", raising=False)
    code, _, err = run(capsys, "validate", HEADLINE)
    assert code == ExitCode.INTERNAL
    assert err.startswith("keraspec: internal error: RuntimeError: boom\n")
    assert "Traceback" not in err


def test_python_dash_m_and_console_script_agree() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    module = subprocess.run(
        [sys.executable, "-m", "keraspec", "validate", str(THREE)],
        capture_output=True,
        text=True,
        env=env,
    )
    script = Path(sys.executable).with_name("keraspec")
    direct = subprocess.run(
        [script, "validate", str(THREE)], capture_output=True, text=True, env=env
    )
    assert module.returncode == direct.returncode == 1
    assert module.stdout == direct.stdout and "E302" in module.stdout


@pytest.mark.keras
def test_compile_writes_a_loadable_model(tmp_path, capsys) -> None:
    import keras

    out_file = tmp_path / "nested" / "headline.keras"
    code, out, err = run(capsys, "compile", HEADLINE, "-o", out_file, "--summary")
    assert code == 0, err
    assert "Total params: 5,200,610" in out
    assert err.endswith(f"wrote {out_file}\n")
    model = keras.models.load_model(out_file)
    assert model.count_params() == 5_200_610
    assert [p.name for p in tmp_path.joinpath("nested").iterdir()] == ["headline.keras"]


@pytest.mark.keras
def test_compile_of_invalid_spec_writes_nothing(tmp_path, capsys) -> None:
    out_file = tmp_path / "broken.keras"
    code, out, err = run(capsys, "compile", THREE, "-o", out_file)
    assert (code, out) == (ExitCode.INVALID, "")
    assert "E210" in err and err.endswith("invalid: 3 errors, 0 warnings in 1 file\n")
    assert list(tmp_path.iterdir()) == []


def test_compile_reports_shape_errors_at_the_node_before_building(tmp_path, capsys) -> None:
    spec = tmp_path / "mismatch.yaml"
    spec.write_text(
        "keraspec: 1\nname: m\ninputs:\n  a: {shape: [3]}\n  b: {shape: [4]}\n"
        "nodes:\n  s: {type: Add, inputs: [a, b]}\noutputs: [s]\n"
    )
    code, out, err = run(capsys, "compile", spec, "-o", tmp_path / "m.keras")
    assert (code, out) == (ExitCode.INVALID, "")
    assert err.splitlines()[-1] == "invalid: 1 error, 0 warnings in 1 file"
    first = err.splitlines()[0]
    assert (
        first
        == f"{spec}:7:3: E600 node `s` (Add): input 0 has shape (None, 3), input 1 has (None, 4)"
    )
    assert not (tmp_path / "m.keras").exists()


def test_summary_counts_shared_weights_once() -> None:
    from keraspec.summary import summarize

    rows, total = summarize(keraspec.load(VALID / "submodels.yaml"))
    params = {row[0]: row[4] for row in rows}
    assert (params["enc_left"], params["enc_right"], params["per_frame"]) == (
        "34",
        "(shared)",
        "(shared)",
    )
    assert total == 34
    rows, total = summarize(keraspec.load(VALID / "op_names.yaml"))
    assert [row[1] for row in rows] == ["Input", "Input", "Dense", "ops.add"]
    assert total == 20


def test_summary_table(capsys) -> None:
    code, out, _ = run(capsys, "summary", HEADLINE)
    assert code == 0
    assert "Total params: 5,200,610" in out
    for node in ("embedded", "lstm_out", "aux_output", "merged", "main_output"):
        assert node in out
    assert "5,120,000" in out and "69,760" in out


def test_summary_of_the_mlp_whole(capsys) -> None:
    code, out, _ = run(capsys, "summary", ROOT / "specs" / "mlp.yaml")
    assert code == 0
    assert out.splitlines() == [
        "mlp",
        "┏━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━┓",
        "┃ node        ┃ layer ┃ inputs  ┃ output shape ┃ params ┃",
        "┡━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━┩",
        "│ digits      │ Input │         │ (None, 784)  │      0 │",
        "│ dense_1     │ Dense │ digits  │ (None, 64)   │ 50,240 │",
        "│ dense_2     │ Dense │ dense_1 │ (None, 64)   │  4,160 │",
        "│ predictions │ Dense │ dense_2 │ (None, 10)   │    650 │",
        "└─────────────┴───────┴─────────┴──────────────┴────────┘",
        "Total params: 55,050",
    ]


@pytest.mark.keras
def test_compile_prints_no_tensorflow_noise(tmp_path) -> None:
    out_file = tmp_path / "mlp.keras"
    script = Path(sys.executable).with_name("keraspec")
    env = {k: v for k, v in os.environ.items() if k != "KERASPEC_DEBUG"}
    result = subprocess.run(
        [script, "compile", ROOT / "specs" / "mlp.yaml", "-o", out_file],
        capture_output=True,
        text=True,
        env=env,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", f"wrote {out_file}\n")


def test_summary_shows_keyword_tensor_lists_verbatim(monkeypatch, tmp_path) -> None:
    import io

    from rich.console import Console

    from keraspec.cli import checking

    spec = tmp_path / "masked.yaml"
    spec.write_text(
        "keraspec: 1\nname: masked\ninputs:\n  q: {shape: [3, 4]}\n  v: {shape: [5, 4]}\n"
        "  qm: {shape: [3], dtype: bool}\n  vm: {shape: [5], dtype: bool}\n"
        "nodes:\n  att:\n    type: Attention\n"
        "    inputs: {inputs: [q, v], mask: [qm, vm]}\noutputs: [att]\n"
    )
    screen = io.StringIO()
    monkeypatch.setattr(checking, "out", Console(file=screen, width=200))
    assert main(["summary", str(spec)]) == 0
    (row,) = [line for line in screen.getvalue().splitlines() if "│ att" in line]
    assert "q, v, mask=[qm, vm]" in row


def _unknown_keys(model: BaseModel, where: str = "sarif") -> list[str]:
    """Keys the SARIF object model does not define, anywhere in the log (typos pass
    sarif-pydantic's own validation, which allows extras)."""
    found = [f"{where}.{key}" for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                found += _unknown_keys(item, f"{where}.{name}")
    return found


def test_sarif_format_is_sarif_2_1_0(capsys) -> None:
    case = ROOT / "tests" / "cases" / "invalid" / "composition_blocks.yaml"
    code, out, err = run(capsys, "validate", "--format", "sarif", str(case))
    assert code == 1 and err == ""
    raw = json.loads(out)
    log = Sarif.model_validate(raw)
    assert log.version == "2.1.0" and raw["$schema"].endswith("sarif-2.1.0.json")
    # columnKind is SARIF 2.1.0 (§3.14.27) but missing from sarif-pydantic's model
    assert _unknown_keys(log) == ["sarif.runs.columnKind"]
    [run_] = log.runs
    diagnostics = keraspec.validate(case)
    assert len(run_.results) == len(diagnostics)
    rules = [rule.id for rule in run_.tool.driver.rules]
    assert rules == sorted({d.code for d in diagnostics})
    first, d = run_.results[0], diagnostics[0]
    assert (first.rule_id, first.level.value, rules[first.rule_index]) == (d.code, "error", d.code)
    region = first.locations[0].physical_location.region
    assert (region.start_line, region.start_column) == (d.line, d.column)
    assert first.locations[0].physical_location.artifact_location.uri == case.as_uri()
    [use_site] = [
        r for r in first.related_locations if r.message.text.startswith("in block `loop`")
    ]
    assert use_site.physical_location.region.start_line == d.notes[1].line


def test_sarif_format_when_all_is_well(capsys) -> None:
    code, out, _ = run(capsys, "validate", "--format", "sarif", HEADLINE)
    assert code == 0
    log = Sarif.model_validate(json.loads(out))
    assert log.runs[0].results == [] and log.runs[0].tool.driver.rules == []


def hide_module(monkeypatch, hidden: str) -> None:
    """Make ``hidden`` look not installed to the CLI's ``find_spec`` check."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == hidden else real(name)
    )


@pytest.mark.parametrize("command", ["compile", "validate --build"])
def test_commands_that_build_say_what_to_install_without_tensorflow(
    capsys, monkeypatch, command: str
) -> None:
    hide_module(monkeypatch, "tensorflow")
    code, out, err = run(capsys, *command.split(), str(HEADLINE))
    assert code == ExitCode.USAGE and out == ""
    assert (
        "this command builds the model with Keras, and tensorflow is not installed: "
        'pip install "keraspec[tensorflow]"'
    ) in err


SHAPES = """\
keraspec: 1
name: shapes
inputs:
  a: {shape: [28, 28, 3]}
  b: {shape: [30, 30, 3]}
nodes:
  both: {type: Concatenate, inputs: [a, b]}
outputs: both
"""


def test_validate_finds_mismatched_shapes_without_keras(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "shapes.yaml"
    spec.write_text(SHAPES)
    code, out, _ = run(capsys, "validate", "--format", "json", str(spec))
    assert code == ExitCode.INVALID
    [found] = json.loads(out)
    assert (found["code"], found["line"], found["column"]) == ("E600", 7, 3)
    assert found["message"] == (
        "node `both` (Concatenate): input 0 has shape (None, 28, 28, 3), "
        "input 1 has (None, 30, 30, 3); only axis -1 may differ"
    )


@pytest.mark.keras
def test_validate_build_finds_what_only_keras_finds(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delitem(LAYER_RULES, "Concatenate")  # a layer static inference cannot check
    spec = tmp_path / "shapes.yaml"
    spec.write_text(SHAPES)
    assert run(capsys, "validate", str(spec), str(ROOT / "specs" / "mlp.yaml"))[0] == 0
    code, out, _ = run(capsys, "validate", "--build", "--format", "json", str(spec))
    assert code == ExitCode.INVALID
    [found] = json.loads(out)
    assert (found["code"], found["line"], found["column"]) == ("E400", 7, 3)
    assert found["message"].startswith(
        "Keras rejected node `both`: ValueError: A `Concatenate` layer requires inputs with"
    )
    assert run(capsys, "validate", "--build", str(ROOT / "specs" / "mlp.yaml"))[0] == 0


def test_validate_build_without_tensorflow_says_what_to_install(capsys, monkeypatch) -> None:
    hide_module(monkeypatch, "keras")
    code, out, err = run(capsys, "validate", "--build", str(HEADLINE))
    assert code == ExitCode.USAGE and out == ""
    assert 'keras is not installed: pip install "keraspec[tensorflow]"' in err


@pytest.mark.keras
def test_validate_build_skips_block_libraries(capsys) -> None:
    library = ROOT / "tests" / "cases" / "includes" / "ok" / "blocks" / "residual.yaml"
    assert run(capsys, "validate", "--build", str(library)) == (
        0,
        "",
        "ok: 0 errors, 0 warnings in 1 file\n",
    )


def test_sarif_uris_are_escaped_and_columns_are_code_points(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    (tmp_path / "sp ace#1").mkdir()
    (tmp_path / "sp ace#1" / "é x%.yaml").write_text(
        (ROOT / "tests" / "cases" / "invalid" / "three_errors.yaml").read_text()
    )
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(capsys, "validate", "--format", "sarif", "sp ace#1/é x%.yaml")
    [run_] = json.loads(out)["runs"]
    assert run_["columnKind"] == "unicodeCodePoints"
    location = run_["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "sp%20ace%231/%C3%A9%20x%25.yaml"


def test_a_file_that_cannot_be_written_is_a_usage_error_leaving_nothing(
    capsys, monkeypatch, tmp_path
) -> None:
    import errno

    def full(self, data):
        raise OSError(errno.EFBIG, "File too large")

    monkeypatch.setattr(Path, "write_bytes", full)
    output = tmp_path / "model.py"
    code, _, err = run(capsys, "codegen", ROOT / "specs" / "mlp.yaml", "-o", output)
    assert code == ExitCode.USAGE
    assert err == f"Error: Could not open file '{output}': File too large\n"
    assert list(tmp_path.iterdir()) == []
