"""docs/tutorial.md runs top to bottom: its Python and its specs build the same models.

How the tutorial is marked up:

- ``<!-- pair: NAME [FILE] -->`` comes right before a ```python block; the next ```yaml
  block is the same model as a spec. The Python must define ``model``. With FILE, the
  spec is that file (a path from the repo root) without its leading comment lines.
- A ```console block starting with ``$ keraspec ...`` holds that command's whole output
  (stdout, then stderr), as run from the repo root.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import keras
import pytest
from rich.console import Console

import keraspec
from keras_compare import assert_same_compile, assert_same_model
from keraspec.cli import building, checking, common, exchange, formatting, main, training

CLI_MODULES = (common, checking, building, exchange, formatting, training)

ROOT = Path(__file__).parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
TEXT = TUTORIAL.read_text(encoding="utf-8")
PAIR = re.compile(
    r"<!-- pair: (\w+)(?: (\S+))? -->\n```python\n(.*?)```\n.*?```yaml\n(.*?)```", re.DOTALL
)
CONSOLE = re.compile(r"```console\n\$ (keraspec .*?)\n(.*?)```", re.DOTALL)
PAIRS = {name: (file, python, spec) for name, file, python, spec in PAIR.findall(TEXT)}
OUTPUTS = CONSOLE.findall(TEXT)


def test_every_pair_is_marked() -> None:
    assert list(PAIRS) == [
        "mlp",
        "headline",
        "ticket_ranking",
        "toy_resnet",
        "shared_embedding",
        "autoencoder",
        "ensemble",
        "toy_resnet_blocks",
    ]
    assert TEXT.count("```python") == len(PAIRS)
    assert [command.split()[1] for command, _ in OUTPUTS] == ["validate", "summary"]


@pytest.mark.keras
@pytest.mark.parametrize("name", PAIRS)
def test_python_and_spec_build_the_same_model(name: str) -> None:
    _, python, spec = PAIRS[name]
    keras.utils.set_random_seed(0)
    built = keraspec.build(keraspec.loads(spec, source=f"tutorial.md#{name}"))
    namespace: dict[str, object] = {}
    exec(compile(python, f"tutorial.md#{name}", "exec"), namespace)  # our own docs
    handwritten = namespace["model"]
    assert isinstance(handwritten, keras.Model)
    assert_same_model(built, handwritten)
    assert_same_compile(built, handwritten)


@pytest.mark.parametrize("name", [n for n, (file, _, _) in PAIRS.items() if file])
def test_spec_is_the_file_it_names(name: str) -> None:
    file, _, spec = PAIRS[name]
    lines = (ROOT / file).read_text(encoding="utf-8").splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    assert spec == "".join(lines)


def test_whole_specs_validate() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", TEXT, re.DOTALL)
    specs = [b for b in blocks if b.startswith("keraspec: 1")]
    assert len(specs) == len(PAIRS)
    for i, spec in enumerate(specs):
        assert keraspec.validate(keraspec.loads(spec, source=f"tutorial.md#{i}")) == []


@pytest.mark.parametrize(("command", "output"), OUTPUTS, ids=[c for c, _ in OUTPUTS])
def test_pasted_output_is_what_the_command_prints(
    command: str, output: str, capsys, monkeypatch
) -> None:
    monkeypatch.chdir(ROOT)
    for name, stderr in (("out", False), ("err", True)):  # 80 columns, whatever COLUMNS says
        console = Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False, width=80)
        for module in CLI_MODULES:  # each command module holds the consoles it prints to
            if hasattr(module, name):
                monkeypatch.setattr(module, name, console)
    main(shlex.split(command)[1:])
    captured = capsys.readouterr()
    assert captured.out + captured.err == output
