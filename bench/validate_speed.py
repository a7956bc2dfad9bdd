"""How much validate costs over reading the YAML at all; writes docs/benchmarks.md.

Baselines, measured in the same run on the same file: PyYAML's safe loader in pure
Python (the reference parser; keraspec uses libyaml only where it reads a text
exactly alike, for the same verdict on every machine) and with libyaml (the fastest
safe load there is). Also how validate scales from 10,000 to 100,000 nodes. Run
with ``make bench``.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

import keraspec

ROOT = Path(__file__).parent.parent
SIZES = (100, 1000, 5000)
REPEATS = 5


def chain_spec(nodes: int) -> str:
    lines = ["keraspec: 1", "name: chain", "inputs:", "  x: {shape: [8]}", "nodes:"]
    previous = "x"
    for i in range(nodes):
        lines.append(f"  d{i}: {{type: Dense, units: 8, activation: relu, inputs: {previous}}}")
        previous = f"d{i}"
    return "\n".join([*lines, f"outputs: [{previous}]"]) + "\n"


def branching_spec(nodes: int) -> str:
    """Blocks of ten nodes: two branches through a shared layer, Add, Concatenate, an op."""
    lines = ["keraspec: 1", "name: branching", "inputs:", "  x: {shape: [16]}", "layers:"]
    lines += ["  shared: {type: Dense, units: 16, activation: relu}", "  norm:"]
    lines += ["    type: LayerNormalization", "    epsilon: 1.0e-5", "nodes:"]
    previous = "x"
    for b in range(nodes // 10):
        p = f"b{b}_"
        lines += [
            f"  {p}a: {{type: Dense, units: 16, activation: relu, inputs: {previous}}}",
            f"  {p}b:",
            "    type: Dense",
            "    units: 16",
            "    kernel_initializer: he_normal",
            f"    inputs: {previous}",
            f"  {p}s1: {{layer: shared, inputs: {p}a}}",
            f"  {p}s2: {{layer: shared, inputs: {p}b}}",
            f"  {p}add: {{type: Add, inputs: [{p}s1, {p}s2]}}",
            f"  {p}drop: {{type: Dropout, rate: 0.1, inputs: {p}add}}",
            f"  {p}cat:",
            "    type: Concatenate",
            "    inputs:",
            f"      - {p}drop",
            f"      - {p}a",
            f"  {p}proj: {{type: Dense, units: 16, use_bias: false, inputs: {p}cat}}",
            f"  {p}n: {{layer: norm, inputs: {p}proj}}",
            f"  {p}out: {{op: add, inputs: [{p}n, {previous}]}}",
        ]
        previous = f"{p}out"
    return "\n".join([*lines, f"outputs: {{y: {previous}}}"]) + "\n"


def best_of(action: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def safe_load(path: Path, loader: type) -> object:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # a safe loader


def measure(folder: Path, nodes: int) -> tuple[int, float, float, float]:
    path = folder / f"chain_{nodes}.yaml"
    path.write_text(chain_spec(nodes), encoding="utf-8")
    assert keraspec.validate(path) == []
    pure = best_of(lambda: safe_load(path, yaml.SafeLoader))
    fast = best_of(lambda: safe_load(path, getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    validate = best_of(lambda: keraspec.validate(path))
    return nodes, pure, fast, validate


SCALE = (10_000, 100_000)
SHAPES = {"chain": chain_spec, "branching": branching_spec}
# Runs per size (10,000, 100,000): a 100,000-node file takes seconds to validate and
# ~25 s to read with the pure parser; `make bench` stays within a few minutes.
SCALE_REPEATS = {"validate": (5, 2), "CSafeLoader": (3, 1), "safe_load": (1, 1)}


def valid(path: Path) -> None:
    assert keraspec.validate(path) == [], path


def timed(action: Callable[[Path], object], path: Path) -> float:
    started = time.perf_counter()
    action(path)
    return time.perf_counter() - started


def measure_scale(folder: Path, shape: str) -> dict[str, tuple[float, float]]:
    """validate and the two loaders on the 10,000- and 100,000-node files of one shape.

    Measured side by side, the two sizes alternating, so that the ratio of their
    times is taken under the same conditions.
    """
    paths = []
    for nodes in SCALE:
        path = folder / f"{shape}_{nodes}.yaml"
        path.write_text(SHAPES[shape](nodes), encoding="utf-8")
        paths.append(path)
    actions = {
        "validate": valid,
        "CSafeLoader": lambda path: safe_load(path, getattr(yaml, "CSafeLoader", yaml.SafeLoader)),
        "safe_load": lambda path: safe_load(path, yaml.SafeLoader),
    }
    times: dict[str, tuple[float, float]] = {}
    for name, action in actions.items():
        best = [float("inf"), float("inf")]
        for round_ in range(max(SCALE_REPEATS[name])):
            for i, path in enumerate(paths):
                if round_ < SCALE_REPEATS[name][i]:
                    best[i] = min(best[i], timed(action, path))
        times[name] = (best[0], best[1])
    return times


def scale_report(results: dict[str, dict[str, tuple[float, float]]]) -> list[str]:
    lines = [
        "## Scale: 10,000 and 100,000 nodes",
        "",
        "In-process `keraspec.validate(path)` of generated specs, end to end (read, expand,",
        "schema, catalog, graph, shapes), measured side by side in one run with the two",
        "sizes alternating. `chain` is the Dense chain above; `branching` repeats a block",
        "of ten nodes with two branches, a shared layer, Add, Concatenate, Dropout and an",
        "op. Baselines: the same file read by `yaml.safe_load` (pure Python) and by",
        "`yaml.load(..., CSafeLoader)` (libyaml). Best of "
        + ", ".join(f"{a}/{b} runs for {name}" for name, (a, b) in SCALE_REPEATS.items())
        + " (10,000/100,000 nodes).",
        "",
        "| spec | nodes | safe_load (s) | CSafeLoader (s) | validate (s) | vs CSafeLoader |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for shape, times in results.items():
        for i, nodes in enumerate(SCALE):
            pure, fast, validate = (times[k][i] for k in ("safe_load", "CSafeLoader", "validate"))
            row = f"{pure:.2f} | {fast:.2f} | {validate:.2f} | {validate / fast:.1f}×"
            lines.append(f"| {shape} | {nodes:,} | {row} |")
    lines.append("")
    for shape, times in results.items():
        small, large = times["validate"]
        lines.append(
            f"- {shape}: 10,000 nodes in {small:.2f} s (goal: under 1 s); 100,000 nodes take "
            f"{large / small:.1f}× as long (goal: at most 12×)."
        )
    return [*lines, ""]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{platform.system()} {cpu}, {os.cpu_count()} CPUs"


def cold_start() -> tuple[float, float]:
    """Whole processes, cold: `keraspec validate` of a small spec vs `import tensorflow`."""
    spec = ROOT / "specs" / "mlp.yaml"
    keraspec_cli = [sys.executable, "-m", "keraspec", "validate", str(spec)]
    tensorflow = [sys.executable, "-c", "import tensorflow"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
    validate = best_of(lambda: subprocess.run(keraspec_cli, **quiet))
    baseline = best_of(lambda: subprocess.run(tensorflow, **quiet))
    return validate, baseline


def cold_start_report(validate: float, baseline: float) -> list[str]:
    return [
        "## Cold start: validate without TensorFlow",
        "",
        "Whole processes, measured side by side: `keraspec validate specs/mlp.yaml`",
        'against `python -c "import tensorflow"`, the least any build-based check pays.',
        "",
        "| process | seconds |",
        "|---|---:|",
        f"| keraspec validate (small spec) | {validate:.2f} |",
        f'| python -c "import tensorflow" | {baseline:.2f} |',
        "",
        f"validate finishes {baseline / validate:.1f}× faster than TensorFlow imports.",
        "",
    ]


APPLICATIONS = ("resnet50", "mobilenet_v2", "inception_v3", "densenet121")


def measure_expansion(folder: Path, name: str) -> tuple[str, int, int, float, float]:
    """validate of a composed spec vs. validate of the flat spec it expands to."""
    composed = ROOT / "specs" / "applications" / f"{name}.yaml"
    flat = folder / f"{name}_flat.yaml"
    flat.write_text(keraspec.dumps(keraspec.load(composed)), encoding="utf-8")
    assert keraspec.validate(composed) == [] and keraspec.validate(flat) == []
    nodes = len(keraspec.load(composed).nodes)
    lines = len(composed.read_text(encoding="utf-8").splitlines())
    return (
        name,
        lines,
        nodes,
        best_of(lambda: keraspec.validate(flat)),
        best_of(lambda: keraspec.validate(composed)),
    )


def expansion_report(rows: list[tuple[str, int, int, float, float]]) -> list[str]:
    lines = [
        "## Composition: what expanding costs",
        "",
        "validate of each spec in `specs/applications/` (params, blocks, repeat, `when`)",
        "against validate of the flat spec `keraspec expand` prints for it, in the same run.",
        "The composed file is much shorter, so there is less YAML to read; the ratio",
        "is what composition costs end to end.",
        "",
        "| spec | lines | nodes after expansion | flat (ms) | composed (ms) | composed / flat |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, length, nodes, flat, composed in rows:
        times = f"{flat * 1e3:.1f} | {composed * 1e3:.1f}"
        lines.append(f"| {name} | {length} | {nodes} | {times} | {composed / flat:.2f}× |")
    return [*lines, ""]


def report(rows: list[tuple[int, float, float, float]]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`bench/validate_speed.py`); best of "
        f"{REPEATS} runs on this machine ({machine()}), Python {sys.version.split()[0]}.",
        "",
        "## validate vs. reading the YAML",
        "",
        "Baselines, measured in the same run on the same chain-of-Dense spec:",
        "`yaml.safe_load` in pure Python (the reference parser: validate uses libyaml",
        "only where it reads a text exactly as this one does) and",
        "`yaml.load(..., CSafeLoader)`. validate also keeps every value's position,",
        "checks scalars, the schema, the catalog, the graph and the shapes.",
        "",
        "| nodes | safe_load (ms) | CSafeLoader (ms) | validate (ms) | vs safe_load"
        " | vs CSafeLoader |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for nodes, pure, fast, validate in rows:
        ms = f"{pure * 1e3:.1f} | {fast * 1e3:.1f} | {validate * 1e3:.1f}"
        lines.append(f"| {nodes:,} | {ms} | {validate / pure:.2f}× | {validate / fast:.1f}× |")
    ratio = statistics.median(v / p for _, p, _, v in rows)
    lines += ["", f"Median validate / safe_load: {ratio:.2f}×.", ""]
    return "\n".join(lines)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(Path(folder), n) for n in SIZES]
        expansions = [measure_expansion(Path(folder), name) for name in APPLICATIONS]
        scale = {shape: measure_scale(Path(folder), shape) for shape in SHAPES}
    sections = expansion_report(expansions) + scale_report(scale) + cold_start_report(*cold_start())
    text = report(rows) + "\n".join(sections)
    (ROOT / "docs" / "benchmarks.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
