"""The hostile corpus: every spec in tests/hostile/ is refused with a located error by
`keraspec validate` in a child process with a memory cap and a timeout, and nothing runs,
reads outside the spec's folder, writes, or imports what a benign validation does not.

Each case's header holds `# expect: CODE at LINE`: that code must be reported at that
line of the case (`at FILE:LINE` for a line of a file it includes). Other header lines
prepare the copy the test runs on: `# link: PATH` makes PATH (relative to the case) a
symlink to a file outside the folder, `# pad-to: BYTES` pads the case with comment
lines to that size, `# libraries: PATTERN N` writes N small block libraries named by
PATTERN ({} is 0 ... N-1). `@CANARY@` in a case becomes the path of a file that only
code run by the spec would create.

KERASPEC_HOSTILE_FIGURES=FILE.json also writes each case's time and peak memory there
(the figures in docs/security.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HOSTILE = Path(__file__).parent / "hostile"
SPECS = Path(__file__).parent.parent / "specs"
CASES = sorted(HOSTILE.glob("*.yaml"))
EXPECT = re.compile(rb"^# expect: (?P<code>[EW]\d{3}) at (?:(?P<file>\S+):)?(?P<line>\d+)$", re.M)
LINK = re.compile(rb"^# link: (?P<path>\S+)$", re.M)
PAD_TO = re.compile(rb"^# pad-to: (?P<size>\d+)$", re.M)
LIBRARIES = re.compile(rb"^# libraries: (?P<pattern>\S+) (?P<count>\d+)$", re.M)
LIBRARY = "blocks:\n  b: {inputs: x, nodes: {d: {type: Dense, units: 2, inputs: x}}, outputs: d}\n"
DIAGNOSTIC = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[EWI]\d{3}) ", re.M)
SECRET = "SECRET-4f1c9"  # in the file outside the folder: no output may echo it
OUTSIDE_LIBRARY = f"""# {SECRET}
blocks:
  secret:
    inputs: x
    nodes:
      layer_{SECRET.replace("-", "_")}: {{type: Dense, units: 1, inputs: x}}
    outputs: layer_{SECRET.replace("-", "_")}
"""
# Never imported by validate, whatever the spec: they run code, reach the network or
# build models. (Checked on top of "no module a benign validation does not import".)
NEVER_IMPORTED = frozenset(
    {
        "keras", "tensorflow", "jax", "torch", "subprocess", "ctypes", "multiprocessing",
        "http", "ssl", "pty", "webbrowser", "shelve", "code", "requests", "h5py",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    line: int
    path: Path  # the file validated, in the prepared copy
    where: Path  # the file the expected diagnostic is in
    canary: Path


def header(pattern: re.Pattern[bytes], data: bytes) -> list[re.Match[bytes]]:
    return list(pattern.finditer(data))


def prepare(source: Path, root: Path) -> Case:
    """Copy ``source`` into ``root/hostile`` as the case will be validated."""
    data = source.read_bytes()
    (expect,) = header(EXPECT, data)
    canary = root / "canaries" / source.stem
    target = root / "hostile" / source.name
    target.write_bytes(data.replace(b"@CANARY@", str(canary).encode()))
    for match in header(PAD_TO, data):
        pad(target, int(match["size"]))
    for match in header(LINK, data):
        link = target.parent / match["path"].decode()
        link.unlink(missing_ok=True)
        link.symlink_to(root / "outside" / "secret.yaml")
    for match in header(LIBRARIES, data):
        for i in range(int(match["count"])):
            library = target.parent / match["pattern"].decode().format(i)
            library.parent.mkdir(parents=True, exist_ok=True)
            library.write_text(LIBRARY, encoding="utf-8")
    where = target.parent / expect["file"].decode() if expect["file"] else target
    code, line = expect["code"].decode(), int(expect["line"])
    return Case(source.stem, code, line, target, where, canary)


def pad(path: Path, size: int) -> None:
    """Comment lines at the end, until ``path`` holds ``size`` bytes."""
    line = b"#" + b" padding" * 1000 + b"\n"
    with path.open("ab") as f:
        missing = size - path.stat().st_size
        f.write(line * (missing // len(line)) + b"#" * (missing % len(line) - 1) + b"\n")


def run(paths: list[Path], root: Path) -> list[dict]:
    """Validate each path in a forked child of tests/hostile/runner.py."""
    results = root / "results.json"
    command = [sys.executable, str(HOSTILE / "runner.py"), str(results), str(root / "hostile")]
    env = {**os.environ, "COLUMNS": "200"}
    subprocess.run(command + [str(p) for p in paths], check=True, timeout=600, env=env, cwd=root)
    return json.loads(results.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, dict]]:
    root = tmp_path_factory.mktemp("hostile")
    (root / "canaries").mkdir()
    (root / "outside").mkdir()
    (root / "outside" / "secret.yaml").write_text(OUTSIDE_LIBRARY, encoding="utf-8")
    shutil.copytree(HOSTILE / "fixtures", root / "hostile" / "fixtures")
    cases = [prepare(source, root) for source in CASES]
    benign = [root / "hostile" / f"benign_{p.name}" for p in sorted(SPECS.glob("*.yaml"))]
    for copy in benign:
        shutil.copy(SPECS / copy.name.removeprefix("benign_"), copy)
    results = run([c.path for c in cases] + benign, root)
    outcome = {c.name: (c, r) for c, r in zip(cases, results, strict=False)}
    outcome["benign"] = (None, results[len(cases) :])
    if figures := os.environ.get("KERASPEC_HOSTILE_FIGURES"):
        report = {"summary": summary(outcome), "results": results}
        Path(figures).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return outcome


def summary(outcome: dict[str, tuple[Case, dict]]) -> dict:
    """The corpus figures of docs/security.md."""
    benign = outcome["benign"][1]
    modules = set().union(*(r["modules"] for r in benign))
    pairs = [pair for name, pair in outcome.items() if name != "benign"]
    slowest = max(pairs, key=lambda pair: pair[1]["seconds"])
    largest = max(pairs, key=lambda pair: pair[1]["max_rss_kib"])
    return {
        "cases": len(pairs),
        "exit_1": sum(r["code"] == 1 for _, r in pairs),
        "expected_code_at_expected_line": sum(
            (c.where.resolve(), c.line, c.code) in diagnostics(r, c.path.parent.parent)
            for c, r in pairs
        ),
        "tracebacks": sum("Traceback" in r["stdout"] + r["stderr"] for _, r in pairs),
        "killed": sum(r["signal"] is not None for _, r in pairs),
        "canaries_created": sum(c.canary.exists() for c, _ in pairs),
        "audit_events": sum(len(r["events"]) for _, r in pairs),
        "modules_beyond_benign": sorted({m for _, r in pairs for m in r["modules"]} - modules),
        "slowest": [slowest[0].name, slowest[1]["seconds"]],
        "largest_peak_rss_mib": [largest[0].name, round(largest[1]["max_rss_kib"] / 1024, 1)],
        "benign_peak_rss_mib": round(max(r["max_rss_kib"] for r in benign) / 1024, 1),
        "total_seconds": round(sum(r["seconds"] for _, r in pairs), 2),
    }


def diagnostics(result: dict, root: Path) -> list[tuple[Path, int, str]]:
    """(file, line, code) of each diagnostic ``validate`` printed (run in ``root``)."""
    found = DIAGNOSTIC.finditer(result["stdout"])
    return [((root / m["file"]).resolve(), int(m["line"]), m["code"]) for m in found]


def test_benign_specs_validate_and_do_nothing_else(corpus) -> None:
    _, results = corpus["benign"]
    assert len(results) >= 5
    for result in results:
        assert (result["code"], result["stdout"], result["events"]) == (0, "", []), result["spec"]


@pytest.mark.parametrize("name", [p.stem for p in CASES])
def test_hostile_spec_is_refused_where_the_header_says(corpus, name: str) -> None:
    case, result = corpus[name]
    output = result["stdout"] + result["stderr"]
    assert result["signal"] is None, f"killed by signal {result['signal']} (memory or time)"
    assert "Traceback" not in output
    assert result["code"] == 1, output
    found = diagnostics(result, case.path.parent.parent)
    assert (case.where.resolve(), case.line, case.code) in found, output


@pytest.mark.parametrize("name", [p.stem for p in CASES])
def test_hostile_spec_runs_reads_and_imports_nothing(corpus, name: str) -> None:
    case, result = corpus[name]
    benign_modules = set().union(*(r["modules"] for r in corpus["benign"][1]))
    assert not case.canary.exists()
    assert result["events"] == []
    assert set(result["modules"]) - benign_modules == set()
    assert not [m for m in result["modules"] if m.split(".")[0] in NEVER_IMPORTED]
    assert SECRET not in result["stdout"] + result["stderr"]


def test_the_corpus_covers_the_issue() -> None:
    assert len(CASES) >= 45
    assert all(len(header(EXPECT, p.read_bytes())) == 1 for p in CASES)


def test_the_watch_sees_what_a_spec_must_not_do(tmp_path: Path) -> None:
    """The checks above are not vacuous: the runner's audit hook reports each of these."""
    folder, outside = tmp_path / "folder", tmp_path / "outside.txt"
    folder.mkdir()
    outside.write_text("secret", encoding="utf-8")
    script = f"""
import json, os, pathlib, sys
sys.path.insert(0, {str(HOSTILE)!r})
import runner
events = []
runner.watch(events, runner.readable_roots(pathlib.Path({str(folder)!r})))
open({str(folder / "inside.yaml")!r}, "w").close()
open({str(folder / "inside.yaml")!r}).close()
open({str(outside)!r}).close()
os.close(os.open({str(folder / "raw.yaml")!r}, os.O_WRONLY | os.O_CREAT))
os.system("true")
print(json.dumps(events))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert json.loads(done.stdout) == [
        ["open", str(folder / "inside.yaml"), "w"],  # a write, even inside the folder
        ["open", str(outside), "r"],
        ["open", str(folder / "raw.yaml"), "None"],  # os.open: its flags say it writes
        ["os.system", "(b'true',)"],
    ]
