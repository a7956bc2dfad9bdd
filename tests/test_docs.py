"""The README and docs stay true: their specs validate, and the README's is specs/headline.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import keraspec

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def yaml_blocks(path: Path) -> list[str]:
    return FENCE.findall(path.read_text(encoding="utf-8"))


def whole_specs() -> list[tuple[str, str]]:
    """Every YAML block that is a complete spec (fragments and `...` sketches are not)."""
    return [
        (f"{path.name}#{i}", block)
        for path in DOCS
        for i, block in enumerate(yaml_blocks(path))
        if block.startswith("keraspec: 1") and "..." not in block
    ]


@pytest.mark.parametrize(("where", "block"), whole_specs(), ids=[w for w, _ in whole_specs()])
def test_whole_specs_in_docs_validate(where: str, block: str) -> None:
    assert keraspec.validate(keraspec.loads(block, source=where)) == []


def test_readme_shows_the_real_headline_spec() -> None:
    (readme_spec, *_) = [b for w, b in whole_specs() if w.startswith("README")]
    headline = (ROOT / "specs" / "headline.yaml").read_text(encoding="utf-8")
    without_comment_lines = "".join(
        line for line in headline.splitlines(keepends=True) if not line.startswith("#")
    )
    assert readme_spec == without_comment_lines


def test_readme_starts_with_the_two_commands() -> None:
    block = (ROOT / "README.md").read_text(encoding="utf-8").split("```")[1]
    assert [line.split("#")[0].strip() for line in block.splitlines()[1:]] == [
        "make demo",
        "make test",
    ]


def test_every_diagnostic_code_is_documented() -> None:
    documented = set(
        re.findall(r"^\| ([EW]\d{3}) \|", (ROOT / "docs" / "diagnostics.md").read_text(), re.M)
    )
    used = set()
    for path in (ROOT / "src" / "keraspec").rglob("*.py"):
        used |= set(re.findall(r'"([EW]\d{3})"', path.read_text(encoding="utf-8")))
    assert used <= documented, f"undocumented: {sorted(used - documented)}"


def test_spec_format_lists_exactly_the_allowed_ops() -> None:
    from keraspec import catalog

    text = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    listing = text.split("<!-- ops: generated from the catalog")[1].split("\n")[1]
    assert re.findall(r"`(\w+)`", listing) == list(catalog.catalog()["ops"])


def test_diagnostics_doc_counts_the_layer_classes_with_shape_rules() -> None:
    from keraspec import catalog, shapes

    text = " ".join((ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8").split())
    found = re.search(r"Rules cover (\d+) of the (\d+) layer classes", text)
    assert found is not None
    layers = set(catalog.layer_names())
    assert (int(found[1]), int(found[2])) == (len(layers & set(shapes.LAYER_RULES)), len(layers))
    assert set(shapes.OP_RULES) == set(catalog.catalog()["ops"])  # "every allowed op"
