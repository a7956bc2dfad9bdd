"""Rewrite the `# expect:` headers of tests/cases/invalid/*.yaml from what validate says now.

Run it after changing a message on purpose, then review the diff: the headers are
the contract that tests/test_cases.py checks. Positions count the header lines too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keraspec

CASES = Path(__file__).parent / "cases" / "invalid"


def expectation(d: keraspec.Diagnostic) -> str:
    hint = f" | hint: {d.hint}" if d.hint else ""
    return f"# expect: {d.line}:{d.column} {d.code} {d.message}{hint}"


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


def main() -> int:
    for path in sorted(CASES.glob("*.yaml")):
        update(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
