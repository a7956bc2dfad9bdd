"""Run `keraspec validate` on spec files, each in a forked child with a memory cap and a
timeout, and write what each child did as JSON: exit code, output, time, peak memory,
the modules it had imported, and every audit event that reads, writes or runs things.

    python tests/hostile/runner.py RESULTS.json ALLOWED_FOLDER SPEC...

One warm parent (keraspec imported once) forks a child per spec: each case gets a fresh
process, its own limits and its own rusage, without paying Python's start-up each time.
The child runs ``keraspec.cli.main(["validate", SPEC])``, what ``python -m keraspec``
runs. Audit hooks (PEP 578) see what Python does underneath any library: a file opened
outside ALLOWED_FOLDER and Python's own install, a process started, a socket, a
pickle class looked up.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

MEMORY_CAP = 1 << 30  # bytes of address space; a benign validate peaks near 60 MiB of RSS
TIMEOUT = 20  # seconds per spec, enforced by the kernel (SIGALRM's default action)
# Audit events that start code or reach out; none may happen while validating a spec.
FORBIDDEN_EVENTS = frozenset(
    {
        "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
        "subprocess.Popen", "pty.spawn", "ctypes.dlopen", "ctypes.dlsym", "pickle.find_class",
        "socket.connect", "socket.bind", "socket.getaddrinfo", "urllib.Request",
        "webbrowser.open", "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink",
        "os.truncate", "shutil.rmtree", "shutil.copyfile", "code.__new__",
    }
)  # fmt: skip


WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def readable_roots(allowed: Path) -> tuple[str, ...]:
    """Where validate may open files: the specs' folder and Python's own install."""
    import keraspec

    package = Path(keraspec.__file__).resolve().parent
    return tuple(
        os.path.realpath(p) + os.sep
        for p in {str(allowed), sys.prefix, sys.base_prefix, sys.exec_prefix, str(package)}
    )


def watch(events: list[list[str]], roots: tuple[str, ...]) -> None:
    """Record forbidden audit events and opens outside ``roots``; never raise from the hook."""

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int):  # an already open descriptor
                return
            real = os.path.realpath(os.fsdecode(path))
            # os.open and tempfile.mkstemp give no mode string: their flags say it.
            writes = isinstance(mode, str) and any(c in mode for c in "wax+")
            writes = writes or bool(isinstance(flags, int) and flags & WRITE_FLAGS)
            if writes or (not (real + os.sep).startswith(roots) and real != os.devnull):
                events.append([event, real, str(mode)])
        elif event in FORBIDDEN_EVENTS:
            events.append([event, repr(args)[:200]])

    sys.addaudithook(hook)


def child(spec: str, roots: tuple[str, ...], folder: str, report_fd: int) -> None:
    """The forked child: limits, then validate, then output to ``folder`` and the report
    to ``report_fd`` (opened before watching, so writing it is no event). Never returns."""
    status = 99
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
        signal.alarm(TIMEOUT)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            os.dup2(os.open(f"{folder}/{name}", os.O_WRONLY | os.O_CREAT), fd)
        from keraspec.cli import main

        events: list[list[str]] = []
        watch(events, roots)
        code = main(["validate", spec])
        sys.stdout.flush()
        sys.stderr.flush()
        report = {"code": int(code), "modules": sorted(sys.modules), "events": events}
        os.write(report_fd, json.dumps(report).encode())
        status = 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(status)


def run(spec: str, roots: tuple[str, ...]) -> dict:
    """Validate ``spec`` in a forked child; what it printed, returned and cost."""
    with tempfile.TemporaryDirectory() as folder:
        report_fd = os.open(f"{folder}/report", os.O_WRONLY | os.O_CREAT)
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            child(spec, roots, folder, report_fd)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - start
        os.close(report_fd)
        result = {
            "spec": spec,
            "seconds": round(seconds, 4),
            "max_rss_kib": usage.ru_maxrss,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "status": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "stdout": Path(folder, "stdout").read_text(errors="replace"),
            "stderr": Path(folder, "stderr").read_text(errors="replace"),
        }
        report = Path(folder, "report").read_bytes()
    result.update(json.loads(report) if report else {"code": None, "modules": [], "events": []})
    return result


def main(argv: list[str]) -> None:
    output, allowed, *specs = argv
    import keraspec.cli  # noqa: F401  imported once, before forking: every child has it

    roots = readable_roots(Path(allowed))
    results = [run(spec, roots) for spec in specs]
    Path(output).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
