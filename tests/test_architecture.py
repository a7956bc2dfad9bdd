"""Imports run in one direction: only the emitter (and what needs a live model) imports Keras."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "src" / "keraspec"
HEAVY = {"keras", "tensorflow"}
# Modules allowed to import Keras at module level (the emitter), or inside functions.
EMITTERS = {"emit/keras_model.py", "train/strategies.py", "train/run.py"}
# The importer reads a live keras.Model (a .keras file, a keras.applications model).
EMITTERS |= {"importer/arguments.py", "importer/keras_model.py", "importer/sources.py"}
KERAS_PACKAGES = {"emit", "importer", "train"}
LAZY = {"catalog/generate.py", "summary.py", "api.py"}
LAZY |= {f"cli/{m}.py" for m in ("common", "checking", "building", "exchange", "training")}


def imported_roots(tree: ast.AST, top_level_only: bool) -> set[str]:
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    roots = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            # The packages that import Keras at module level count as Keras themselves.
            roots |= {p for p in KERAS_PACKAGES if node.module.split(".")[0] == p}
    return roots


def test_only_the_emitter_imports_keras() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name in EMITTERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = imported_roots(tree, top_level_only=True)
        assert not top_level & (HEAVY | KERAS_PACKAGES), f"{name} imports Keras at module level"
        if name not in LAZY:
            assert not imported_roots(tree, top_level_only=False) & HEAVY, name


# Pipeline levels: a module may import (relatively) only modules of a lower level.
LEVELS = {
    "diagnostics": 0,
    "limits": 0,
    "paths": 0,
    "scalars": 1,
    "expr": 1,
    "arguments": 1,
    "loader": 2,
    "ir": 1,
    "render": 1,
    "recursion": 1,
    "schema": 2,
    "parse": 3,
    "expand": 3,
    "catalog": 2,  # data generated from Keras; imports nothing of keraspec
    "custom_layers": 3,
    "dump": 3,
    "fmt": 3,  # `keraspec fmt`: reads with the loader, writes its own layout
    "catalog_check": 4,
    "training_check": 4,
    "json_schema": 4,
    "graph": 4,
    "lower": 5,
    "shapes": 5,
    "emit": 6,
    "importer": 6,  # keras.Model → spec; like emit, it may import Keras
    "diff": 6,  # compares two inferred programs; no Keras
    "api": 7,
    "summary": 8,
    "train": 8,  # fit, evaluate, predict: runs Keras on a built model
    "draw": 8,
    "cli": 9,
    "__main__": 10,
}


def relative_imports(path: Path) -> set[str]:
    """Top-level keraspec modules that ``path`` imports relatively."""
    depth = len(path.relative_to(PACKAGE).parts)  # 1 for keraspec/x.py, 2 in a subpackage
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == depth:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found |= {alias.name for alias in node.names}
    return found


def test_stages_import_only_earlier_stages() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        module = parts[0] if parts[0] != "__init__" else None
        if module is None:
            continue
        for imported in relative_imports(path) - {module}:
            assert LEVELS[imported] < LEVELS[module], f"{module} imports later stage {imported}"
