"""Small spec files for tests: write one, validate it, describe what it reports."""

from __future__ import annotations

from pathlib import Path

import keraspec
from update_golden import describe


def spec(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


HEAD = "keraspec: 1\nname: t\ninputs: {x: {shape: [2]}}\n"


def codes(tmp_path: Path, text: str) -> list[str]:
    """What validate reports for ``text``, as golden-file lines."""
    return [describe(d) for d in keraspec.validate(spec(tmp_path, text))]


LIBRARY = """\
blocks:
  unit:
    inputs: x
    nodes: {d: {type: Dense, units: 2, inputs: x}}
    outputs: d
"""


def uses(target: str) -> str:
    return f"""\
keraspec: 1
name: uses
blocks:
  unit: {{use: "{target}"}}
inputs: {{x: {{shape: [4]}}}}
nodes: {{u: {{block: unit, inputs: x}}}}
outputs: u
"""
