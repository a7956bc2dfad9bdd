"""The generated reference pages (docs/reference/) are what `make reference` writes now."""

from __future__ import annotations

import pytest
import reference


@pytest.mark.parametrize("name", sorted(reference.PAGES))
def test_reference_page_is_current(name: str) -> None:
    committed = (reference.OUT / name).read_text(encoding="utf-8")
    assert committed == reference.PAGES[name](), f"docs/reference/{name} is stale: make reference"


def test_every_schema_key_has_a_meaning() -> None:
    keys = {f"{m.__name__}.{f}" for m in reference.MODELS for f in m.model_fields}
    assert keys == set(reference.MEANINGS)


def test_layers_page_names_every_layer_and_op() -> None:
    from keraspec import catalog

    text = (reference.OUT / "layers.md").read_text(encoding="utf-8")
    headings = {line[4:] for line in text.splitlines() if line.startswith("### ")}
    assert headings == set(catalog.layer_names()) | set(catalog.catalog()["ops"])


def test_cli_page_names_every_command_and_option() -> None:
    from keraspec.cli import cli

    text = (reference.OUT / "cli.md").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert f"\n## {name}\n" in text
        for option in (p for p in command.params if p.param_type_name == "option"):
            assert all(f"`{o}`" in text for o in option.opts)
