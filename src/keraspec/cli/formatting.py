"""`keraspec fmt`: specs rewritten in the canonical layout, comments kept."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import click

from ..diagnostics import SpecError
from .common import (
    ExitCode,
    err,
    expand_paths,
    limit_options,
    policy,
    print_diagnostics,
    replace_atomically,
)


@click.command(name="fmt")
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file would change.")
@click.option(
    "--diff", "show_diff", is_flag=True, help="Write nothing; print the changes as a diff."
)
@limit_options("max_file_size", "max_depth", "max_alias_values")
def fmt_command(specs: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Rewrite specs in the canonical layout, keeping their comments (no TensorFlow).

    Keys in one order, 2-space indentation, each node on one line when it fits in
    100 columns. A spec needs to be readable YAML, not valid. See docs/ci.md.
    """
    from ..fmt import format_file

    dry_run = check or show_diff
    counts = {"reformatted": 0, "unchanged": 0, "failed": 0}
    for path in expand_paths(specs):
        try:
            before, after = format_file(path, policy()["limits"])
        except SpecError as e:  # not YAML, or not a mapping: validate's diagnostics
            print_diagnostics(e.diagnostics, console=err)
            counts["failed"] += 1
            continue
        if after == before:
            counts["unchanged"] += 1
            continue
        counts["reformatted"] += 1
        if show_diff:
            click.echo(unified_diff(before, after, path), nl=False)
        if not dry_run:
            rewrite_in_place(path, after)
        err.print(f"{'would reformat' if dry_run else 'reformatted'} {path}", markup=False)
    err.print(fmt_report(counts, dry_run), markup=False)
    failed = counts["failed"] or (check and counts["reformatted"])
    sys.exit(ExitCode.INVALID if failed else ExitCode.OK)


def fmt_report(counts: dict[str, int], dry_run: bool) -> str:
    """Black's summary: "1 file reformatted, 2 files left unchanged."."""
    would = "would be " if dry_run else ""
    phrases = {
        "reformatted": f"{would}reformatted",
        "unchanged": f"{would}left unchanged",
        "failed": "would fail to reformat" if dry_run else "failed to reformat",
    }
    parts = [f"{n} file{'' if n == 1 else 's'} {phrases[k]}" for k, n in counts.items() if n]
    return ", ".join(parts) + "."


def unified_diff(before: str, after: str, path: Path) -> str:
    """What ``fmt`` changes in ``path``, as `git diff` shows it (`git apply` reads it)."""
    import difflib

    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    marker = "\n\\ No newline at end of file\n"
    return "".join(line if line.endswith("\n") else line + marker for line in lines)


def rewrite_in_place(path: Path, text: str) -> None:
    """``text`` written over ``path`` with no half-written file left on failure.

    The file keeps its permissions, and a symlink stays a symlink: its target is
    rewritten (the loader reads only symlinks that stay in their folder).
    """
    target = path.resolve()
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError as e:
        raise click.FileError(str(path), hint=e.strerror or str(e)) from None
    replace_atomically(target, lambda tmp: Path(tmp).write_bytes(text.encode("utf-8")), mode=mode)
