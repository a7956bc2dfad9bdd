"""The documentation site builds with `mkdocs build --strict`: every nav page exists and
every relative link resolves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from keraspec.cli import cli

ROOT = Path(__file__).parent.parent


def test_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("material", reason='needs the dev extra: pip install -e ".[dev]"')
    # Not `-q`: mkdocs counts strict-mode warnings only when it logs them.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "reference" / "layers" / "index.html").exists()


def test_pre_commit_hooks_run_existing_commands() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [hook["id"] for hook in hooks] == ["keraspec-validate", "keraspec-fmt"]
    for hook in hooks:
        program, command, *_ = hook["entry"].split()
        assert program == "keraspec"
        assert command in cli.commands
        assert hook["language"] == "python"
