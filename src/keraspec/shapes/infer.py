"""Walk a program's graphs in order and give every node its output shapes and weights.

The walk needs no TensorFlow: each node's rule (``LAYER_RULES``/``OP_RULES``)
computes what Keras's ``compute_output_spec`` would. Errors are located at the
node; a node without a rule makes its outputs unknown, and nothing downstream of
it is checked (``--build`` checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import catalog
from ..diagnostics import Diagnostic, Severity
from ..ir import Call, GraphIR, InputDecl, KerasObject, Program, SharedLayer, TensorRef
from .registry import LAYER_RULES, OP_RULES, Inputs, Layer, NoRule, Result
from .tensor import UNKNOWN, Shape, ShapeError, Tensor, compatible, params, show

# Compute dtypes of the dtype policies a spec may name.
POLICY_DTYPES = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


@dataclass
class NodeShapes:
    """One node: what it returns, and the parameters it adds to the model."""

    id: str
    output: Any  # a Tensor, or a tuple of them
    params: int | None  # None: unknown; 0 for a shared layer's later calls
    shared_again: bool = False  # a shared layer (or model) already counted

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        return self.output if isinstance(self.output, tuple) else (self.output,)


@dataclass
class GraphShapes:
    name: str
    inputs: dict[str, Tensor]
    nodes: dict[str, NodeShapes]
    outputs: tuple[Tensor, ...]
    owners: dict[Any, int | None] = field(default_factory=dict)  # weight owner → params

    @property
    def params(self) -> int | None:
        counts = list(self.owners.values())
        return None if None in counts else sum(counts)  # type: ignore[arg-type]


@dataclass
class Inference:
    graphs: dict[str, GraphShapes]
    main: GraphShapes
    diagnostics: list[Diagnostic]  # shape errors
    unchecked: list[Diagnostic]  # infos: nodes no rule covers


def infer(program: Program) -> Inference:
    """Shapes, dtypes and parameter counts of every node of ``program``."""
    return _Inferrer(program).run()


class _Inferrer:
    def __init__(self, program: Program):
        self.program = program
        self.shared = {layer.name: layer for layer in program.layers}
        self.models = {g.name: g for g in program.submodels}
        self.graphs: dict[str, GraphShapes] = {}
        self.built: dict[str, tuple[tuple[Shape, ...], str, Tensor]] = {}
        self.diagnostics: list[Diagnostic] = []
        self.unchecked: list[Diagnostic] = []
        self.report = True

    def run(self) -> Inference:
        for graph in self.program.submodels:
            self.graphs[graph.name] = self.graph(graph, {})
        main = self.graph(self.program.main, {})
        return Inference(self.graphs, main, self.diagnostics, self.unchecked)

    def graph(self, graph: GraphIR, given: Mapping[str, Tensor]) -> GraphShapes:
        inputs = {d.id: given.get(d.id) or declared(d) for d in graph.inputs}
        env: dict[str, Any] = dict(inputs)
        result = GraphShapes(graph.name, inputs, {}, ())
        for call in graph.calls:
            node = self.node(call, env, result)
            result.nodes[call.id] = node
            env[call.id] = node.output
        result.outputs = tuple(pick(env, ref) for _, ref in graph.outputs)
        return result

    def node(self, call: Call, env: Mapping[str, Any], graph: GraphShapes) -> NodeShapes:
        inputs = Inputs(resolve(call.args, env), resolve(call.kwargs, env), call.call)
        if not all_known(inputs.args) or not all_known(inputs.kwargs):
            return NodeShapes(call.id, UNKNOWN, None)
        try:
            return self.apply(call, inputs, graph)
        except ShapeError as e:
            self.error(call, e)
            return NodeShapes(call.id, UNKNOWN, None)

    def apply(self, call: Call, inputs: Inputs, graph: GraphShapes) -> NodeShapes:
        try:
            return self.apply_rule(call, inputs, graph)
        except NoRule as e:
            return self.no_rule(call, str(e))

    def apply_rule(self, call: Call, inputs: Inputs, graph: GraphShapes) -> NodeShapes:
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
            again = ("shared", call.target) in graph.owners or call.target in self.built
            self.check_shared(call, spec, result, inputs)
            count = params(result.weights)
            graph.owners[("shared", call.target)] = count
            return NodeShapes(call.id, result.outputs, 0 if again else count, again)
        result = self.layer(call.target, call.config, inputs)
        graph.owners[("layer", call.id)] = params(result.weights)
        return NodeShapes(call.id, result.outputs, params(result.weights))

    def layer(self, type_: str, config: Mapping[str, Any], inputs: Inputs) -> Result:
        rule = LAYER_RULES.get(type_)
        if rule is None:
            raise NoRule(type_)
        result = rule(self.make_layer(type_, config), inputs)
        return result if isinstance(result, Result) else Result(result)

    def make_layer(self, type_: str, config: Mapping[str, Any]) -> Layer:
        defaults = {k: a.get("default") for k, a in catalog.layer_args(type_).items()}
        args = {**defaults, **config}
        return Layer(type_, args, compute_dtype(args.get("dtype")), self.nested)

    def nested(self, value: Any, inputs: Inputs) -> Result:
        """A layer passed as an argument: a ``{type: ...}`` object, a shared layer or a model."""
        if isinstance(value, KerasObject):
            return self.layer(value.type, value.config, inputs)
        if value in self.shared:
            spec = self.shared[value]
            return self.layer(spec.type, spec.config, inputs)
        sub = self.models[value]
        ran = self.rerun(sub, model_inputs(sub, inputs))
        outputs = ran.outputs[0] if len(ran.outputs) == 1 else ran.outputs
        return Result(outputs, ((self.graphs[value].params or 0),))

    def check_shared(self, call: Call, spec: SharedLayer, result: Result, inputs: Inputs) -> None:
        """A shared layer's weights are made on its first call; later calls must fit them."""
        first = self.built.setdefault(call.target, (result.weights, call.id, inputs.first()))
        if first[0] != result.weights:
            raise ShapeError(
                f"shared layer `{call.target}` was built by node `{first[1]}` for input "
                f"{describe(first[2])}; this call gives it {describe(inputs.first())}"
            )

    def call_model(self, call: Call, inputs: Inputs, graph: GraphShapes) -> NodeShapes:
        sub = self.models[call.target]
        given = model_inputs(sub, inputs)
        for decl in sub.inputs:
            have, want = given[decl.id], declared(decl)
            if not compatible(have.shape[1:], want.shape[1:]):  # type: ignore[index]
                raise ShapeError(
                    f"input `{decl.id}` of model `{sub.name}` has shape {show(want.shape)}; "
                    f"received {show(have.shape)}"
                )
        own = self.graphs[sub.name]
        again = ("model", sub.name) in graph.owners
        graph.owners[("model", sub.name)] = own.params
        for owner, count in own.owners.items():  # shared layers the sub-model calls
            if owner[0] == "shared":
                graph.owners[owner] = count
        same = all(given[d.id] == own.inputs[d.id] for d in sub.inputs)
        ran = own if same else self.rerun(sub, given)
        outputs = ran.outputs[0] if len(ran.outputs) == 1 else ran.outputs
        return NodeShapes(call.id, outputs, 0 if again else own.params, again)

    def rerun(self, sub: GraphIR, given: Mapping[str, Tensor]) -> GraphShapes:
        """A sub-model called on more specific shapes than it declares, as Keras re-runs it."""
        report, self.report = self.report, False
        try:
            return self.graph(sub, given)
        finally:
            self.report = report

    def no_rule(self, call: Call, what: str) -> NodeShapes:
        if self.report:
            self.unchecked.append(
                Diagnostic.at(
                    call.location,
                    "I600",
                    f"node `{call.id}` ({what}): shape not checked statically",
                    "`keraspec validate --build` checks it with Keras",
                    severity=Severity.INFO,
                )
            )
        return NodeShapes(call.id, UNKNOWN, None)

    def error(self, call: Call, e: ShapeError) -> None:
        if self.report:
            label = call.target if call.kind == "new_layer" else _label(call, self.shared)
            message = f"node `{call.id}` ({label}): {e.message}"
            self.diagnostics.append(Diagnostic.at(call.location, "E600", message, e.hint))


def _label(call: Call, shared: Mapping[str, SharedLayer]) -> str:
    if call.kind == "op":
        return f"ops.{call.target}"
    if call.kind == "model":
        return f"model `{call.target}`"
    return f"shared {shared[call.target].type} `{call.target}`"


def declared(decl: InputDecl) -> Tensor:
    return Tensor((decl.batch_size, *decl.shape), decl.dtype or "float32")


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
    value = env[ref.node]
    if ref.index is None or value is UNKNOWN:
        return value
    return value[ref.index]


def all_known(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value.known
    if isinstance(value, tuple):
        return all(all_known(v) for v in value)
    if isinstance(value, Mapping):
        return all(all_known(v) for v in value.values())
    return True


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
