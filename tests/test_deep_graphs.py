"""Deep graphs build: Keras recurses once per layer, and keraspec gives it room.

At Python's default recursion limit, Keras 3 stops a functional model near 990 chained
layers with RecursionError; a legal spec of 5,000 chained layers must still compile.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from keraspec.cli import ExitCode, main
from keraspec.recursion import with_room_for

CHAIN = 5_000


def chain_spec(length: int) -> str:
    nodes = "\n".join(
        f"  d{i}: {{type: Dense, units: 4, inputs: {'x' if i == 0 else f'd{i - 1}'}}}"
        for i in range(length)
    )
    head = "keraspec: 1\nname: chain\ninputs:\n  x: {shape: [4]}\n"
    return f"{head}nodes:\n{nodes}\noutputs: [d{length - 1}]\n"


def depth(n: int) -> int:
    return 0 if n == 0 else 1 + depth(n - 1)


def test_deep_work_runs_with_room_and_the_limit_is_put_back() -> None:
    limit = sys.getrecursionlimit()
    with pytest.raises(RecursionError):
        depth(limit + 100)
    assert with_room_for(20_000, lambda: depth(20_000)) == 20_000
    assert sys.getrecursionlimit() == limit


def test_shallow_work_runs_on_the_calling_thread() -> None:
    import threading

    assert with_room_for(10, threading.current_thread) is threading.current_thread()


def test_an_error_in_deep_work_reaches_the_caller() -> None:
    def fail() -> None:
        raise ValueError("inside")

    with pytest.raises(ValueError, match="inside"):
        with_room_for(5_000, fail)


@pytest.mark.keras
def test_a_5000_layer_chain_compiles_and_saves(tmp_path: Path, capsys) -> None:
    import keras

    spec = tmp_path / "chain.yaml"
    spec.write_text(chain_spec(CHAIN))
    output = tmp_path / "chain.keras"
    limit = sys.getrecursionlimit()
    assert main(["compile", str(spec), "-o", str(output)]) == ExitCode.OK
    assert capsys.readouterr().err.endswith(f"wrote {output}\n")
    assert sys.getrecursionlimit() == limit
    model = with_room_for(CHAIN, lambda: keras.saving.load_model(output))
    assert len(model.layers) == CHAIN + 1  # and the input
    assert model.count_params() == CHAIN * (4 * 4 + 4)
    keras.backend.clear_session()
