"""Stage 2b, expand: params, ``${...}``, ``repeat``, blocks, ``when`` and includes → a flat spec.

Runs on loaded data, before the schema. The result is a ``Document`` in the plain
format (no ``params``, ``blocks``, ``repeat``, ``when`` or ``block:`` nodes) whose
source map points every value at the line that wrote it, with the use sites of
the blocks it came through as notes. docs/composition.md describes the rules.

- ``scope``: where values came from, scopes, and what each name stands for;
- ``expander``: params, expressions, repeats, blocks, ``when``, includes: nodes are
  emitted with ``Ref`` placeholders for their inputs;
- ``resolve``: every placeholder → the flat reference it stands for, so nodes can
  be written in any order, as in plain specs;
- ``includes``: where a ``use:`` may point (inside the spec's folder, a file).
"""

from .expander import check_library, expand, is_library, needs_expansion

__all__ = ["check_library", "expand", "is_library", "needs_expansion"]
