"""Stage 2, schema: the shape of a spec as Pydantic models (``extra="forbid"`` throughout).

The schema checks structure only: which keys exist and what kind of value each
holds. Whether a layer type or argument exists is the catalog check's job; whether
references resolve is the graph's. docs/spec-format.md describes the same format.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StrictInt,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
REFERENCE_PATTERN = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_-]*)(?:\[(?P<index>[0-9]+)\])?")
NODE_KINDS = ("type", "layer", "model", "op")


def _check_name(value: str) -> str:
    if not NAME_PATTERN.fullmatch(value):
        raise ValueError(
            f"`{value}` is not a valid name: use letters, digits, `_` and `-`, "
            "starting with a letter or `_`"
        )
    return value


def _check_reference(value: str) -> str:
    if not REFERENCE_PATTERN.fullmatch(value):
        raise ValueError(f"`{value}` is not a valid reference: write `name` or `name[index]`")
    return value


Name = Annotated[str, AfterValidator(_check_name)]
Reference = Annotated[str, AfterValidator(_check_reference)]


# Validation context for data read from a spec file (see _split_args).
YAML_CONTEXT = {"yaml": True}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _split_args(data: Any, own_keys: tuple[str, ...], info: ValidationInfo) -> Any:
    """Move every key that is not one of ``own_keys`` into ``args``.

    From YAML (validation context ``{"yaml": True}``) that is the whole rule. From
    Python, data already in model form (``{"type": ..., "args": {...}}``) passes through.
    """
    if not isinstance(data, dict):
        return data
    extras = {k: v for k, v in data.items() if k not in own_keys}
    from_yaml = bool(info.context and info.context.get("yaml"))
    if not from_yaml and isinstance(data.get("args"), dict):
        return data  # model form, e.g. from model_dump()
    own = {k: v for k, v in data.items() if k in own_keys}
    return {**own, "args": extras}


class ObjectSpec(Strict):
    """A Keras object by class name plus its arguments: ``{type: Adam, learning_rate: 1e-3}``."""

    type: str
    args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_args(cls, data: Any, info: ValidationInfo) -> Any:
        return _split_args(data, ("type",), info)

    @classmethod
    def from_yaml(cls, value: Any) -> ObjectSpec:
        """A nested ``{type: ..., ...}`` value from a spec; ``ValueError`` says what is wrong."""
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise ValueError("expected a mapping with a string `type`")
        odd = [k for k in value if not isinstance(k, str)]
        if odd:
            raise ValueError(f"argument names must be strings; got {odd[0]!r}")
        return cls.model_validate(value, context=YAML_CONTEXT)


def _name_or_object(value: Any) -> str:
    return "object" if isinstance(value, (dict, ObjectSpec)) else "name"


# A Keras name (`adam`) or an object (`{type: Adam, ...}`); tagged so that errors
# speak about the form the user wrote, not about both.
NamedObject = Annotated[
    Annotated[str, Tag("name")] | Annotated[ObjectSpec, Tag("object")],
    Discriminator(_name_or_object),
]


# `true` is not a dimension: YAML booleans must not pass as 1.
Dimension = Annotated[StrictInt, Field(gt=0)]


class InputSpec(Strict):
    """A model input: ``{shape: [None, 64], dtype: int32}``; ``None`` marks a variable dimension."""

    shape: tuple[Dimension | None, ...]
    dtype: str | None = None
    batch_size: Dimension | None = None
    sparse: bool = False


class Node(Strict):
    """One call in the graph: a layer, a shared layer, a sub-model or a ``keras.ops`` function.

    Exactly one of ``type``, ``layer``, ``model`` or ``op`` says what is called. With
    ``type`` or ``op`` the other keys are constructor (or op) arguments and end up in
    ``args``. On a ``type`` node ``layer`` is an argument (``Bidirectional``'s layer).
    """

    type: str | None = None
    layer: str | None = None
    model: str | None = None
    op: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    inputs: Any
    call: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_args(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        kinds = [k for k in NODE_KINDS if data.get(k) is not None]
        if data.get("type") is not None:
            kinds = ["type"]
        if len(kinds) != 1:
            found = " and ".join(f"`{k}`" for k in kinds) or "none of them"
            raise ValueError(
                f"a node needs exactly one of `type`, `layer`, `model` or `op`; found {found}"
            )
        return _split_args(data, (kinds[0], "inputs", "call"), info)

    @field_validator("inputs")
    @classmethod
    def _check_inputs(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("a node needs `inputs`: a reference, a list, or a mapping")
        _check_tensor_args(value, top=True)
        return value

    @property
    def kind(self) -> str:
        # Spelled out, not a loop: every stage asks every node, some stages many times.
        if self.type is not None:
            return "type"
        if self.layer is not None:
            return "layer"
        return "model" if self.model is not None else "op"

    @property
    def target(self) -> str:
        """What the node calls: a layer class, shared-layer key, model key or op name."""
        return getattr(self, self.kind)


def _check_tensor_args(value: Any, top: bool = False) -> None:
    if isinstance(value, str):
        _check_reference(value)
    elif isinstance(value, list):
        for item in value:
            _check_tensor_args(item)
    elif isinstance(value, dict) and top:
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"keyword input names must be strings, got {key!r}")
            _check_tensor_args(item)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"inputs are references (`name`, `name[1]`), lists of them, or numbers; got {value!r}"
        )


class Graph(Strict):
    """What a model and a sub-model share: inputs, nodes, outputs."""

    inputs: dict[Name, InputSpec] = Field(min_length=1)
    nodes: dict[Name, Node] = Field(default_factory=dict)
    outputs: Annotated[
        Annotated[list[Reference], Tag("list")] | Annotated[dict[Name, Reference], Tag("map")],
        Discriminator(lambda v: "map" if isinstance(v, dict) else "list"),
    ]

    @field_validator("outputs", mode="before")
    @classmethod
    def _one_output(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value  # `outputs: d` is `[d]`

    @field_validator("outputs")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if not value:
            raise ValueError("a model needs at least one output")
        return value

    def output_items(self) -> list[tuple[str, str]]:
        """``(output key, reference)`` pairs; a list's keys are the references' names."""
        if isinstance(self.outputs, dict):
            return list(self.outputs.items())
        return [(REFERENCE_PATTERN.fullmatch(r)["name"], r) for r in self.outputs]


class SubModel(Graph):
    """A model defined once and called like a layer (weights shared between calls)."""


def _loss_form(value: Any) -> str:
    if isinstance(value, ObjectSpec):  # when serializing
        return "object"
    if isinstance(value, dict):
        return "object" if "type" in value else "per_output"
    return "list" if isinstance(value, list) else "name"


# A mapping with `type` is one loss object; any other mapping is per output name.
Loss = Annotated[
    Annotated[str, Tag("name")]
    | Annotated[ObjectSpec, Tag("object")]
    | Annotated[list[NamedObject], Tag("list")]
    | Annotated[dict[str, NamedObject], Tag("per_output")],
    Discriminator(_loss_form),
]


class CompileSpec(Strict):
    optimizer: NamedObject = "rmsprop"
    loss: Loss | None = None
    loss_weights: list[float] | dict[str, float] | None = None
    metrics: list[NamedObject] | dict[str, NamedObject | list[NamedObject]] | None = None
    run_eagerly: bool = False
    jit_compile: bool | Literal["auto"] = "auto"


# `keraspec fit`: how to train (docs/training.md). Which callbacks and arguments
# exist, and which paths they may write, is training_check.py's job.
Count = Annotated[StrictInt, Field(gt=0)]
STRATEGIES = ("default", "mirrored", "multi_worker", "tpu", "parameter_server")


class FitSpec(Strict):
    """``model.fit`` arguments: ``{epochs: 10, batch_size: 32, callbacks: [...]}``.

    ``batch_size`` is global: under a distribution strategy it is split across replicas.
    """

    epochs: Count = 1
    batch_size: Count = 32
    validation_split: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    shuffle: bool = True
    callbacks: list[NamedObject] = Field(default_factory=list)


class DistributeSpec(Strict):
    """A ``tf.distribute`` strategy by name; ``devices`` only for ``mirrored``."""

    strategy: Literal[STRATEGIES] = "default"  # type: ignore[valid-type]
    devices: list[str] | None = None


class Spec(Graph):
    """A whole spec file, format version 1."""

    keraspec: Literal[1]
    name: Name
    description: str | None = None
    layers: dict[Name, ObjectSpec] = Field(default_factory=dict)
    models: dict[Name, SubModel] = Field(default_factory=dict)
    compile: CompileSpec | None = None
    fit: FitSpec | None = None
    distribute: DistributeSpec | None = None
    # Where the spec was read from (a loader.SourceMap); not part of what it says.
    _source: Any = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    def graphs(self) -> list[tuple[tuple[str, ...], Graph]]:
        """The spec and each sub-model with its path prefix: ``()``, ``("models", name)``."""
        return [((), self), *((("models", name), m) for name, m in self.models.items())]

    def layer_type(self, node: Node) -> str | None:
        """The Keras layer class a node calls: its own ``type`` or its shared layer's."""
        if node.kind == "type":
            return node.type
        if node.kind == "layer" and node.layer in self.layers:
            return self.layers[node.layer].type
        return None


# Key order when a spec is written back out (see dump.py).
SPEC_KEY_ORDER = (
    "keraspec",
    "name",
    "description",
    "inputs",
    "layers",
    "models",
    "nodes",
    "outputs",
    "compile",
    "fit",
    "distribute",
)
