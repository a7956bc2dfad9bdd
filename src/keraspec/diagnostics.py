"""Diagnostics are data: every problem keraspec finds is a located ``Diagnostic``.

Stages collect them; ``SpecError`` carries them out of the API; ``render`` turns
them into text for people or machines. The codes are listed in docs/diagnostics.md.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"  # shown with --verbose; never fails a run, --strict or not


@dataclass(frozen=True)
class Location:
    """A 1-based position in a source file.

    ``via`` is set for content that a block or a repeat expanded: the use sites,
    innermost first, so that an error inside a block names where it was used.
    """

    file: str
    line: int
    column: int
    source_line: str | None = field(default=None, compare=False)
    via: tuple[Note, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Note:
    """A second place a diagnostic concerns: ``in block `b` used at FILE:LINE:COL``."""

    message: str
    file: str = ""  # empty: the note concerns the diagnostic's own place
    line: int = 0
    column: int = 0
    # For a block use, what drawings group by (the message is for people): the block's
    # name, the use's expanded node id (`conv2`, `conv2_block1`) and its `repeat`, if any.
    block: str | None = field(default=None, compare=False, repr=False)
    use: str | None = field(default=None, compare=False, repr=False)
    repeat: int | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        if not self.file:
            return self.message
        return f"{self.message} at {self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    file: str
    line: int
    column: int
    hint: str | None = None
    source_line: str | None = field(default=None, compare=False, repr=False)
    notes: tuple[Note, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def at(
        cls,
        location: Location,
        code: str,
        message: str,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> Diagnostic:
        """A diagnostic at ``location``; codes starting with ``W`` default to warnings."""
        if severity is None:
            severity = Severity.WARNING if code.startswith("W") else Severity.ERROR
        return cls(
            code,
            severity,
            message,
            location.file,
            location.line,
            location.column,
            hint,
            location.source_line,
            location.via,
        )

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.code} {self.message}"


class SpecError(Exception):
    """A spec could not be loaded, validated or built; ``.diagnostics`` says why and where."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__(summarize(self.diagnostics))


def summarize(diagnostics: Sequence[Diagnostic], limit: int = 10) -> str:
    """One line per diagnostic, ending in ``... and N more`` past ``limit``."""
    lines = [str(d) for d in diagnostics[:limit]]
    if len(diagnostics) > limit:
        lines.append(f"... and {len(diagnostics) - limit} more")
    return "\n".join(lines)


def errors_in(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.is_error]


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A ``did you mean `x`?`` hint when ``word`` is close to one of ``candidates``."""
    pool = [c for c in candidates if isinstance(c, str)]
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        if word.lower() in lowered:
            matches = [lowered[word.lower()]]
    return f"did you mean `{matches[0]}`?" if matches else None


def one_per_place(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The first diagnostic of each code at each place.

    A mistake inside a block is found once per use of the block; it is reported
    once, at the line that wrote it, with a note counting the other uses.
    """
    first: dict[tuple[Any, ...], Diagnostic] = {}
    more: dict[tuple[Any, ...], int] = {}
    for d in diagnostics:
        # Only expanded content (it has use-site notes) is folded; other diagnostics
        # at one place are distinct findings.
        key = (d.file, d.line, d.column, d.code) if d.notes else (d,)
        if key in first:
            more[key] += d != first[key]
        else:
            first[key], more[key] = d, 0
    return [_also(d, more[key]) for key, d in first.items()]


def _also(d: Diagnostic, others: int) -> Diagnostic:
    if not others:
        return d
    uses = "use" if others == 1 else "uses"
    note = Note(f"the same in {others} other expanded {uses} of this line")
    return replace(d, notes=(*d.notes, note))


def written_as(value: Any) -> str:
    """A value as a spec writes it, for messages: `-3`, `true`, `null`, `'full'`, `[3, 0]`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        if len(value) > 8:
            return f"a list of {len(value)} values"
        return "[" + ", ".join(written_as(v) for v in value) + "]"
    if isinstance(value, dict):
        return "a mapping"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.file, d.line, d.column, d.code)
