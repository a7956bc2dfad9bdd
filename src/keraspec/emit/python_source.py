"""Stage 4, emit: walk an ``ir.Program`` and write Python source that builds its model.

The source makes exactly the calls ``keras_model.py`` makes, in the functional style
of the Keras guides: one line per node, shared layers first, each sub-model its own
function. It only writes text, so it never imports Keras. Lines are laid out as
``ruff format`` lays them out (88 columns), so the output is ruff-clean as written.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import catalog
from ..ir import (
    Call,
    CompileIR,
    GraphIR,
    InputDecl,
    KerasObject,
    Program,
    SharedLayer,
    TensorRef,
    layer_types,
    tensor_refs,
)

WIDTH = 88  # ruff's default line length
INDENT = "    "
KERAS_MODULES = ("initializers", "regularizers", "constraints", "optimizers", "losses", "metrics")
# Layers whose first argument the Keras guides pass positionally: Dense(64), Dropout(0.5).
POSITIONAL_FIRST = {
    "Dense": "units",
    "Dropout": "rate",
    "Activation": "activation",
    "Conv1D": "filters",
    "Conv2D": "filters",
    "Conv3D": "filters",
    "LSTM": "units",
    "GRU": "units",
    "SimpleRNN": "units",
}
RESERVED = frozenset({"keras", "layers", "ops", "named", "build_model", "model"})
NAMED_HELPER = '''\
def named(result, name):
    """Name the op that made ``result`` after its node, as layers are named."""
    for tensor in result if isinstance(result, (list, tuple)) else [result]:
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            history.operation.name = name
    return result
'''


def to_source(program: Program) -> str:
    """The Python module that builds ``program``'s model, byte for byte the same each time."""
    return SourceWriter(program).module()


# Layout: an expression is text or a bracketed group, laid out flat when it fits.


@dataclass(frozen=True)
class Group:
    open: str  # `layers.Dense(`, `[`, `{`
    items: tuple[Any, ...]  # str or Group
    close: str
    trailer: str = ""  # text after the closing bracket: `(inputs)`
    is_tuple: bool = False  # one item gets a trailing comma


def flat(expr: Any) -> str:
    if isinstance(expr, str):
        return expr
    body = ", ".join(flat(item) for item in expr.items)
    if expr.is_tuple and len(expr.items) == 1:
        body += ","
    return f"{expr.open}{body}{expr.close}{expr.trailer}"


def layout(expr: Any, indent: str, prefix: str = "", suffix: str = "") -> str:
    """``prefix + expr + suffix`` at ``indent``, split one item a line where too long."""
    line = f"{indent}{prefix}{flat(expr)}{suffix}"
    if isinstance(expr, str) or len(line) <= WIDTH or not expr.items:
        return line
    inner = indent + INDENT
    items = [layout(item, inner, suffix=",") for item in expr.items]
    head = f"{indent}{prefix}{expr.open}"
    return "\n".join([head, *items, f"{indent}{expr.close}{expr.trailer}{suffix}"])


def literal(value: Any) -> Any:
    """A constant as Python source; tuples become lists, as ``ir.thaw`` makes them."""
    if isinstance(value, str):
        return string(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    if isinstance(value, Mapping):
        return Group("{", tuple(f"{string(k)}: {flat(literal(v))}" for k, v in value.items()), "}")
    if isinstance(value, (tuple, list)):
        return Group("[", tuple(literal(v) for v in value), "]")
    raise TypeError(f"cannot write {type(value).__name__} as Python source")


def string(text: str) -> str:
    """A string literal quoted as ruff format quotes it: double quotes unless they need escaping."""
    quoted = repr(text)
    if quoted.startswith("'") and '"' not in text:
        quoted = '"' + quoted[1:-1].replace("\\'", "'") + '"'
    return quoted


class Names:
    """Python identifiers for spec names: sanitized, unique, never a keyword or builtin."""

    def __init__(self, taken: set[str] | frozenset[str] = RESERVED):
        self.taken = set(taken)
        self.names: dict[str, str] = {}

    def add(self, key: str, name: str) -> str:
        base = re.sub(r"\W", "_", name) or "_"
        if base[0].isdigit():
            base = f"_{base}"
        if keyword.iskeyword(base) or keyword.issoftkeyword(base) or hasattr(builtins, base):
            base += "_"
        candidate, n = base, 2
        while candidate in self.taken:
            candidate, n = f"{base}_{n}", n + 1
        self.taken.add(candidate)
        self.names[key] = candidate
        return candidate

    def __getitem__(self, key: str) -> str:
        return self.names[key]


class SourceWriter:
    def __init__(self, program: Program):
        self.program = program
        self.graphs = {graph.name: graph for graph in program.submodels}
        # `import mypkg.layers` binds `mypkg`: no variable may take that name.
        custom_modules = {layer.module for layer in program.custom_layers.values()}
        self.custom_imports = [f"import {module}" for module in sorted(custom_modules)]
        self.functions = Names(RESERVED | {m.partition(".")[0] for m in custom_modules})
        for graph in program.submodels:
            self.functions.add(graph.name, graph.name)
        self.uses_ops = any(c.kind == "op" for g in self.all_graphs() for c in g.calls)
        self.uses_layers = bool(layer_types(program) - set(program.custom_layers))

    def all_graphs(self) -> list[GraphIR]:
        return [*self.program.submodels, self.program.main]

    def module(self) -> str:
        header = '"""A Keras model, written by `keraspec codegen`: build_model() returns it."""'
        imports = sorted({"import keras", *self.custom_imports})
        if self.uses_layers or self.uses_ops:
            used = [m for m, on in (("layers", self.uses_layers), ("ops", self.uses_ops)) if on]
            imports.append(f"from keras import {', '.join(used)}")
        parts = [header + "\n\n" + "\n".join(imports) + "\n"]
        if self.uses_ops:
            parts.append(NAMED_HELPER)
        parts += [self.submodel_function(graph) for graph in self.program.submodels]
        parts.append(self.build_function())
        main = 'if __name__ == "__main__":\n    build_model().summary()\n'
        return "\n\n".join([*parts, main])

    # Functions

    def dependencies(self, graph: GraphIR) -> list[str]:
        """The shared layers and sub-models ``graph`` uses, in order of first use."""
        found: dict[str, None] = {}
        for call in graph.calls:
            if call.kind in ("shared_layer", "model"):
                found[self.reference(call.target, call.kind == "model")] = None
            for arg, value in call.config.items():
                for name in self.layer_references(arg, value):
                    found[name] = None
        return list(found)

    def layer_references(self, arg: str, value: Any) -> list[str]:
        if isinstance(value, KerasObject):
            return [n for k, v in value.config.items() for n in self.layer_references(k, v)]
        if catalog.object_kind(arg) != "layers":
            return []
        if isinstance(value, tuple):
            return [n for v in value for n in self.layer_references(arg, v)]
        return [self.reference(value, value in self.graphs)] if isinstance(value, str) else []

    def reference(self, name: str, is_model: bool) -> str:
        """The key of a shared layer or sub-model in ``Names``; node ids are keys as they are."""
        return f"model:{name}" if is_model else f"layer:{name}"

    def submodel_function(self, graph: GraphIR) -> str:
        names = Names(RESERVED | set(self.functions.taken))
        params = [names.add(dep, variable(dep)) for dep in self.dependencies(graph)]
        signature = Group(
            f"def {self.functions[graph.name]}(", tuple(params), ")", " -> keras.Model:"
        )
        body = self.graph_body(graph, names)
        return layout(signature, "") + "\n" + body

    def build_function(self) -> str:
        names = Names(RESERVED | set(self.functions.taken))
        lines = ["def build_model() -> keras.Model:"]
        wrapping = [layer for layer in self.program.layers if self.wraps_a_model(layer)]
        for layer in [layer for layer in self.program.layers if layer not in wrapping]:
            lines.append(self.shared_layer(layer, names))
        for graph in self.program.submodels:
            var = names.add(f"model:{graph.name}", variable(f"model:{graph.name}"))
            args = tuple(names[dep] for dep in self.dependencies(graph))
            call = Group(f"{self.functions[graph.name]}(", args, ")")
            lines.append(layout(call, INDENT, f"{var} = "))
        lines += [self.shared_layer(layer, names) for layer in wrapping]
        body = self.graph_body(self.program.main, names, compiled=self.program.compile)
        return "\n".join(lines) + "\n" + body

    def wraps_a_model(self, layer: SharedLayer) -> bool:
        """A shared layer whose arguments name a sub-model: made after the sub-models."""
        refs = [r for k, v in layer.config.items() for r in self.layer_references(k, v)]
        return any(r.startswith("model:") for r in refs)

    def shared_layer(self, layer: SharedLayer, names: Names) -> str:
        var = names.add(f"layer:{layer.name}", variable(f"layer:{layer.name}"))
        return layout(self.layer(layer.type, layer.config, layer.name, names), INDENT, f"{var} = ")

    def graph_body(self, graph: GraphIR, names: Names, compiled: CompileIR | None = None) -> str:
        used = {ref.node for _, ref in graph.outputs} | {
            r.node for c in graph.calls for r in tensor_refs(c.args, c.kwargs)
        }
        lines = []
        for decl in graph.inputs:
            lines.append(layout(self.input(decl), INDENT, f"{names.add(decl.id, decl.id)} = "))
        for call in graph.calls:
            target = f"{names.add(call.id, call.id)} = " if call.id in used else ""
            lines.append(layout(self.call(call, names), INDENT, target))
        if compiled is None:
            lines.append(layout(self.model(graph, names), INDENT, "return "))
            return "\n".join(lines) + "\n"
        lines.append(layout(self.model(graph, names), INDENT, "model = "))
        lines.append(layout(self.compile(compiled, names), INDENT))
        lines.append(f"{INDENT}return model")
        return "\n".join(lines) + "\n"

    # Expressions

    def input(self, decl: InputDecl) -> Group:
        shape = (
            Group("(", tuple(repr(d) for d in decl.shape), ")", is_tuple=True)
            if decl.shape
            else "()"
        )
        args: list[Any] = [keyword_arg("shape", shape)]
        if decl.dtype is not None:
            args.append(keyword_arg("dtype", string(decl.dtype)))
        if decl.batch_size is not None:
            args.append(keyword_arg("batch_size", repr(decl.batch_size)))
        if decl.sparse:
            args.append("sparse=True")
        args.append(keyword_arg("name", string(decl.id)))
        return Group("keras.Input(", tuple(args), ")")

    def call(self, call: Call, names: Names) -> Any:
        args = [self.tensor(a, names) for a in call.args]
        args += [keyword_arg(k, self.tensor(v, names)) for k, v in call.kwargs.items()]
        if call.kind == "op":
            args += [keyword_arg(k, literal(v)) for k, v in call.config.items()]
            op = Group(f"ops.{call.target}(", tuple(args), ")")
            return Group("named(", (op, string(call.id)), ")")
        args += [keyword_arg(k, literal(v)) for k, v in call.call.items()]
        arguments = "(" + ", ".join(flat(a) for a in args) + ")"
        if call.kind in ("shared_layer", "model"):
            callee = names[self.reference(call.target, call.kind == "model")]
            return Group(f"{callee}(", tuple(args), ")")
        layer = self.layer(call.target, call.config, call.id, names)
        return Group(layer.open, layer.items, layer.close, arguments)

    def tensor(self, value: Any, names: Names) -> Any:
        if isinstance(value, TensorRef):
            return self.pick(value, names)
        if isinstance(value, tuple):
            return Group("[", tuple(self.tensor(v, names) for v in value), "]")
        if isinstance(value, Mapping):  # a sub-model's inputs by name
            items = tuple(f"{string(k)}: {flat(self.tensor(v, names))}" for k, v in value.items())
            return Group("{", items, "}")
        return literal(value)

    def pick(self, ref: TensorRef, names: Names) -> str:
        var = names[ref.node]
        if ref.index is None:
            return var
        keys = self.output_keys(ref.node)
        return f"{var}[{string(keys[ref.index]) if keys else ref.index}]"

    def output_keys(self, node: str) -> list[str]:
        """The output names of the sub-model ``node`` calls, if it returns a dict (in order)."""
        for graph in self.all_graphs():
            for call in graph.calls:
                if call.id == node and call.kind == "model":
                    callee = self.graphs[call.target]
                    return [key for key, _ in callee.outputs] if callee.named_outputs else []
        return []

    def layer(self, type_: str, config: Mapping[str, Any], name: str | None, names: Names) -> Group:
        items = dict(config)
        args = []
        first = POSITIONAL_FIRST.get(type_)
        if first in items:
            args.append(self.argument(first, items.pop(first), names))
        args += [keyword_arg(k, self.argument(k, v, names)) for k, v in items.items()]
        if name:
            args.append(keyword_arg("name", string(name)))
        custom = self.program.custom_layers.get(type_)
        callee = f"{custom.module}.{custom.attribute}" if custom else f"layers.{type_}"
        return Group(f"{callee}(", tuple(args), ")")

    def argument(self, arg: str, value: Any, names: Names) -> Any:
        if isinstance(value, KerasObject):
            return self.construct(value, names)
        if catalog.object_kind(arg) == "layers":
            if isinstance(value, tuple):  # RNN cells
                return Group("[", tuple(self.argument(arg, v, names) for v in value), "]")
            if isinstance(value, str):  # a sub-model's name first, as keras_model.py looks it up
                return names[self.reference(value, value in self.graphs)]
        return literal(value)

    def construct(self, obj: KerasObject, names: Names) -> Group:
        if obj.kind == "layers":
            return self.layer(obj.type, obj.config, None, names)
        args = tuple(keyword_arg(k, literal(v)) for k, v in obj.config.items())
        return Group(f"keras.{obj.kind}.{obj.type}(", args, ")")

    def objects(self, value: Any, names: Names) -> Any:
        if isinstance(value, KerasObject):
            return self.construct(value, names)
        if isinstance(value, Mapping):
            items = tuple(f"{string(k)}: {flat(self.objects(v, names))}" for k, v in value.items())
            return Group("{", items, "}")
        if isinstance(value, tuple):
            return Group("[", tuple(self.objects(v, names) for v in value), "]")
        return literal(value)

    def model(self, graph: GraphIR, names: Names) -> Group:
        inputs = [names[d.id] for d in graph.inputs]
        outputs = [self.pick(ref, names) for _, ref in graph.outputs]
        if graph.named_outputs:
            items = tuple(
                f"{string(k)}: {o}" for (k, _), o in zip(graph.outputs, outputs, strict=True)
            )
            result: Any = Group("{", items, "}")
        else:
            result = outputs[0] if len(outputs) == 1 else Group("[", tuple(outputs), "]")
        given = inputs[0] if len(inputs) == 1 else Group("[", tuple(inputs), "]")
        return Group("keras.Model(", (given, result, keyword_arg("name", string(graph.name))), ")")

    def compile(self, spec: CompileIR, names: Names) -> Group:
        args = [keyword_arg("optimizer", self.objects(spec.optimizer, names))]
        for arg, value in (("loss", spec.loss), ("metrics", spec.metrics)):
            if value is not None:
                args.append(keyword_arg(arg, self.objects(value, names)))
        if spec.loss_weights is not None:
            args.append(keyword_arg("loss_weights", literal(spec.loss_weights)))
        if spec.run_eagerly:
            args.append("run_eagerly=True")
        if spec.jit_compile != "auto":
            args.append(keyword_arg("jit_compile", literal(spec.jit_compile)))
        return Group("model.compile(", tuple(args), ")")


def variable(key: str) -> str:
    """The variable a shared layer (``layer:name``) or a sub-model (``model:name``) gets."""
    kind, _, name = key.partition(":")
    return f"{name}_model" if kind == "model" else name


def keyword_arg(name: str, value: Any) -> Any:
    if isinstance(value, str):
        return f"{name}={value}"
    return Group(f"{name}={value.open}", value.items, value.close, value.trailer, value.is_tuple)
