"""keraspec fit under tf.distribute strategies, for real, on a CPU-only machine.

Each run is its own process: logical devices must be set before TensorFlow starts,
and a multi-worker cluster is two processes that find each other through TF_CONFIG.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.keras

ROOT = Path(__file__).parent.parent
HEADLINE = ROOT / "specs" / "headline.yaml"
MLP = ROOT / "specs" / "mlp.yaml"
# Seconds for a whole run. A stuck cluster is killed (SIGKILL: a worker waiting for
# its peer was seen to outlive SIGTERM), not waited for.
TIMEOUT = 120
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

# Two logical CPUs out of the one physical CPU, then the command line as usual.
TWO_CPUS = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from keraspec.cli import main
sys.exit(main(sys.argv[1:]))
"""


def iterations(model: Path) -> int:
    """How many training steps the saved model's optimizer took."""
    import keras

    return int(keras.saving.load_model(model).optimizer.iterations.numpy())


def test_mirrored_on_two_logical_cpus(tmp_path) -> None:
    spec = tmp_path / "mlp.yaml"
    spec.write_text(
        MLP.read_text() + "distribute:\n  strategy: mirrored\n  devices: ['/cpu:0', '/cpu:1']\n",
        encoding="utf-8",
    )
    out = tmp_path / "mlp.keras"
    args = ["fit", spec, "--synthetic", "64", "--batch-size", "16", "--quiet", "-o", out]
    result = subprocess.run(
        [sys.executable, "-c", TWO_CPUS, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=ENV,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "strategy: mirrored, 2 replicas in sync" in lines
    assert lines[-1] == f"wrote {out}"
    assert iterations(out) == 4  # 64 samples, global batches of 16: each replica took 8 a step


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_trains_headline_with_two_processes(tmp_path) -> None:
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    out = tmp_path / "headline.keras"
    command = [
        sys.executable, "-m", "keraspec", "fit", str(HEADLINE), "--synthetic", "64",
        "--batch-size", "32", "--strategy", "multi_worker", "--quiet", "-o", str(out),
    ]  # fmt: skip
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(
            subprocess.Popen(
                command,
                env={**ENV, "TF_CONFIG": config},
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    try:
        for worker in workers:
            _, stderr = worker.communicate(timeout=TIMEOUT)
            results.append((worker.returncode, stderr))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert results[0] == (0, f"strategy: multi_worker, 2 replicas in sync\nwrote {out}\n")
    assert results[1] == (0, "strategy: multi_worker, 2 replicas in sync\n")  # not the chief
    assert sorted(p.name for p in tmp_path.iterdir()) == ["headline.keras"]
    assert iterations(out) == 2  # 64 samples in global batches of 32
