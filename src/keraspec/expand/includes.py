"""Where a ``use: path#name`` may point: inside the spec's folder tree, at a regular file.

Nothing outside the folder is ever opened: the path is resolved (symlinks
followed) and checked before the file is read, so a refused target's content
cannot appear in a message.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from ..diagnostics import Diagnostic, Location, Note

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
STAY_INSIDE = "includes stay inside the spec's folder"


class Refused(Exception):
    """A ``use:`` path that may not or cannot be read: ``code``, message and hint."""

    def __init__(self, code: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def locate(path_text: str, including_file: str, folder: Path) -> Path:
    """The file ``path_text`` names, relative to ``including_file``, confined to ``folder``."""
    if URL.match(path_text) or path_text.startswith(("/", "~", "\\")) or ":" in path_text:
        message = f"`{path_text}` must be a path relative to the including file"
        raise Refused("E509", message, STAY_INSIDE)
    try:
        target = (folder_of(including_file) / path_text).resolve()
        inside = target.is_relative_to(folder)
        a_file = inside and target.is_file()  # not missing, a folder or a FIFO
    except (OSError, ValueError, RuntimeError):  # NUL byte, name too long, symlink loop
        raise Refused("E508", f"cannot read `{path_text[:80]!r}`") from None
    if not inside:
        raise Refused("E509", f"`{path_text}` is outside the spec's folder", STAY_INSIDE)
    if not a_file:
        raise Refused("E508", f"cannot read `{path_text}`: not a file")
    return target


def folder_of(file: str) -> Path:
    """The folder includes are confined to; the working directory for text (``<string>``)."""
    if file.startswith("<"):
        return Path.cwd().resolve()
    return Path(file).resolve().parent


def shown_path(target: Path) -> Path:
    """``target`` relative to the working directory when it is below it (shorter messages)."""
    try:
        return target.relative_to(Path.cwd().resolve())
    except ValueError:
        return target


def relative(file: str, folder: Path) -> str:
    """``file`` relative to ``folder`` when it is inside it, for messages."""
    try:
        return Path(file).resolve().relative_to(folder).as_posix()
    except ValueError:
        return file


def with_include_note(d: Diagnostic, where: Location) -> Diagnostic:
    """A diagnostic in an included file, with a note naming the ``use:`` that included it."""
    note = Note("in the file included", where.file, where.line, where.column)
    return replace(d, notes=(*d.notes, note))
