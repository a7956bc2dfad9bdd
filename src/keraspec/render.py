"""Diagnostics → text for people (with the source line and a caret), JSON, GitHub
annotations, or SARIF 2.1.0 for code-scanning tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import quote

from .diagnostics import Diagnostic, Severity

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_NOTES = 6  # in text; a block nested 30 deep has 30 use sites
MAX_SOURCE = 200  # characters of a source line shown


def render(diagnostics: Sequence[Diagnostic], fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps([as_dict(d) for d in diagnostics], indent=2)
    if fmt == "github":
        return "\n".join(github_line(d) for d in diagnostics)
    if fmt == "sarif":
        return json.dumps(sarif_log(diagnostics), indent=2, ensure_ascii=False)
    return "\n".join(text_block(d) for d in diagnostics)


def as_dict(d: Diagnostic) -> dict:
    data = asdict(d)
    data["severity"] = d.severity.value
    data.pop("source_line")
    data["notes"] = [
        {"message": n.message, "file": n.file, "line": n.line, "column": n.column} for n in d.notes
    ]
    return data


def text_block(d: Diagnostic) -> str:
    """``FILE:LINE:COL: CODE message``, then the source line with a caret, then the hint."""
    lines = [str(d)]
    if d.source_line is not None and d.line > 0:
        gutter = f"{d.line:>5} | "
        lines.append(f"{gutter}{_clip(d.source_line.rstrip(), d.column)}")
        lines.append(" " * (len(gutter) - 2) + "| " + " " * (d.column - 1) + "^")
    if d.hint:
        lines.append(f"      hint: {d.hint}")
    shown = d.notes if len(d.notes) <= MAX_NOTES else d.notes[: MAX_NOTES - 1]
    lines += [f"      note: {note}" for note in shown]
    if len(shown) < len(d.notes):
        lines.append(f"      note: … and {len(d.notes) - len(shown)} more")
    return "\n".join(lines)


def _clip(line: str, column: int) -> str:
    """At most MAX_SOURCE characters of a source line, enough to show the caret's place."""
    limit = max(MAX_SOURCE, column + 20)
    return line if len(line) <= limit else line[:limit] + " …"


def github_line(d: Diagnostic) -> str:
    """A GitHub Actions workflow command; it shows up as an annotation on the line."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning"}.get(d.severity, "notice")
    notes = "".join(f"; {note}" for note in d.notes)
    message = _escape(d.message + notes + (f" (hint: {d.hint})" if d.hint else ""))
    file = _escape(d.file, property_value=True)
    return f"::{level} file={file},line={d.line},col={d.column},title={d.code}::{message}"


def _escape(text: str, property_value: bool = False) -> str:
    """GitHub workflow-command escaping; property values also escape `:` and `,`."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def tally(diagnostics: Sequence[Diagnostic], files: int) -> str:
    errors = sum(d.is_error for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    infos = len(diagnostics) - errors - warnings
    noun = "file" if files == 1 else "files"
    counts = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    return counts + (f", {_plural(infos, 'info')}" if infos else "") + f" in {files} {noun}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def sarif_log(diagnostics: Sequence[Diagnostic]) -> dict:
    """One SARIF 2.1.0 run: a rule per code that occurs, a result per diagnostic.

    Use-site notes become ``relatedLocations``; a whole-file problem (line 0) has
    no region.
    """
    codes = sorted({d.code for d in diagnostics})
    rules = [{"id": code, "name": code} for code in codes]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "keraspec", "version": _version(), "rules": rules}},
                "columnKind": "unicodeCodePoints",  # keraspec counts characters, not UTF-16
                "results": [_sarif_result(d, codes.index(d.code)) for d in diagnostics],
            }
        ],
    }


def _sarif_result(d: Diagnostic, rule_index: int) -> dict:
    text = d.message + (f" (hint: {d.hint})" if d.hint else "")
    result = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": {Severity.ERROR: "error", Severity.WARNING: "warning"}.get(d.severity, "note"),
        "message": {"text": text},
        "locations": [_sarif_location(d.file, d.line, d.column)],
    }
    related = [
        {**_sarif_location(n.file, n.line, n.column), "message": {"text": n.message}}
        for n in d.notes
        if n.file
    ]
    if related:
        result["relatedLocations"] = [{"id": i, **r} for i, r in enumerate(related)]
    return result


def _sarif_location(file: str, line: int, column: int) -> dict:
    physical: dict = {"artifactLocation": {"uri": _uri(file)}}
    if line > 0:
        physical["region"] = {"startLine": line, "startColumn": max(column, 1)}
    return {"physicalLocation": physical}


def _uri(file: str) -> str:
    """A relative path as a relative URI reference; an absolute one as a file: URI."""
    path = Path(file)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def _version() -> str:
    try:
        return version("keraspec")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0"
