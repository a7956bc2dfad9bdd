"""Count the lines of each spec in specs/applications/ and of the Keras code that builds
the same model; writes the table in docs/architectures.md (``make sizes``).

Both sides are counted the same way: lines that are not blank and not only a
comment, docstrings left out. The Keras side is the source of the functions that
build the model, read from the installed Keras with ``inspect``.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "architectures.md"
BEGIN, END = "<!-- sizes: begin -->", "<!-- sizes: end -->"

# spec file → (keras.applications name, Keras module, the functions that build the model)
MODELS = {
    "resnet50.yaml": (
        "ResNet50",
        "keras.src.applications.resnet",
        ("ResNet", "ResNet50", "stack_residual_blocks_v1", "residual_block_v1"),
    ),
    "mobilenet_v2.yaml": (
        "MobileNetV2",
        "keras.src.applications.mobilenet_v2",
        ("MobileNetV2", "_inverted_res_block", "_make_divisible"),
    ),
    "densenet121.yaml": (
        "DenseNet121",
        "keras.src.applications.densenet",
        ("DenseNet", "DenseNet121", "dense_block", "transition_block", "conv_block"),
    ),
    "inception_v3.yaml": (
        "InceptionV3",
        "keras.src.applications.inception_v3",
        ("InceptionV3", "conv2d_bn"),
    ),
}


def spec_lines(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def python_lines(source: str) -> int:
    """Code lines of ``source``: no blank lines, comment-only lines or docstrings."""
    tree = ast.parse(source)
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(
        1
        for number, line in enumerate(source.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#") and number not in docstrings
    )


def _is_docstring(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def keras_lines(module_name: str, functions: tuple[str, ...]) -> int:
    import importlib

    module = importlib.import_module(module_name)
    return sum(
        python_lines(textwrap.dedent(inspect.getsource(getattr(module, f)))) for f in functions
    )


def table() -> str:
    rows = [
        "| model | spec (lines) | Keras source (lines) | spec / Keras | Keras functions counted |",
        "|---|---:|---:|---:|---|",
    ]
    for spec, (name, module, functions) in MODELS.items():
        ours = spec_lines(ROOT / "specs" / "applications" / spec)
        theirs = keras_lines(module, functions)
        counted = ", ".join(f"`{f}`" for f in functions)
        link = f"[{spec}](../specs/applications/{spec})"
        rows.append(f"| {name} ({link}) | {ours} | {theirs} | {ours / theirs:.2f} | {counted} |")
    return "\n".join(rows)


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(f"{text[:start]}\n{table()}\n{text[end:]}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
