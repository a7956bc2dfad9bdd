"""Second step of expansion: every ``Ref`` placeholder → the flat reference it stands for.

Aliases (block inputs and outputs, dropped and zero-times repeated nodes) are
followed in a loop, not by recursion, so long chains cost no stack.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..diagnostics import Location, did_you_mean
from .scope import Alias, Concrete, Dropped, Failed, Outputs, Ref, Scope, indexed, single_input

LOCAL_REFERENCE = re.compile(r"(?P<name>[A-Za-z0-9_][A-Za-z0-9_-]*)(?:\[(?P<index>[0-9]+)\])?")


MAX_TENSORS = 1_000  # tensors one reference may stand for (all of a block's outputs)
MAX_NESTING = 64  # block outputs standing for block outputs, unindexed


class Resolver:
    """Resolves references, reporting through the expander's ``error`` and ``failed``.

    Every reference resolved is remembered, so references that share a chain of
    aliases cost one walk of it, not one each.
    """

    def __init__(
        self,
        error: Callable[[Location, str, str, str | None], None],
        failed: Callable[[str, Scope], Failed],
    ):
        self.error = error
        self.failed = failed
        # id(Ref) → (the Ref, what it stands for, where that was written in the outermost
        # scope on the way); the Ref is kept so that its id stays its own.
        self.memo: dict[int, tuple[Ref, str | list[str], Ref]] = {}
        self.active: set[int] = set()  # targets being resolved (a loop through outputs)
        self.depth = 0
        self.too_many = False

    def materialize(self, value: Any) -> Any:
        """``value`` with every ``Ref`` resolved; all of a block's outputs splice into a list."""
        if isinstance(value, Ref):
            return self.resolve(value)
        if isinstance(value, list):
            items: list[Any] = []
            for v in value:
                found = self.materialize(v)
                items += found if isinstance(v, Ref) and isinstance(found, list) else [found]
            return items
        if isinstance(value, dict):
            return {k: self.materialize(v) for k, v in value.items()}
        return value

    def resolve(self, ref: Ref) -> str | list[str]:
        """The flat reference ``ref`` stands for: a list for all of a block's outputs.

        Follows aliases (block inputs, block outputs, dropped and zero-times repeated
        nodes) in a loop, not by recursion, so long chains cost no stack.
        """
        hops: list[tuple[Ref, str, str | None]] = []  # the aliases followed, outermost first
        seen: set[int] = set()
        origin = ref
        while True:
            if _depth(ref) < _depth(origin):
                origin = ref
            if id(ref) in self.memo:
                _, found, further = self.memo[id(ref)]
                origin = further if _depth(further) < _depth(origin) else origin
                break
            match = LOCAL_REFERENCE.fullmatch(ref.text) if isinstance(ref.text, str) else None
            if match is None:
                return ref.text  # the schema reports it
            name, index = match["name"], match["index"]
            target = ref.scope.refs.get(name)
            if target is None or isinstance(target, Failed):
                return self.unknown(ref, name, target, hops)
            if id(target) in seen or id(target) in self.active:
                message = f"`{name}` stands for itself through dropped nodes or block outputs"
                self.error(ref.src.value(), "E512", message)
                return self.failed(name, ref.scope).placeholder
            seen.add(id(target))
            if isinstance(target, Concrete):
                found = indexed(target.name, index)
                break
            if isinstance(target, Outputs) and index is None:
                found = self.all_outputs(ref, name, target)
                break
            if isinstance(target, Outputs):
                if int(index) >= len(target.refs):
                    return self._out_of_range(ref, name, index, target)
                ref = target.refs[int(index)]  # the index is used up here
                continue
            if isinstance(target, Dropped):
                target = self.stand_in(ref, name, target)
                if target is None:
                    return self.failed(name, ref.scope).placeholder
            hops.append((ref, name, index))
            ref = target.ref
        self.memo[id(ref)] = (ref, found, origin)
        for outer, name, index in reversed(hops):
            found = self._index(outer, name, index, found)
            self.memo[id(outer)] = (outer, found, origin)
        return found

    def written_at(self, ref: Ref) -> Ref:
        """Where what ``ref`` stands for was written in the outermost scope it went through.

        A reference passed into a block is written at the block's use: an error about
        it belongs there, not on the block's own ``inputs`` line. Call after ``resolve``.
        """
        entry = self.memo.get(id(ref))
        return entry[2] if entry and entry[0] is ref else ref

    def stand_in(self, ref: Ref, name: str, dropped: Dropped) -> Alias | None:
        """What a node dropped by ``when`` stands for: its single input (else E512)."""
        single = single_input(dropped.inputs)
        if single is None:
            message = (
                f"`{name}` was dropped by its `when`; a dropped node stands for its input, "
                "and it does not have exactly one"
            )
            self.error(ref.src.value(), "E512", message)
            return None
        return Alias(Ref(dropped.scope, single, dropped.src.at("inputs")))

    def all_outputs(self, ref: Ref, name: str, target: Outputs) -> str | list[str]:
        """Every output of a block use, in order (bounded in count and in nesting)."""
        if self.depth >= MAX_NESTING:
            message = f"`{name}` stands for block outputs nested more than {MAX_NESTING} deep"
            self.error(ref.src.value(), "E506", message)
            return self.failed(name, ref.scope).placeholder
        self.depth += 1
        self.active.add(id(target))
        try:
            found: list[str] = []
            for output in target.refs:
                item = self.resolve(output)
                found += item if isinstance(item, list) else [item]
                if len(found) > MAX_TENSORS or self.too_many:
                    if not self.too_many:  # once: later ones grow from the same mistake
                        message = f"`{name}` stands for more than {MAX_TENSORS:,} tensors"
                        self.error(ref.src.value(), "E506", message)
                    self.too_many = True
                    return self.failed(name, ref.scope).placeholder
            return found
        finally:
            self.active.discard(id(target))
            self.depth -= 1

    def _out_of_range(self, ref: Ref, name: str, index: str, target: Outputs) -> str:
        count = len(target.refs)
        message = f"`{name}[{index}]`: block `{target.block}` has {count} outputs"
        hint = f"write `{name}[0]` … `{name}[{count - 1}]`"
        self.error(ref.src.value(), "E506", message, hint)
        return self.failed(name, ref.scope).placeholder

    def unknown(
        self, ref: Ref, name: str, target: Failed | None, hops: list[tuple[Ref, str, str | None]]
    ) -> str:
        """A name that stands for nothing: reported where it was written, once."""
        scope = ref.scope
        if isinstance(target, Failed):
            return target.placeholder
        if scope.block is not None:
            hint = did_you_mean(name, scope.refs) or (
                "a block sees only its inputs and its own nodes; pass tensors in through `inputs`"
            )
            message = f"block `{scope.block}` has no input or node `{name}`"
            self.error(ref.src.value(), "E506", message, hint)
            return self.failed(name, scope).placeholder
        if not hops:
            return ref.text  # the graph check reports it, where it is used
        hint = did_you_mean(name, scope.refs)
        self.error(ref.src.value(), "E300", f"unknown reference `{name}`", hint)
        return self.failed(name, scope).placeholder

    def _index(
        self, ref: Ref, name: str, index: str | None, found: str | list[str]
    ) -> str | list[str]:
        """What ``name[index]`` means, ``name`` standing for ``found``."""
        if index is None:
            return found
        if isinstance(found, list):
            if int(index) < len(found):
                return found[int(index)]
            message = f"`{name}[{index}]`: `{name}` stands for {len(found)} outputs"
            self.error(ref.src.value(), "E506", message)
            return self.failed(name, ref.scope).placeholder
        if "[" in found:
            message = f"`{name}` stands for `{found}`, which is already indexed"
            self.error(ref.src.value(), "E506", message)
        return indexed(found, index)


def _depth(ref: Ref) -> int:
    """How many block uses deep the scope ``ref`` was written in is."""
    return len(ref.scope.chain)
