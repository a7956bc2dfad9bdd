"""Rewrite the golden files from what keraspec says now.

The `# expect:` headers of tests/cases/invalid/*.yaml (what validate reports) and
tests/cases/expand/expected/*.yaml (what `keraspec expand` prints).

Run it after changing a message on purpose, then review the diff: the headers are
the contract that tests/test_cases.py checks. Positions count the header lines too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keraspec

CASES = Path(__file__).parent / "cases" / "invalid"
EXPAND = Path(__file__).parent / "cases" / "expand"


def expectation(d: keraspec.Diagnostic) -> str:
    return f"# expect: {describe(d)}"


def describe(d: keraspec.Diagnostic) -> str:
    """``L:C CODE message | hint: … | note: … at L:C``; note places in other files by name."""
    hint = f" | hint: {d.hint}" if d.hint else ""
    notes = "".join(f" | note: {_note(n, d.file)}" for n in d.notes)
    return f"{d.line}:{d.column} {d.code} {d.message}{hint}{notes}"


def _note(note: keraspec.Note, file: str) -> str:
    if not note.file:
        return note.message
    where = "" if note.file == file else f"{Path(note.file).name}:"
    return f"{note.message} at {where}{note.line}:{note.column}"


def strip_header(text: str) -> str:
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("# expect:"):
        lines.pop(0)
    return "".join(lines)


def update(path: Path) -> None:
    body = strip_header(path.read_text(encoding="utf-8"))
    header: list[str] = []
    for _ in range(3):  # the header moves the body down; repeat until positions settle
        path.write_text("".join(h + "\n" for h in header) + body, encoding="utf-8")
        found = [expectation(d) for d in keraspec.validate(path)]
        if found == header:
            return
        header = found
    raise RuntimeError(f"{path}: expectations did not settle")


def expanded(path: Path) -> Path:
    """Where the flat spec that ``keraspec expand`` gives for ``path`` is kept."""
    return EXPAND / "expected" / path.name


def main() -> int:
    for path in sorted(CASES.glob("*.yaml")):
        update(path)
    for path in sorted(EXPAND.glob("*.yaml")):
        expanded(path).parent.mkdir(exist_ok=True)
        expanded(path).write_text(keraspec.dumps(keraspec.load(path)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
