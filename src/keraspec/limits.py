"""What one spec may cost to check and build: every bound in one place.

A spec comes from whoever opened the pull request; keraspec's own bounds keep a
hostile one from taking unbounded time or memory, and refuse it with a located
error instead. Each bound has a default here, a keyword in the Python API
(``limits=Limits(max_params=...)``) and a flag on the command line (``--max-params``).
docs/security.md explains each.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    max_file_size: int = 10 << 20  # bytes in a spec or an included file
    max_depth: int = 64  # YAML nesting; specs nest a handful of levels
    # Values aliases add once expanded ("billion laughs"), measured before anything is
    # built; what is written out is bounded by the file size instead.
    max_alias_values: int = 1_000_000
    max_nodes: int = 100_000  # after expansion, estimated before expanding
    max_includes: int = 256  # files included (`use:`) in all
    max_include_depth: int = 16  # files in one chain of includes
    max_params: int = 2_000_000_000  # parameters of the whole model, inferred statically
    # Elements of one tensor (a weight, or one sample's output): TensorFlow indexes
    # with 32-bit integers in many kernels.
    max_tensor: int = 2**31 - 1

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{field.name} must be a positive integer; received {value!r}")


DEFAULT = Limits()


def flag(name: str) -> str:
    """The command-line flag of a limit: ``max_params`` → ``--max-params``."""
    return "--" + name.replace("_", "-")
