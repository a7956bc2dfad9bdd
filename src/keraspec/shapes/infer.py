"""Walk a program's graphs in order and give every node its output shapes and weights.

The walk needs no TensorFlow: each node's rule (``LAYER_RULES``/``OP_RULES``)
computes what Keras's ``compute_output_spec`` would. Errors are located at the
node; a node without a rule makes its outputs unknown, and nothing downstream of
it is checked (``--build`` checks it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .. import catalog
from ..diagnostics import Diagnostic, Location, Severity
from ..ir import (
    Call,
    GraphIR,
    InputDecl,
    KerasObject,
    Program,
    SharedLayer,
    TensorRef,
    tensor_refs,
)
from ..limits import DEFAULT, Limits, flag
from .registry import LAYER_RULES, OP_RULES, Inputs, Layer, NoRule, Result
from .tensor import UNKNOWN, Shape, ShapeError, Tensor, compatible, params, show

Owners = Mapping[Any, "int | None"]
# Layer classes whose build fixes the input rank (InputSpec(ndim=len(input_shape))).
FIXED_RANK = frozenset({"BatchNormalization", "GroupNormalization", "EinsumDense", "PReLU"})
BUILD = "`keraspec validate --build` checks it with Keras"
BUG = "a bug in keraspec: please report it; `keraspec validate --build` checks this node"
DTYPE_ALIASES = {"int": "int64"}  # what keras.Input makes of them
# Compute dtypes of the dtype policies a spec may name.
POLICY_DTYPES = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


@dataclass
class NodeShapes:
    """One node: what it returns, and the parameters it adds to the model."""

    id: str
    output: Any  # a Tensor, or a tuple of them
    params: int | None  # None: unknown; 0 for a shared layer's later calls
    shared_again: bool = False  # a shared layer (or model) already counted
    owners: Owners = field(default_factory=dict, repr=False, compare=False)  # whose weights

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        return self.output if isinstance(self.output, tuple) else (self.output,)


@dataclass
class GraphShapes:
    name: str
    inputs: dict[str, Tensor]
    nodes: dict[str, NodeShapes]
    outputs: tuple[Tensor, ...]
    # Who owns the weights this graph uses: ("layer", graph, node) or ("shared", name).
    owners: dict[Any, int | None] = field(default_factory=dict)

    @property
    def params(self) -> int | None:
        counts = list(self.owners.values())
        return None if None in counts else sum(counts)  # type: ignore[arg-type]


class TooBig(ShapeError):
    """A weight with more elements than ``Limits.max_tensor``: E602, not a shape error."""


@dataclass
class Inference:
    program: Program  # what was inferred
    graphs: dict[str, GraphShapes]
    main: GraphShapes
    diagnostics: list[Diagnostic]  # shape errors
    unchecked: list[Diagnostic]  # infos: nodes no rule covers


def infer(program: Program, limits: Limits = DEFAULT) -> Inference:
    """Shapes, dtypes and parameter counts of every node of ``program``.

    A model past ``limits.max_params``, or a tensor past ``limits.max_tensor``, is an
    error here, before Keras would allocate it.
    """
    return _Inferrer(program, limits).run()


class _Inferrer:
    def __init__(self, program: Program, limits: Limits = DEFAULT):
        self.program = program
        self.limits = limits
        self.counted: dict[Any, int] = {}  # weight owners of the whole program, once each
        self.total = 0  # their parameters
        self.over: set[str] = set()  # the limits already reported (each once)
        self.shared = {layer.name: layer for layer in program.layers}
        self.models = {g.name: g for g in program.submodels}
        self.graphs: dict[str, GraphShapes] = {}
        self.built: dict[str, tuple[tuple[Shape, ...], str, Tensor]] = {}
        self.diagnostics: list[Diagnostic] = []
        self.unchecked: list[Diagnostic] = []
        self.report = True
        self.borrowed: dict[Any, int | None] = {}  # owners of layers passed by name

    def run(self) -> Inference:
        for graph in self.program.submodels:
            self.graphs[graph.name] = self.graph(graph, {})
        main = self.graph(self.program.main, {})
        return Inference(self.program, self.graphs, main, self.diagnostics, self.unchecked)

    def graph(self, graph: GraphIR, given: Mapping[str, Tensor]) -> GraphShapes:
        inputs = {d.id: given.get(d.id) or declared(d) for d in graph.inputs}
        if self.report and not given:
            for decl in graph.inputs:
                self.check_size(decl.location, f"input `{decl.id}`", inputs[decl.id])
        env: dict[str, Any] = dict(inputs)
        result = GraphShapes(graph.name, inputs, {}, ())
        for call in graph.calls:
            node = self.node(call, env, result)
            result.nodes[call.id] = node
            env[call.id] = node.output
        result.outputs = tuple(
            self.output(env, ref, where)
            for (_, ref), where in zip(graph.outputs, graph.output_locations, strict=True)
        )
        # Keras leaves out of a model what no output depends on, weights included.
        used = contributing(graph)
        result.owners = {
            key: count
            for node in result.nodes.values()
            if node.id in used
            for key, count in node.owners.items()
        }
        return result

    def output(self, env: Mapping[str, Any], ref: TensorRef, where: Location) -> Tensor:
        try:
            return pick(env, ref)
        except ShapeError as e:
            self.diagnostics.append(Diagnostic.at(where, "E600", f"output {e.message}"))
            return UNKNOWN

    def node(self, call: Call, env: Mapping[str, Any], graph: GraphShapes) -> NodeShapes:
        node = self.shape_node(call, env, graph)
        if node.params is None and call.kind != "op":  # weights of unknown size
            node.owners = {("unknown", graph.name, call.id): None}
            graph.owners.update(node.owners)
        elif self.report:
            self.check_limits(call, node)
        return node

    def check_limits(self, call: Call, node: NodeShapes) -> None:
        """The model's parameters so far, and this node's outputs, against the limits."""
        for key, count in node.owners.items():
            if count and key not in self.counted:
                self.counted[key] = count
                self.total += count
        total, most = self.total, self.limits.max_params
        if total > most and "params" not in self.over:
            self.over.add("params")
            message = f"the model reaches {total:,} parameters here, more than the {most:,} allowed"
            self.limit_error(call, "E601", message, "max_params")
        who = f"node `{call.id}` ({_label(call, self.shared)})"
        for tensor in node.tensors:
            self.check_size(call.location, who, tensor)

    def check_size(self, where: Location, who: str, tensor: Any) -> None:
        if not isinstance(tensor, Tensor) or tensor.shape is None:
            return
        elements = math.prod(d or 1 for d in tensor.shape)  # None: one sample
        if elements > self.limits.max_tensor:
            message = (
                f"{who}: shape {show(tensor.shape)} has {elements:,} elements per sample, "
                f"more than the {self.limits.max_tensor:,} allowed"
            )
            self.diagnostics.append(Diagnostic.at(where, "E602", message, _raise("max_tensor")))

    def limit_error(self, call: Call, code: str, message: str, limit: str) -> None:
        message = f"node `{call.id}` ({_label(call, self.shared)}): {message}"
        self.diagnostics.append(Diagnostic.at(call.location, code, message, _raise(limit)))

    def shape_node(self, call: Call, env: Mapping[str, Any], graph: GraphShapes) -> NodeShapes:
        try:
            inputs = Inputs(resolve(call.args, env), resolve(call.kwargs, env), call.call)
            if not all_known(inputs.args) or not all_known(inputs.kwargs):
                return NodeShapes(call.id, UNKNOWN, None)
            return self.apply(call, inputs, graph)
        except NoRule as e:
            return self.no_rule(call, str(e))
        except TooBig as e:
            if self.report:
                self.limit_error(call, "E602", e.message, "max_tensor")
        except ShapeError as e:
            self.error(call, e)
        except Exception as e:  # a rule's bug must not cost the other checks
            self.info(call, "I601", f"shape rule failed ({type(e).__name__}: {e})", BUG)
        return NodeShapes(call.id, UNKNOWN, None)

    def apply(self, call: Call, inputs: Inputs, graph: GraphShapes) -> NodeShapes:
        if call.kind == "op":
            rule = OP_RULES.get(call.target)
            if rule is None:
                raise NoRule(f"ops.{call.target}")
            return NodeShapes(call.id, rule(inputs, call.config), 0)
        if call.kind == "model":
            return self.call_model(call, inputs, graph)
        if call.kind == "shared_layer":
            spec = self.shared[call.target]
            result = self.layer(spec.type, spec.config, inputs)
            self.check_shared(call.target, call.id, result, inputs)
            owners = {("shared", call.target): params(result.weights)}
            return owned(call.id, graph, result.outputs, owners)
        saved, self.borrowed = self.borrowed, {}
        try:
            result = self.layer(call.target, call.config, inputs)
            owners = {("layer", graph.name, call.id): params(result.weights), **self.borrowed}
        finally:
            self.borrowed = saved
        return owned(call.id, graph, result.outputs, owners)

    def layer(self, type_: str, config: Mapping[str, Any], inputs: Inputs) -> Result:
        rule = LAYER_RULES.get(type_)
        if rule is None:
            raise NoRule(type_)
        result = rule(self.make_layer(type_, config), inputs)
        result = result if isinstance(result, Result) else Result(result)
        for weight in result.weights:
            if (elements := math.prod(weight)) > self.limits.max_tensor:  # type: ignore[arg-type]
                raise TooBig(
                    f"its weight of shape {show(weight)} has {elements:,} elements, "
                    f"more than the {self.limits.max_tensor:,} allowed"
                )
        return result

    def make_layer(self, type_: str, config: Mapping[str, Any]) -> Layer:
        args = {**defaults(type_), **config}
        return Layer(type_, args, compute_dtype(args.get("dtype")), self.nested)

    def nested(self, value: Any, inputs: Inputs) -> Result:
        """A layer passed as an argument: a ``{type: ...}`` object, a shared layer or a model.

        A nested object's weights are its wrapper's; a shared layer or model passed by
        name keeps its own, which count once however many nodes use them.
        """
        if isinstance(value, KerasObject):
            return self.layer(value.type, value.config, inputs)
        if value in self.shared:
            spec = self.shared[value]
            result = self.layer(spec.type, spec.config, inputs)
            self.check_shared(value, "", result, inputs)
            self.borrowed[("shared", value)] = params(result.weights)
            return Result(result.outputs)
        sub = self.models[value]
        ran = self.rerun(sub, checked_model_inputs(sub, inputs))
        self.borrowed.update(self.graphs[value].owners)
        return Result(ran.outputs[0] if len(ran.outputs) == 1 else ran.outputs)

    def check_shared(self, name: str, node: str, result: Result, inputs: Inputs) -> None:
        """A shared layer's weights are made on its first call; later calls must fit them,
        and, for the classes whose build fixes it, have the same rank."""
        first = self.built.setdefault(name, (result.weights, node, inputs.first()))
        if first[0] != result.weights or self.rank_changed(name, first[2], inputs.first()):
            by = f" by node `{first[1]}`" if first[1] else ""
            raise ShapeError(
                f"shared layer `{name}` was built{by} for input {describe(first[2])}; "
                f"this call gives it {describe(inputs.first())}"
            )

    def rank_changed(self, name: str, before: Any, now: Any) -> bool:
        if self.shared[name].type not in FIXED_RANK or not isinstance(now, Tensor):
            return False
        return isinstance(before, Tensor) and before.rank != now.rank

    def call_model(self, call: Call, inputs: Inputs, graph: GraphShapes) -> NodeShapes:
        sub = self.models[call.target]
        given = checked_model_inputs(sub, inputs)
        own = self.graphs[sub.name]
        same = all(given[d.id] == own.inputs[d.id] for d in sub.inputs)
        ran = own if same else self.rerun(sub, given)
        outputs = ran.outputs[0] if len(ran.outputs) == 1 else ran.outputs
        return owned(call.id, graph, outputs, own.owners)

    def rerun(self, sub: GraphIR, given: Mapping[str, Tensor]) -> GraphShapes:
        """A sub-model called on more specific shapes than it declares, as Keras re-runs it.

        Its nodes were reported on its declared shapes already; what fails only on
        these shapes is an error of the call.
        """
        report, self.report = self.report, False
        saved, self.diagnostics = self.diagnostics, []
        try:
            ran = self.graph(sub, given)
            failed = self.diagnostics
        finally:
            self.report, self.diagnostics = report, saved
        if failed:
            shapes = ", ".join(show(t.shape) for t in given.values())
            raise ShapeError(f"model `{sub.name}` called on {shapes}: {failed[0].message}")
        return ran

    def no_rule(self, call: Call, what: str) -> NodeShapes:
        self.info(call, "I600", "shape not checked statically", BUILD, what)
        return NodeShapes(call.id, UNKNOWN, None)

    def info(self, call: Call, code: str, message: str, hint: str, what: str = "") -> None:
        if self.report:  # not while re-running a sub-model: its nodes were reported
            what = what or _label(call, self.shared)
            message = f"node `{call.id}` ({what}): {message}"
            self.unchecked.append(Diagnostic.at(call.location, code, message, hint, Severity.INFO))

    def error(self, call: Call, e: ShapeError) -> None:
        message = f"node `{call.id}` ({_label(call, self.shared)}): {e.message}"
        self.diagnostics.append(Diagnostic.at(call.location, "E600", message, e.hint))


def _raise(limit: str) -> str:
    return f"raise the limit with {flag(limit)} if the model is meant to be this big"


def owned(node: str, graph: GraphShapes, outputs: Any, owners: Owners) -> NodeShapes:
    """A node whose weights belong to ``owners``; weights the graph already has count once.

    Owners are leaves (a node's own layer, a shared layer), so a sub-model called
    twice, or reached both directly and inside another, counts once, as in Keras.
    A node all of whose weights were counted before is ``shared_again``.
    """
    counts = list(owners.values())
    total = None if None in counts else sum(counts)  # type: ignore[arg-type]
    new = [count for key, count in owners.items() if key not in graph.owners]
    again = total is not None and total > 0 and not any(new)
    graph.owners.update(owners)
    return NodeShapes(node, outputs, 0 if again else total, again, owners)


def contributing(graph: GraphIR) -> set[str]:
    """The nodes some output of ``graph`` depends on."""
    calls = {call.id: call for call in graph.calls}
    pending = [ref.node for _, ref in graph.outputs]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen or name not in calls:
            continue
        seen.add(name)
        call = calls[name]
        pending += [ref.node for ref in tensor_refs(call.args, call.kwargs)]
    return seen


def _label(call: Call, shared: Mapping[str, SharedLayer]) -> str:
    if call.kind == "new_layer":
        return call.target
    if call.kind == "op":
        return f"ops.{call.target}"
    if call.kind == "model":
        return f"model `{call.target}`"
    return f"shared {shared[call.target].type} `{call.target}`"


@cache
def defaults(layer_type: str) -> dict[str, Any]:
    """Every constructor argument of a layer class with its default (None if required)."""
    return {k: a.get("default") for k, a in catalog.layer_args(layer_type).items()}


def declared(decl: InputDecl) -> Tensor:
    dtype = DTYPE_ALIASES.get(decl.dtype, decl.dtype) or "float32"
    return Tensor((decl.batch_size, *decl.shape), dtype)


def compute_dtype(policy: Any) -> str | None:
    if policy is None:
        return "float32"
    if isinstance(policy, str):
        return POLICY_DTYPES.get(policy, policy)
    return None


def resolve(value: Any, env: Mapping[str, Any]) -> Any:
    if isinstance(value, TensorRef):
        return pick(env, value)
    if isinstance(value, tuple):
        return tuple(resolve(v, env) for v in value)
    if isinstance(value, Mapping):
        return {k: resolve(v, env) for k, v in value.items()}
    return value


def pick(env: Mapping[str, Any], ref: TensorRef) -> Tensor:
    """The tensor ``ref`` names; an index past a node's outputs is a shape error."""
    value = env[ref.node]
    if ref.index is None or value is UNKNOWN:
        return value
    outputs = value if isinstance(value, tuple) else (value,)
    if not 0 <= ref.index < len(outputs):
        count = f"{len(outputs)} output" + ("" if len(outputs) == 1 else "s")
        raise ShapeError(f"`{ref}`: `{ref.node}` returns {count}")
    return outputs[ref.index]


def all_known(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value.known
    if isinstance(value, tuple):
        return all(all_known(v) for v in value)
    if isinstance(value, Mapping):
        return all(all_known(v) for v in value.values())
    return True


def checked_model_inputs(sub: GraphIR, inputs: Inputs) -> dict[str, Tensor]:
    """A sub-model's inputs by name, checked against what it declares, and cast to
    the declared dtypes, as a Keras functional model converts its inputs."""
    given = model_inputs(sub, inputs)
    for decl in sub.inputs:
        have, want = given[decl.id], declared(decl)
        if not compatible(have.shape[1:], want.shape[1:]):  # type: ignore[index]
            raise ShapeError(
                f"input `{decl.id}` of model `{sub.name}` has shape {show(want.shape)}; "
                f"received {show(have.shape)}"
            )
        given[decl.id] = Tensor(have.shape, want.dtype)
    return given


def model_inputs(sub: GraphIR, inputs: Inputs) -> dict[str, Tensor]:
    """A sub-model's inputs by name, from a dict, a list in order, or one tensor."""
    first = inputs.first()
    names = [d.id for d in sub.inputs]
    if isinstance(first, Mapping):
        return dict(first)
    if isinstance(first, tuple):
        return dict(zip(names, first, strict=True))
    return {names[0]: first}


def describe(value: Any) -> str:
    if isinstance(value, Tensor):
        return show(value.shape)
    if isinstance(value, tuple):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    return repr(value)
