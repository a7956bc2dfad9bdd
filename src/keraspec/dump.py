"""Spec → YAML text, in the same format the loader reads (``loads(dumps(s)) == s``)."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel

from .schema import SPEC_KEY_ORDER, Node, ObjectSpec, Spec


def dumps(spec: Spec) -> str:
    data = to_data(spec)
    ordered = {key: data[key] for key in SPEC_KEY_ORDER if key in data}
    return yaml.safe_dump(
        ordered, sort_keys=False, default_flow_style=None, allow_unicode=True, width=100
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
