"""`pip install keraspec` validates and summarizes without TensorFlow; `keraspec[tensorflow]`
adds compile.

Installs the package into a fresh virtual environment, without the extra, and
runs the command line there (about 10 s).
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_without_tensorflow_validate_and_summary_work_and_compile_says_what_to_install(
    tmp_path: Path,
) -> None:
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    bin_ = env / ("Scripts" if sys.platform == "win32" else "bin")
    install = [bin_ / "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT)]
    subprocess.run(install, check=True, capture_output=True, timeout=600)
    has_tf = subprocess.run([bin_ / "python", "-c", "import tensorflow"], capture_output=True)
    assert has_tf.returncode != 0  # the extra was not installed

    specs = [
        str(ROOT / "specs" / "headline.yaml"),
        str(ROOT / "specs" / "applications" / "resnet50.yaml"),
    ]
    ok = subprocess.run([bin_ / "keraspec", "validate", *specs], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stderr == "ok: 0 errors, 0 warnings in 2 files\n"
    summary = subprocess.run(
        [bin_ / "keraspec", "summary", specs[0]], capture_output=True, text=True
    )
    assert summary.returncode == 0, summary.stderr
    assert "Total params: 5,200,610" in summary.stdout

    out = tmp_path / "m.keras"
    built = subprocess.run(
        [bin_ / "keraspec", "compile", specs[0], "-o", str(out)], capture_output=True, text=True
    )
    assert built.returncode == 2 and not out.exists()
    assert built.stderr == (
        "Error: this command builds the model with Keras, and keras and tensorflow are not"
        ' installed: pip install "keraspec[tensorflow]"\n'
    )
