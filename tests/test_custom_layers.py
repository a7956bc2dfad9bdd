"""Custom layer classes: registered by entry point or `--allow-module`, and nothing else.

A spec names a project's class only when whoever runs keraspec registered it; checking
imports nothing, and building imports only the registered module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import keraspec
from keraspec.cli import ExitCode, main
from keraspec.custom_layers import Registry
from keraspec.diagnostics import SpecError

MODULE = "keraspec_test_layers"  # written to a temporary folder by the `project` fixture
LAYERS_SOURCE = '''\
import keras


class Scale(keras.layers.Layer):
    """Multiplies each feature by a learned factor, starting at `init`."""

    def __init__(self, init=1.0, **kwargs):
        super().__init__(**kwargs)
        self.init = init

    def build(self, input_shape):
        self.gamma = self.add_weight(
            shape=(input_shape[-1],), initializer=keras.initializers.Constant(self.init)
        )

    def call(self, x):
        return x * self.gamma

    def get_config(self):
        return {**super().get_config(), "init": self.init}


def helper():
    return 1
'''
SPEC = f"""\
keraspec: 1
name: scaled
inputs:
  x: {{shape: [8]}}
nodes:
  dense: {{type: Dense, units: 4, inputs: x}}
  scale: {{type: {MODULE}.Scale, init: 0.5, inputs: dense}}
outputs: [scale]
"""
ENTRY_POINT_SPEC = SPEC.replace(f"{MODULE}.Scale", "Scale")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the layers module and an installed-looking distribution that
    registers `Scale` (and a `Dense` that must never shadow Keras's) as entry points."""
    (tmp_path / f"{MODULE}.py").write_text(LAYERS_SOURCE)
    dist = tmp_path / "keraspec_test_layers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: keraspec-test-layers\n")
    (dist / "entry_points.txt").write_text(
        f"[keraspec.layers]\nScale = {MODULE}:Scale\nDense = {MODULE}:Scale\n"
    )
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "ep_spec.yaml").write_text(ENTRY_POINT_SPEC)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    return tmp_path


def test_registry_matches_the_exact_allowed_module() -> None:
    registry = Registry.allowing(["mypkg.layers"])
    assert registry.lookup("mypkg.layers.LayerScale").module == "mypkg.layers"
    assert registry.lookup("mypkg.layers.LayerScale").origin == "--allow-module mypkg.layers"
    assert registry.lookup("mypkg.LayerScale") is None  # a parent is not allowed
    assert registry.lookup("mypkg.layers.sub.LayerScale") is None  # nor a child
    assert registry.lookup("os.system") is None


@pytest.mark.parametrize("name", ["../mypkg", "mypkg/layers", "", ".mypkg", "mypkg.", "a b"])
def test_allow_module_refuses_what_is_not_a_module_name(name: str) -> None:
    with pytest.raises(ValueError, match="is not a module name"):
        Registry.allowing([name])


def test_an_unregistered_dotted_type_is_refused_with_how_to_register_it() -> None:
    [d] = keraspec.validate(keraspec.loads(SPEC, "spec.yaml"))
    assert str(d) == f"spec.yaml:7:17: E210 node `scale`: unknown layer type `{MODULE}.Scale`"
    assert d.hint == (
        "a custom layer class must be registered: `--allow-module MODULE` lets a spec name"
        " MODULE.Class, and packages register classes in group `keraspec.layers`"
    )


@pytest.mark.parametrize("type_", ["os.system", "subprocess.Popen", "builtins.eval"])
def test_dotted_imports_are_unknown_layer_types(type_: str) -> None:
    spec = SPEC.replace(f"{MODULE}.Scale", type_)
    [d] = keraspec.validate(keraspec.loads(spec, "spec.yaml"))
    assert (d.code, d.line, d.message) == (
        "E210",
        7,
        f"node `scale`: unknown layer type `{type_}`",
    )


def test_an_allowed_module_validates_without_importing_it(project: Path) -> None:
    assert keraspec.validate(project / "spec.yaml", allow_modules=[MODULE]) == []
    assert MODULE not in sys.modules
    [info] = keraspec.validate(project / "spec.yaml", verbose=True, allow_modules=[MODULE])
    assert (info.code, info.line) == ("I600", 7)  # no static rule: shapes after it unknown


def test_custom_arguments_that_take_keras_objects_are_still_checked(project: Path) -> None:
    spec = SPEC.replace("init: 0.5", "init: 0.5, activation: relu6x, name: s")
    found = keraspec.validate(keraspec.loads(spec, "spec.yaml"), allow_modules=[MODULE])
    assert [(d.code, d.message) for d in found] == [
        ("E217", "node `scale`: unknown activation `relu6x` for `activation`"),
        ("E213", "node `scale`: `name` is set by keraspec from the id"),
    ]


@pytest.mark.keras
def test_an_allowed_class_builds_and_ejects_to_the_same_model(project: Path) -> None:
    model = keraspec.build(project / "spec.yaml", allow_modules=[MODULE])
    scale = model.get_layer("scale")
    assert type(scale).__module__ == MODULE and type(scale).__name__ == "Scale"
    assert model.count_params() == 8 * 4 + 4 + 4

    source = keraspec.to_python(project / "spec.yaml", allow_modules=[MODULE])
    assert f"import {MODULE}\n" in source
    assert f'    scale = {MODULE}.Scale(init=0.5, name="scale")(dense)\n' in source
    namespace: dict = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    ejected = namespace["build_model"]()
    ejected.set_weights(model.get_weights())
    batch = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    np.testing.assert_allclose(ejected.predict(batch, verbose=0), model.predict(batch, verbose=0))


@pytest.mark.keras
def test_an_entry_point_registers_a_bare_name_but_never_shadows_keras(project: Path) -> None:
    registry = Registry()
    assert set(registry.entry_points) == {"Scale"}  # `Dense` stays Keras's Dense
    assert registry.lookup("Scale").origin == "entry point `Scale` in group `keraspec.layers`"
    model = keraspec.build(project / "ep_spec.yaml")
    assert type(model.get_layer("scale")).__name__ == "Scale"
    assert type(model.get_layer("dense")).__module__.startswith("keras.")


@pytest.mark.keras
@pytest.mark.parametrize(
    ("module", "type_", "message"),
    [
        ("os", "os.system", "`os.system` (--allow-module os) is not a Keras layer class"),
        (MODULE, f"{MODULE}.helper", f"`{MODULE}.helper` (--allow-module {MODULE}) is not a"),
        (MODULE, f"{MODULE}.Missing", f"module `{MODULE}` has no `Missing`"),
        ("keraspec_no_such_module", "keraspec_no_such_module.X", "No module named"),
    ],
)
def test_an_allowed_name_that_is_no_layer_class_is_a_located_build_error(
    project: Path, module: str, type_: str, message: str
) -> None:
    spec = keraspec.loads(SPEC.replace(f"{MODULE}.Scale", type_), "spec.yaml")
    with pytest.raises(SpecError) as e:
        keraspec.build(spec, allow_modules=[module])
    [d] = e.value.diagnostics
    assert (d.code, d.line) == ("E400", 7)
    assert message in d.message


def test_the_cli_takes_allow_module_on_each_command(project: Path, capsys) -> None:
    spec = str(project / "spec.yaml")
    assert main(["validate", spec]) == ExitCode.INVALID
    assert "E210" in capsys.readouterr().out
    assert main(["validate", "--allow-module", MODULE, spec]) == ExitCode.OK
    assert main(["summary", spec, "--allow-module", MODULE]) == ExitCode.OK
    assert "scale" in capsys.readouterr().out
    assert main(["codegen", spec, "--allow-module", MODULE]) == ExitCode.OK
    assert f"{MODULE}.Scale(" in capsys.readouterr().out


def test_the_cli_refuses_a_bad_module_name_as_a_usage_error(project: Path, capsys) -> None:
    code = main(["validate", "--allow-module", "../evil", str(project / "spec.yaml")])
    assert code == ExitCode.USAGE
    assert "Invalid value for --allow-module: `../evil` is not a module name" in (
        capsys.readouterr().err
    )


@pytest.mark.keras
def test_compile_with_an_allowed_module_writes_the_model(project: Path, capsys) -> None:
    output = project / "scaled.keras"
    spec = str(project / "spec.yaml")
    assert main(["compile", spec, "-o", str(output), "--allow-module", MODULE]) == ExitCode.OK
    assert output.is_file()
    output.unlink()
    assert main(["compile", spec, "-o", str(output)]) == ExitCode.INVALID
    assert not output.exists()


def test_validate_imports_neither_the_module_nor_keras(project: Path) -> None:
    probe = textwrap.dedent(
        f"""
        import json, sys
        import keraspec
        found = keraspec.validate({str(project / "ep_spec.yaml")!r})
        found += keraspec.validate({str(project / "spec.yaml")!r}, allow_modules=[{MODULE!r}])
        heavy = sorted({{"keras", "tensorflow", {MODULE!r}}} & set(sys.modules))
        print(json.dumps({{"found": [str(d) for d in found], "imported": heavy}}))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(project)}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(result.stdout) == {"found": [], "imported": []}


@pytest.mark.keras
def test_a_keras_file_with_an_allowed_class_imports_and_diffs(project: Path, capsys) -> None:
    spec, saved = str(project / "spec.yaml"), str(project / "scaled.keras")
    assert main(["compile", spec, "-o", saved, "--allow-module", MODULE]) == ExitCode.OK
    capsys.readouterr()
    assert main(["import", saved, "--allow-module", MODULE]) == ExitCode.OK
    imported = capsys.readouterr().out
    assert f"  scale: {{type: {MODULE}.Scale, init: 0.5, inputs: dense}}\n" in imported
    for old, new in ((spec, saved), (saved, spec)):  # either side may be the .keras file
        assert main(["diff", old, new, "--allow-module", MODULE]) == ExitCode.OK
        assert capsys.readouterr().out == "no differences\n"
