"""First step of expansion: params, ``${...}``, ``repeat``, blocks, ``when``, includes.

Nodes are emitted into flat graphs with ``Ref`` placeholders for their inputs;
``resolve.Resolver`` then turns each placeholder into the flat reference it
stands for. Every value copied keeps its position in the file that wrote it,
with the block uses it came through (``Src.via``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, Location, SpecError, did_you_mean
from ..expr import POISONED, ExprError, bounded, evaluate, kind, size
from ..limits import DEFAULT, Limits, flag
from ..loader import Document, SourceMap, load_file, paused_gc
from . import includes
from .estimate import smallest_expansion
from .resolve import Resolver
from .scope import (
    Alias,
    BlockDef,
    Concrete,
    DataPath,
    Dropped,
    Failed,
    GraphOut,
    Outputs,
    Ref,
    Scope,
    SpecFile,
    Src,
    names_of,
    single_input,
)

REQUIRED = "required"  # a block parameter without a default
BLOCK_KEYS = ("params", "inputs", "nodes", "outputs")
USE_KEYS = ("block", "with", "inputs", "repeat", "prefix", "when")
GRAPH_KEYS = ("inputs", "nodes", "outputs")
MAX_REPEAT = 10_000
# Steps of expansion: values copied, nodes and block copies made (dropped ones too).
# A spec can make work without making nodes (empty blocks, large shared values).
# At the default node limit, 1,000,000 steps: about 10 s at most, where a plain
# 100,000-node spec takes half.
WORK_PER_NODE = 10
BLOCK_COST = 10  # a block copy makes a scope and binds parameters: ten values' worth
MAX_BLOCK_DEPTH = 32  # blocks using blocks
PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}")
PREFIX = re.compile(r"[A-Za-z0-9_-]*")


class _TooBig(Exception):
    """Stops an expansion that passed the node limit or its work bound (reported once)."""


def needs_expansion(data: Any) -> bool:
    """Whether a loaded spec uses any composition feature (else it is already flat)."""
    if not isinstance(data, dict):
        return False
    if "params" in data or "blocks" in data:
        return True
    return any(_composes(v) for v in data.values())


def _composes(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        if any(k in value for k in ("repeat", "when", "block", "use", "with", "prefix")):
            return True
        return any(_composes(v) for v in value.values())
    if isinstance(value, list):
        return any(_composes(v) for v in value)
    return False


LIBRARY_KEYS = frozenset({"params", "blocks", "models", "description"})


def is_library(data: Any) -> bool:
    """A file of blocks (and params, models) for other specs to include: no `keraspec:`."""
    if not isinstance(data, dict) or "keraspec" in data:
        return False
    return bool(set(data) & {"blocks", "models"}) and set(data) <= LIBRARY_KEYS


def check_library(doc: Document) -> list[Diagnostic]:
    """What can be checked in a library on its own: its params and each block's shape.

    A block's body is checked where a spec uses it, with the parameters it gets there.
    """
    expander = Expander(doc, {})
    expander.root_params()
    for name in expander.root.section("blocks"):
        if isinstance(name, str):
            expander.definition(expander.root, name, [])
    return doc.diagnostics + expander.diagnostics


def expand(
    doc: Document, params: dict[str, Any] | None = None, limits: Limits = DEFAULT
) -> Document:
    """The flat document for ``doc``; errors are in its ``diagnostics``."""
    if not params and not needs_expansion(doc.data):
        _check_flat_size(doc, limits.max_nodes)
        return doc
    with paused_gc():  # its passes over expansion's many objects would cost more than it
        return Expander(doc, params or {}, limits).run()


class Expander:
    def __init__(self, doc: Document, overrides: dict[str, Any], limits: Limits = DEFAULT):
        self.root = SpecFile(doc)
        self.overrides = overrides
        self.limits = limits
        self.out = SourceMap(doc.source.file, doc.source.text)
        self.diagnostics: list[Diagnostic] = []
        self.reported: set[Diagnostic] = set()
        self.failed_at: set[Location] = set()  # values whose `${...}` failed (reported)
        # The params being evaluated, in order, and the index of the current one.
        self.param_order: tuple[list[Any], int] = ([], 0)
        self.unresolved: set[tuple[Any, ...]] = set()
        self.files: dict[Path, SpecFile] = {}
        self.included = 0  # files read through `use:`
        self.node_count = 0
        self.work = 0
        self.definitions: dict[tuple[int, str], BlockDef | None] = {}
        self.used: set[str] = set()  # file#name of every block reached through `use:`
        self.folder = includes.folder_of(doc.source.file)
        self.resolver = Resolver(self.error, self.failed)
        if not doc.source.file.startswith("<"):  # a spec that includes itself finds itself
            self.files[Path(doc.source.file).resolve()] = self.root

    def run(self) -> Document:
        data = self.root.doc.data
        env = self.root_params()
        flat: dict[Any, Any] = {}
        try:
            self.check_estimate()
            for key, value in data.items():
                src = self.root.src.at(key)
                self._record(src, (key,))
                if key in ("params", "blocks"):
                    continue
                if key == "models" and isinstance(value, dict):
                    flat[key] = self.models(value, src, self.root, env)
                elif key in GRAPH_KEYS:
                    flat[key] = None  # filled in below, in the key's place
                else:
                    flat[key] = self.copy(value, src, env, (key,))
            flat.update(self.graph(data, self.root.src, self.root, env, ()))
            self.check_unused_blocks()
        except _TooBig:  # nothing useful can be checked in a spec this size
            raise SpecError(self.root.doc.diagnostics + self.diagnostics) from None
        found = self.root.doc.diagnostics + self.diagnostics
        silenced = frozenset((w.file, w.line, w.column) for w in self.failed_at)
        return Document(flat, self.out, found, frozenset(self.unresolved), silenced)

    def check_estimate(self) -> None:
        """Refuse, before expanding, a spec sure to pass the node limit (nested repeats)."""
        estimate = smallest_expansion(self.root.doc.data, self.overrides)
        most = self.limits.max_nodes
        if estimate.nodes > most and estimate.largest is not None:
            src = self.root.src
            for part in estimate.largest:
                src = src.at(part)
            body = self.root.doc.data
            for part in estimate.largest:
                body = body[part]
            where = src.at("repeat").value() if "repeat" in body else src.key()
            message = (
                f"the spec would expand to at least {estimate.nodes:,} nodes, "
                f"more than the {most:,} allowed"
            )
            hint = f"lower a `repeat` count, or raise the limit with {flag('max_nodes')}"
            self.error(where, "E513", message, hint)
            raise _TooBig

    def check_unused_blocks(self) -> None:
        """Every block of the spec is checked, used or not; an unused one is a warning."""
        blocks = self.root.doc.data.get("blocks")
        src = self.root.src.at("blocks")
        if blocks is not None and not isinstance(blocks, dict):
            self.error(src.value(), "E511", "`blocks` must be a mapping of block names to blocks")
            return
        named = set(_block_names(self.root.doc.data))  # written in a node, even if repeated 0 times
        for name in blocks or {}:
            if not isinstance(name, str):
                self.error(
                    src.at(name).key(), "E511", f"a block name must be a string, not {name!r}"
                )
                continue
            if name in named or f"{self.root.doc.source.file}#{name}" in self.used:
                continue
            if self.definition(self.root, name, []) is not None:
                message = f"block `{name}` is never used"
                self.error(src.at(name).key(), "W520", message, "use it in a node, or remove it")

    def root_params(self) -> dict[str, Any]:
        declared = self.root.section("params")
        where = self.root.src.at("params")
        for name in self.overrides:
            if name not in declared:
                hint = did_you_mean(name, declared) or "declare it under `params:` first"
                message = f"`{name}` is set but the spec has no parameter `{name}`"
                at = where.key() if declared else self.root.src.value()
                self.error(at, "E500", message, hint)
        return self.file_params(self.root, self.overrides)

    def file_params(self, file: SpecFile, overrides: dict[str, Any] | None = None) -> dict:
        if file.env is None:
            declared = file.doc.data.get("params")
            src = file.src.at("params")
            env: dict[str, Any] = {}
            if declared is not None and not isinstance(declared, dict):
                self.error(src.value(), "E511", "`params` must be a mapping of names to values")
            names = list(declared) if isinstance(declared, dict) else []
            for i, name in enumerate(names):
                if overrides and name in overrides:
                    env[name] = overrides[name]
                elif declared[name] == REQUIRED and file is self.root:
                    message = f"parameter `{name}` is required"
                    hint = f"give it a value: --set {name}=VALUE, or params= in Python"
                    self.error(src.at(name).value(), "E500", message, hint)
                    env[str(name)] = POISONED
                else:  # a default may use the parameters before it
                    self.param_order = (names, i)
                    env[str(name)] = self.evaluated(declared[name], src.at(name), env)
            self.param_order = ([], 0)
            file.env = env
        return file.env

    def evaluated(self, value: Any, src: Src, env: dict[str, Any]) -> Any:
        """``value`` with its ``${...}`` evaluated, or ``POISONED`` if that failed.

        A poisoned parameter makes every expression that uses it fail silently: its
        own error is the one to fix, and it is reported once.
        """
        failures = len(self.failed_at)
        result = self.copy(value, src, env, None)
        return POISONED if len(self.failed_at) > failures else result

    def step(self, src: Src, cost: int = 1) -> None:
        """Units of expansion work; past WORK_PER_NODE steps per allowed node, E513."""
        self.work += cost
        if self.work > (most := WORK_PER_NODE * self.limits.max_nodes):
            message = f"expanding the spec takes more than {most:,} steps"
            hint = "values copied, nodes and block copies made; lower a `repeat` count"
            self.error(src.value(), "E513", message, hint)
            raise _TooBig

    def copy(self, value: Any, src: Src, env: dict[str, Any], out: DataPath | None) -> Any:
        """``value`` with every ``${...}`` evaluated; positions recorded under ``out``."""
        self.step(src)
        if out is not None:
            self._record(src, out)
        if isinstance(value, dict):
            return {
                k: self.copy(v, src.at(k), env, None if out is None else (*out, k))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [
                self.copy(v, src.at(i), env, None if out is None else (*out, i))
                for i, v in enumerate(value)
            ]
        if isinstance(value, str) and "$" in value:
            result = self.interpolate(value, src, env)
            if isinstance(result, list):  # a list parameter copied here: its size is work
                self.step(src, size(result))
            return result
        return value

    def _record(self, src: Src, out: DataPath) -> None:
        self.out.values[out] = src.value()
        if out:
            self.out.keys[out] = src.key()

    def interpolate(self, text: str, src: Src, env: dict[str, Any]) -> Any:
        """``${expr}`` alone keeps the value's type; inside a longer string it is text."""
        whole = PLACEHOLDER.fullmatch(text.strip())
        try:
            if whole and whole.group(1) is not None:
                return evaluate(whole.group(1), env)
            if "${" in PLACEHOLDER.sub("", text):
                raise ExprError(f"`{text}` opens `${{` without closing it", "write `${name}`")
            return bounded(PLACEHOLDER.sub(lambda m: self._piece(m, env), text))
        except ExprError as e:
            self.failed_at.add(src.value())
            if not e.reported:
                code = "E500" if e.unknown_name else "E501"
                hint = e.hint or _expr_hint(str(e))
                names, i = self.param_order
                if e.unknown_name in names[i + 1 :]:  # looked up only when reporting
                    hint = f"`{e.unknown_name}` is declared below; a default may use only those"
                    hint += " above it"
                self.error(src.value(), code, str(e), hint)
            return text

    @staticmethod
    def _piece(match: re.Match[str], env: dict[str, Any]) -> str:
        if match.group(0) == "$${":
            return "${"
        value = evaluate(match.group(1), env)
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (int, float, str)):
            return str(value)
        shown = "null" if value is None else type(value).__name__
        raise ExprError(
            f"`${{{match.group(1)}}}` is a {shown}; only numbers and strings go in text"
        )

    def count(self, body: dict[str, Any], src: Src, env: dict[str, Any]) -> int | None:
        """A node's ``repeat``: None when absent, else a count in [0, MAX_REPEAT]."""
        if "repeat" not in body:
            return None
        value = self.copy(body["repeat"], src.at("repeat"), env, None)
        if src.at("repeat").value() in self.failed_at:
            return 1  # its expression is reported already
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REPEAT:
            message = f"`repeat` must be a whole number from 0 to {MAX_REPEAT:,}; got {kind(value)}"
            hint = f"write `${{{value}}}`" if isinstance(value, str) and value in env else None
            self.error(src.at("repeat").value(), "E502", message, hint)
            return 1
        return value

    def kept(self, body: dict[str, Any], src: Src, env: dict[str, Any]) -> bool:
        if "when" not in body:
            return True
        value = self.copy(body["when"], src.at("when"), env, None)
        if src.at("when").value() in self.failed_at:
            return True  # its expression is reported already
        if not isinstance(value, bool):
            message = f"`when` must be true or false; got {kind(value)}"
            hint = "write a comparison: ${x > 1}"
            if isinstance(value, str) and value in env:
                hint = f"write `${{{value}}}` for the value of parameter `{value}`"
            elif isinstance(value, str) and value.lower() in ("true", "false"):
                hint = f"write {value.lower()} without quotes"
            self.error(src.at("when").value(), "E502", message, hint)
            return True
        return value

    def models(self, models: dict, src: Src, file: SpecFile, env: dict) -> dict:
        flat = {}
        for name, body in models.items():
            out = ("models", name)
            self._record(src.at(name), out)
            if isinstance(body, dict) and "use" in body:
                included = self.include_model(body, src.at(name), file, (), out)
                if included is None:  # reported; its uses are not judged again
                    self.unresolved.add(("models", name))
                else:
                    flat[name] = included
            elif isinstance(body, dict):
                others = {
                    k: self.copy(v, src.at(name, k), env, (*out, k))
                    for k, v in body.items()
                    if k not in GRAPH_KEYS  # left for the schema to judge
                }
                flat[name] = {**others, **self.graph(body, src.at(name), file, env, out)}
            else:
                flat[name] = body
        return flat

    def graph(self, data: dict, src: Src, file: SpecFile, env: dict, out: DataPath) -> dict:
        """A model's ``inputs``/``nodes``/``outputs`` with blocks and repeats expanded."""
        scope = Scope(file, env, GraphOut(out))
        result = {}
        if "inputs" in data:
            result["inputs"] = self.copy(data["inputs"], src.at("inputs"), env, (*out, "inputs"))
            if isinstance(result["inputs"], dict):
                names = [str(name) for name in result["inputs"]]
                scope.graph.inputs.update(names)
                scope.refs.update({name: Concrete(name) for name in names})
        nodes = data.get("nodes")
        if isinstance(nodes, dict):
            self._record(src.at("nodes"), (*out, "nodes"))
            self.nodes(nodes, src.at("nodes"), scope)
            for name, body in scope.graph.nodes.items():  # placeholders are only in `inputs`
                if isinstance(body, dict) and "inputs" in body:
                    body["inputs"] = self.settle(body["inputs"], (*out, "nodes", name, "inputs"))
            result["nodes"] = scope.graph.nodes
        elif "nodes" in data:
            result["nodes"] = self.copy(nodes, src.at("nodes"), env, (*out, "nodes"))
        if "outputs" in data:
            written = self.copy(data["outputs"], src.at("outputs"), env, (*out, "outputs"))
            result["outputs"] = self.resolver.materialize(
                self.refs(written, src.at("outputs"), scope)
            )
        return result

    def settle(self, value: Any, at: DataPath) -> Any:
        """A node's ``inputs`` with every ``Ref`` resolved and each item located anew.

        A reference that came through a block input is located where the block's use
        wrote it; items after a bare block-use name (which splices in several
        outputs) move along with their positions.
        """
        moved: dict[DataPath, Location] = {}
        found = self._settle(value, at, at, moved)
        self.out.values.update(moved)  # after: every read above saw the written places
        return found

    def _settle(
        self, value: Any, out: DataPath, written: DataPath, moved: dict[DataPath, Location]
    ) -> Any:
        if isinstance(value, Ref):
            found = self.resolver.resolve(value)
            moved[out] = self.resolver.written_at(value).src.value()
            return found
        if isinstance(value, dict):
            return {k: self._settle(v, (*out, k), (*written, k), moved) for k, v in value.items()}
        if not isinstance(value, list):
            if written in self.out.values:
                moved[out] = self.out.values[written]
            return value
        items: list[Any] = []
        for i, item in enumerate(value):
            found = self._settle(item, (*out, len(items)), (*written, i), moved)
            if isinstance(item, Ref) and isinstance(found, list):  # spliced in
                first = moved[(*out, len(items))]
                moved.update({(*out, len(items) + j): first for j in range(len(found))})
                items += found
            else:
                items.append(found)
        return items

    def nodes(self, nodes: dict, src: Src, scope: Scope) -> None:
        for name, body in nodes.items():
            self.node(str(name), body, src.at(name), scope)

    def node(self, name: str, body: Any, src: Src, scope: Scope) -> None:
        self.step(src)
        if not isinstance(body, dict):
            self.emit(scope.prefix + name, body, src, scope, scope.env)
            scope.refs[name] = Concrete(scope.prefix + name)
            return
        if not self.kept(body, src, scope.env):
            inputs = self.copy(body.get("inputs"), src.at("inputs"), scope.env, None)
            scope.refs[name] = Dropped(inputs, src, scope)
            return
        if "block" in body:
            self.use_block(name, body, src, scope)
            return
        for key in ("with", "prefix"):
            if key in body:
                message = f"`{key}` belongs to block uses; node `{name}` has no `block:`"
                self.error(src.at(key).key(), "E505", message)
        body = {k: v for k, v in body.items() if k not in ("with", "prefix")}
        repeat = self.count(body, src, scope.env)
        plain = {k: v for k, v in body.items() if k not in ("repeat", "when")}
        if repeat is None:
            self.emit(scope.prefix + name, plain, src, scope, scope.env)
            scope.refs[name] = Concrete(scope.prefix + name)
            return
        self.repeat_node(name, plain, repeat, src, scope)

    def repeat_node(self, name: str, body: dict, repeat: int, src: Src, scope: Scope) -> None:
        written = self.copy(body.get("inputs"), src.at("inputs"), scope.env, None)
        single = single_input(written)
        if single is None:
            message = f"`{name}` repeats, so it must take exactly one input"
            message += " (each copy feeds the next)"
            self.error(src.at("inputs").value(), "E505", message)
            scope.refs[name] = self.failed(name, scope)
            return
        first = Ref(scope, single, src.at("inputs"))
        if repeat == 0:  # the node disappears: its name stands for its input
            scope.refs[name] = Alias(first)
            return
        previous: Any = first
        for k in range(repeat):
            concrete = f"{scope.prefix}{name}_{k + 1}"
            env = {**scope.env, "i": k}
            copy = replace(src, via=src.used(f"in copy {k + 1} of {repeat} of node `{name}`"))
            self.emit(concrete, body, copy, scope, env, inputs=previous)
            previous = concrete
        scope.refs[name] = Concrete(previous)

    def emit(
        self,
        name: str,
        body: Any,
        src: Src,
        scope: Scope,
        env: dict[str, Any],
        inputs: Any = None,
    ) -> None:
        """Add one flat node to the graph being built."""
        graph = scope.graph
        self.node_count += 1
        if self.node_count > self.limits.max_nodes:
            message = f"the spec expands to more than {self.limits.max_nodes:,} nodes"
            hint = f"lower a `repeat` count, or raise the limit with {flag('max_nodes')}"
            self.error(src.key(), "E513", message, hint)
            raise _TooBig
        if name in graph.nodes or (name in graph.inputs and scope.prefix):
            first = graph.origins[name].key() if name in graph.nodes else None
            where = f"(first at {_place(first, src.key())})" if first else "(an input has it)"
            message = f"expanded node name `{name}` is made twice {where}"
            hint = "give the block use a different `prefix`, or rename one node"
            self.error(src.key(), "E507", message, hint)
            return
        out = (*graph.out_path, "nodes", name)
        self._record(src, out)
        if not isinstance(body, dict):
            graph.nodes[name] = self.copy(body, src, env, out)
            return
        flat = {}
        for key, value in body.items():
            if key == "inputs" and inputs is not None:
                self._record(src.at(key), (*out, key))
                flat[key] = inputs
            elif key == "inputs":
                written = self.copy(value, src.at(key), env, (*out, key))
                flat[key] = self.refs(written, src.at(key), scope)
            else:
                flat[key] = self.copy(value, src.at(key), env, (*out, key))
        graph.nodes[name] = flat
        graph.origins[name] = src

    def refs(self, value: Any, src: Src, scope: Scope) -> Any:
        """Strings in an ``inputs``/``outputs`` value turned into ``Ref`` placeholders."""
        if isinstance(value, str):
            return Ref(scope, value, src)
        if isinstance(value, list):
            return [self.refs(v, src.at(i), scope) for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: self.refs(v, src.at(k), scope) for k, v in value.items()}
        return value

    def failed(self, name: str, scope: Scope) -> Failed:
        placeholder = scope.prefix + name
        self.unresolved.add((scope.graph.out_path, placeholder))
        return Failed(placeholder)

    def use_block(self, name: str, body: dict, src: Src, scope: Scope) -> None:
        for key in body:
            if key not in USE_KEYS:
                hint = did_you_mean(str(key), USE_KEYS) or f"a block use has {_keys(USE_KEYS)}"
                self.error(src.at(key).key(), "E505", f"unknown key `{key}` in a block use", hint)
        found = self.find_block(body["block"], src.at("block"), scope)
        callers = found and self.block_inputs(name, body, src, scope, found[1])
        repeat = self.count(body, src, scope.env)
        if not found or callers is None:
            scope.refs[name] = self.failed(name, scope)
            return
        block_name, definition, home = found
        message = f"in block `{definition.name}` used by node `{name}`"
        via = src.used(message, block=definition.name, use=scope.prefix + name, repeat=repeat)
        definition = definition.seen_from(via)
        current: list[Ref] | None = callers
        for k in range(1 if repeat is None else repeat):
            self.step(src, BLOCK_COST + len(scope.env))
            env = scope.env if repeat is None else {**scope.env, "i": k}
            prefix = self.prefix(name, body, src, env, repeat, k, scope)
            inner = self.block_scope(definition, home, body, src, scope, env, prefix)
            if inner is None:
                break
            names = names_of(definition.value("inputs")) or []
            inner.refs.update({n: Alias(r) for n, r in zip(names, current, strict=True)})
            if isinstance(definition.data.get("nodes"), dict):
                self.nodes(definition.data["nodes"], definition.src.at("nodes"), inner)
            current = self.block_outputs(definition, inner)
            if current is None:
                break
            if repeat is not None and len(current) != len(callers):
                message = (
                    f"`repeat` feeds each copy of block `{block_name}` into the next, so its "
                    f"outputs ({len(current)}) must match its inputs ({len(callers)})"
                )
                self.error(src.at("repeat").value(), "E505", message)
                break
        else:
            one = len(current) == 1
            scope.refs[name] = Alias(current[0]) if one else Outputs(current, block_name)
            return
        scope.refs[name] = self.failed(name, scope)

    def block_outputs(self, definition: BlockDef, inner: Scope) -> list[Ref] | None:
        """The block's ``outputs``, evaluated in its scope: they may depend on its params."""
        at = definition.src.at("outputs")
        written = self.copy(definition.data.get("outputs"), at, inner.env, None)
        names = names_of(written)
        if names is None:
            message = f"block `{definition.name}` needs `outputs`: a name or a list of names"
            self.error(at.value(), "E511", message)
            return None
        return [
            Ref(inner, o, at if isinstance(written, str) else at.at(j)) for j, o in enumerate(names)
        ]

    def prefix(
        self, name: str, body: dict, src: Src, env: dict, repeat: int | None, k: int, scope: Scope
    ) -> str:
        value = None
        if "prefix" in body:
            value = self.copy(body["prefix"], src.at("prefix"), env, None)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # `prefix: ${i}`
            ok = isinstance(value, str) and PREFIX.fullmatch(value)
            starts_badly = ok and value and not scope.prefix and not value[0].isalpha()
            if not ok or (starts_badly and value[0] != "_"):
                message = f"`prefix` must be letters, digits, `_` and `-`; got {kind(value)}"
                hint = "at the top level it must start with a letter or `_`" if ok else None
                if isinstance(value, str) and "{" in value and "${" not in value:
                    hint = 'a value goes in as `${...}`: prefix: "block${i + 1}"'
                self.error(src.at("prefix").value(), "E505", message, hint)
                value = None  # named as if there were no prefix: no name clashes follow
        if value is None:
            value = name if repeat is None else f"{name}_{k + 1}"
        return f"{scope.prefix}{value}_" if value else scope.prefix

    def block_inputs(
        self, name: str, body: dict, src: Src, scope: Scope, definition: BlockDef
    ) -> list[Ref] | None:
        wanted = names_of(definition.value("inputs"))
        if wanted is None:
            return None
        written = self.copy(body.get("inputs"), src.at("inputs"), scope.env, None)
        if isinstance(written, dict):
            unknown = [k for k in written if k not in wanted]
            for key in unknown:
                hint = did_you_mean(str(key), wanted)
                message = f"block `{definition.name}` has no input `{key}`"
                self.error(src.at("inputs", key).key(), "E505", message, hint)
            missing = [w for w in wanted if w not in written]
            odd = [k for k in written if not isinstance(written[k], str)]
            for key in odd:
                message = f"input `{key}` of block `{definition.name}` must be a reference"
                self.error(src.at("inputs", key).value(), "E505", message)
            if unknown or missing or odd:
                if missing:
                    message = f"block `{definition.name}` needs input `{missing[0]}`"
                    self.error(src.at("inputs").key(), "E505", message)
                return None
            return [Ref(scope, written[w], src.at("inputs", w)) for w in wanted]
        given = [written] if isinstance(written, str) else written
        if not isinstance(given, list) or not all(isinstance(g, str) for g in given):
            message = "a block use's `inputs` is a reference, a list of them, or a mapping"
            self.error(src.at("inputs").value(), "E505", message)
            return None
        if len(given) != len(wanted):
            message = (
                f"block `{definition.name}` takes {len(wanted)} input(s) "
                f"({', '.join(wanted)}); `{name}` gives {len(given)}"
            )
            self.error(src.at("inputs").value(), "E505", message)
            return None
        return [
            Ref(scope, g, src.at("inputs") if isinstance(written, str) else src.at("inputs", i))
            for i, g in enumerate(given)
        ]

    def block_scope(
        self,
        definition: BlockDef,
        home: SpecFile,
        body: dict,
        src: Src,
        scope: Scope,
        env: dict,
        prefix: str,
    ) -> Scope | None:
        bound = self.bind(definition, home, body.get("with", {}), src, env)
        if bound is None:
            return None
        chain = (*scope.chain, definition.key)
        return Scope(home, bound, scope.graph, prefix, definition.name, chain)

    def bind(
        self, definition: BlockDef, home: SpecFile, written: Any, src: Src, env: dict
    ) -> dict | None:
        """The block's parameters: ``with`` values (in the caller's terms) over defaults."""
        declared = definition.value("params") or {}
        if not isinstance(written, dict):
            self.error(src.at("with").value(), "E505", "`with` must be a mapping of parameters")
            return None
        given = {k: self.evaluated(v, src.at("with", k), env) for k, v in written.items()}
        unknown = [key for key in given if key not in declared]
        for key in unknown:
            hint = did_you_mean(str(key), declared)
            message = f"block `{definition.name}` has no parameter `{key}`"
            self.error(src.at("with", key).key(), "E500", message, hint)
        ok = not unknown
        bound = dict(self.file_params(home))
        names = list(declared)
        for i, pname in enumerate(names):
            self.param_order = (names, i)
            default = declared[pname]
            if pname in given:
                bound[pname] = given[pname]
            elif default == REQUIRED and unknown:
                pass  # most likely the misspelled key: one mistake, one error
            elif default == REQUIRED:
                message = f"block `{definition.name}` needs parameter `{pname}`"
                hint = f"add `with: {{{pname}: ...}}`"
                self.error(src.at("block").value(), "E505", message, hint)
                ok = False
            else:
                bound[pname] = self.evaluated(default, definition.src.at("params", pname), bound)
        self.param_order = ([], 0)
        return bound if ok else None

    def find_block(self, written: Any, src: Src, scope: Scope) -> tuple | None:
        if not isinstance(written, str):
            self.error(src.value(), "E503", "`block` must be the name of a block")
            return None
        blocks = scope.file.section("blocks")
        if written not in blocks:
            hint = did_you_mean(written, blocks)
            where = f" in {self.relative(scope.file.doc.source.file)}"
            where = where if scope.file is not self.root else ""
            self.error(src.value(), "E503", f"no block named `{written}`{where}", hint)
            return None
        cached = (id(scope.file), written)
        if cached not in self.definitions:  # checked once, however many uses
            self.definitions[cached] = self.definition(scope.file, written, [])
        definition = self.definitions[cached]
        if definition is None:
            return None
        if len(scope.chain) >= MAX_BLOCK_DEPTH:
            message = f"blocks nest more than {MAX_BLOCK_DEPTH} deep here"
            self.error(src.value(), "E514", message, "a block that uses a block that uses …")
            return None
        if definition.key in scope.chain:
            names = [k.split("#")[-1] for k in (*scope.chain, definition.key)]
            start = names.index(definition.name)
            loop = " → ".join(names[start:])
            self.error(src.value(), "E504", f"block `{definition.name}` uses itself: {loop}")
            return None
        return written, definition, definition.home

    def definition(
        self, file: SpecFile, name: str, chain: list[str], origin: Src | None = None
    ) -> BlockDef | None:
        """Block ``name`` of ``file``, following ``use:`` into other files.

        ``chain`` lists the ``file#block`` entries followed so far; ``origin`` is the
        first ``use:`` of the chain, where a cycle is reported.
        """
        src = file.src.at("blocks", name)
        body = file.section("blocks")[name]
        key = f"{file.doc.source.file}#{name}"
        if key in chain:
            self.cycle(origin or src, [*chain, key])
            return None
        if chain:  # reached through a `use:`: the block it names is used too
            self.used.add(key)
        if not isinstance(body, dict):
            self.error(src.value(), "E511", f"block `{name}` must be a mapping")
            return None
        if "use" in body:
            target = self.include(body, src, file, len(chain))
            if target is None:
                return None
            included, target_name = target
            if target_name not in included.section("blocks"):
                hint = did_you_mean(target_name, included.section("blocks"))
                message = f"{self.relative(included.doc.source.file)} has no block `{target_name}`"
                self.error(src.at("use").value(), "E508", message, hint)
                return None
            return self.definition(included, target_name, [*chain, key], origin or src)
        if not self.well_formed(name, body, src):
            return None
        return BlockDef(name, body, src, file, key)

    def well_formed(self, name: str, body: dict, src: Src) -> bool:
        """Whether a block definition has the parts a use needs (reporting what is wrong)."""
        for k in body:
            if k not in BLOCK_KEYS:
                hint = did_you_mean(str(k), BLOCK_KEYS) or f"a block has {_keys(BLOCK_KEYS)}"
                self.error(src.at(k).key(), "E511", f"unknown key `{k}` in block `{name}`", hint)
        for part in ("inputs", "outputs"):
            if body.get(part) is None or (part == "inputs" and names_of(body[part]) is None):
                message = f"block `{name}` needs `{part}`: a name or a list of names"
                self.error(src.at(part).value(), "E511", message)
                return False
        for part in ("params", "nodes"):
            if not isinstance(body.get(part) or {}, dict):
                self.error(src.at(part).value(), "E511", f"`{part}` must be a mapping")
                return False
        inputs = names_of(body["inputs"])
        for node in body.get("nodes") or {}:
            if node in inputs:
                message = f"node `{node}` of block `{name}` has the name of one of its inputs"
                self.error(src.at("nodes", node).key(), "E511", message, "rename the node")
                return False
        return True

    def include(self, body: dict, src: Src, file: SpecFile, depth: int) -> tuple | None:
        """The file and entry name a ``use: path#name`` points at, confined to the folder."""
        written = body["use"]
        where = src.at("use").value()
        if extra := [k for k in body if k != "use"]:
            message = f"a `use:` entry holds only `use`; found `{extra[0]}`"
            self.error(src.at(extra[0]).key(), "E508", message)
        if not isinstance(written, str) or not written.split("#")[0]:
            self.error(where, "E508", "`use` must be `path/to/file.yaml#name`")
            return None
        path_text, _, entry = written.partition("#")
        entry = entry or str(src.path[-1])
        if depth >= self.limits.max_include_depth:
            message = f"includes nest deeper than {self.limits.max_include_depth} files"
            self.error(where, "E510", message)
            return None
        try:
            target = includes.locate(path_text, file.doc.source.file, self.folder)
        except includes.Refused as e:
            self.error(where, e.code, e.message, e.hint)
            return None
        if target not in self.files and self.included >= self.limits.max_includes:
            if self.included == self.limits.max_includes:  # reported once, where it happens
                message = f"the spec includes more than {self.limits.max_includes} files"
                self.error(where, "E510", message, f"raise the limit with {flag('max_includes')}")
                self.included += 1
            return None
        if target not in self.files:
            self.included += 1
            try:
                self.files[target] = SpecFile(load_file(includes.shown_path(target), self.limits))
            except SpecError as e:
                if any(d.code == "E001" for d in e.diagnostics):
                    self.error(where, "E508", f"cannot read `{path_text}`")
                else:
                    self.diagnostics += [
                        includes.with_include_note(d, where) for d in e.diagnostics
                    ]
                return None
            found = self.files[target].doc.diagnostics
            self.diagnostics += [includes.with_include_note(d, where) for d in found]
        return self.files[target], entry

    def include_model(
        self, body: dict, src: Src, file: SpecFile, chain: tuple, out: DataPath
    ) -> dict | None:
        target = self.include(body, src, file, len(chain))
        if target is None:
            return None
        included, entry = target
        models = included.section("models")
        key = f"{self.relative(included.doc.source.file)}#{entry}"
        env = self.file_params(included)
        if entry in models and isinstance(models[entry], dict):
            data, at = models[entry], included.src.at("models", entry)
        elif "#" not in body["use"] and isinstance(included.doc.data, dict):
            data, at = included.doc.data, included.src
        else:
            hint = did_you_mean(entry, models)
            message = f"{self.relative(included.doc.source.file)} has no model `{entry}`"
            self.error(src.at("use").value(), "E508", message, hint)
            return None
        if key in chain:
            self.cycle(src, [*chain, key])
            return None
        if "use" in data:
            return self.include_model(data, at, included, (*chain, key), out)
        if data is included.doc.data:  # a whole spec file: its graph becomes the model
            extra = [k for k in ("layers", "models", "blocks") if data.get(k)]
            if extra:
                message = f"{self.relative(included.doc.source.file)} has `{extra[0]}`; "
                message += "an included model brings only its inputs, nodes and outputs"
                self.error(src.at("use").value(), "E508", message)
                return None
            data = {k: data[k] for k in ("inputs", "nodes", "outputs") if k in data}
        via = src.used(f"in model `{out[-1]}` included")
        return self.graph(data, replace(at, via=via), included, env, out)

    def cycle(self, src: Src, chain: list[str]) -> None:
        start = chain.index(chain[-1])
        loop = " → ".join(self.shown(key) for key in chain[start:])
        self.error(src.at("use").value(), "E510", f"include cycle: {loop}")

    def shown(self, key: str) -> str:
        """``file#name`` with the file relative to the spec's folder."""
        path, _, name = key.partition("#")
        return f"{self.relative(path)}#{name}"

    def relative(self, file: str) -> str:
        return includes.relative(file, self.folder)

    def error(self, where: Location, code: str, message: str, hint: str | None = None) -> None:
        found = Diagnostic.at(where, code, message, hint)
        if found not in self.reported:
            self.reported.add(found)
            self.diagnostics.append(found)


def _check_flat_size(doc: Document, most: int) -> None:
    """A spec with nothing to expand is held to the node limit too (E513 at the first
    node past it): a 10 MiB file can hold 200,000 nodes."""
    data = doc.data
    models = data.get("models") if isinstance(data.get("models"), dict) else {}
    graphs = [((), data), *((("models", name), m) for name, m in models.items())]
    count = 0
    for prefix, graph in graphs:
        nodes = graph.get("nodes") if isinstance(graph, dict) else None
        for name in nodes if isinstance(nodes, dict) else ():
            count += 1
            if count > most:
                message = f"the spec has more than {most:,} nodes"
                hint = f"raise the limit with {flag('max_nodes')}"
                where = doc.source.key((*prefix, "nodes", name))
                raise SpecError([Diagnostic.at(where, "E513", message, hint)])


def _place(first: Location, second: Location) -> str:
    """``line N``, or ``FILE:N`` when the two places are in different files."""
    return f"line {first.line}" if first.file == second.file else f"{first.file}:{first.line}"


def _block_names(value: Any) -> Iterator[str]:
    """Every ``block:`` name written in a node, anywhere in a spec's data."""
    if isinstance(value, dict):
        if isinstance(value.get("block"), str):
            yield value["block"]
        for item in value.values():
            yield from _block_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _block_names(item)


def _keys(keys: tuple[str, ...]) -> str:
    return ", ".join(f"`{k}`" for k in keys)


def _expr_hint(message: str) -> str | None:
    if "is not allowed" in message or "functions allowed" in message:
        return "expressions allow arithmetic, comparisons, and/or/not, `a if c else b`, [i]"
    return None
