"""Spec → YAML text, in the same format the loader reads (``loads(dumps(s)) == s``)."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel

from .scalars import SpecLoader, needs_quotes
from .schema import SPEC_KEY_ORDER, Node, ObjectSpec, Spec


class SpecDumper(yaml.SafeDumper):
    """Quotes every string the loader would read as something else (``"1e3"``, ``"2024-01-01"``)."""


SpecDumper.yaml_implicit_resolvers = SpecLoader.yaml_implicit_resolvers
# YAML reads these as line breaks; only double quotes keep them (as escapes).
LINE_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: SpecDumper, value: str) -> yaml.ScalarNode:
    # Quoted when YAML 1.2 would read it as something else (`08`, `0o17`), or when
    # plain it would be an E108/E226 error itself; double quotes for line breaks.
    style = None
    if needs_quotes(value):
        style = "'"
    if any(c in value for c in LINE_BREAKS):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


SpecDumper.add_representer(str, _represent_str)


def dumps(spec: Spec) -> str:
    data = escape_placeholders(to_data(spec))
    ordered = {key: data[key] for key in SPEC_KEY_ORDER if key in data}
    return yaml.dump(
        ordered,
        Dumper=SpecDumper,
        sort_keys=False,
        default_flow_style=None,
        allow_unicode=True,
        width=100,
    )


def to_data(value: Any) -> Any:
    """Plain data as a user would write it: nodes flattened, defaults left out."""
    if isinstance(value, ObjectSpec):
        return {"type": value.type, **to_data(value.args)}
    if isinstance(value, Node):
        data = {value.kind: value.target, **to_data(value.args), "inputs": to_data(value.inputs)}
        if value.call:
            data["call"] = to_data(value.call)
        return data
    if isinstance(value, BaseModel):
        return {
            name: to_data(getattr(value, name))
            for name, field in type(value).model_fields.items()
            if field.is_required()
            or getattr(value, name) != field.get_default(call_default_factory=True)
        }
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    return value


def escape_placeholders(value: Any) -> Any:
    """``${`` in string values is literal text here, written ``$${`` (see expand/expander.py).

    Mapping keys are never expanded, so they are left as they are.
    """
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {k: escape_placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape_placeholders(v) for v in value]
    return value
