"""Paths a spec names for files that keraspec or Keras will read or write.

Such a path must stay below the working directory: relative, no `~`, no `..`, not a
URL, and not through a symlink that leads out (a pull request can add
`logs -> /home/user`, after which `logs/.bashrc` is outside however it is spelled).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any


def path_problem(value: Any, base: Path | None = None) -> str | None:
    """Why ``value`` is not a path below ``base`` (the working directory), or None."""
    if not isinstance(value, str) or not value:
        return "must be a path (a non-empty string)"
    if "://" in value:
        return "must be a local path, not a URL"
    if value.startswith("~"):
        return "must be a relative path, not one in a home directory"
    posix, windows = PurePosixPath(value), PureWindowsPath(value)
    if posix.is_absolute() or windows.is_absolute() or windows.drive:
        return "must be a relative path, not an absolute one"
    if ".." in posix.parts or ".." in windows.parts:
        return "must stay inside the working directory (no `..`)"
    base = (base or Path.cwd()).resolve()
    try:
        inside = (base / value).resolve().is_relative_to(base)
    except (OSError, RuntimeError):  # a symlink loop: nowhere to write or read
        inside = False
    if not inside:
        return "must stay inside the working directory (a symlink on the way leads out)"
    return None
