"""Training data for a spec: arrays named after its inputs and outputs, checked or made up.

A data file is an ``.npz`` whose arrays are named after the spec's inputs (and, to
train or evaluate, its outputs). Everything wrong with it is found before Keras
sees it, so a bad file costs no training time. ``synthetic`` makes random data of
the right shapes and types, so that any spec can be smoke-trained in one command.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..ir import Call, Program, TensorRef
from ..shapes import Inference

# What a target looks like for a loss (by Keras name or class): class ids, one-hot
# rows, 0/1 labels; any other loss (mse, huber ...) compares floats.
SPARSE = frozenset({"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"})
ONE_HOT = frozenset(
    {
        "categorical_crossentropy",
        "CategoricalCrossentropy",
        "categorical_focal_crossentropy",
        "CategoricalFocalCrossentropy",
        "categorical_hinge",
        "CategoricalHinge",
        "kl_divergence",
        "KLDivergence",
        "kld",
    }
)
BINARY = frozenset(
    {
        "binary_crossentropy",
        "BinaryCrossentropy",
        "binary_focal_crossentropy",
        "BinaryFocalCrossentropy",
        "hinge",
        "Hinge",
        "squared_hinge",
        "SquaredHinge",
    }
)
VARIABLE_LENGTH = 8  # what --synthetic puts where a shape says None
INTEGER_RANGE = 2  # integer inputs no Embedding reads: 0 or 1


class DataError(Exception):
    """A data file that does not fit the spec; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


@dataclass(frozen=True)
class Slot:
    """One array the data holds: a model input, or the target of an output."""

    name: str
    role: str  # "input" or "output"
    shape: tuple[int | None, ...] | None  # without the batch axis; None: not known statically
    dtype: str
    target: str = "float"  # for outputs: "sparse", "one_hot", "binary" or "float"
    classes: int | None = None  # for "sparse": how many class ids (the output's last axis)
    ids: int | None = None  # for inputs an Embedding reads: its input_dim (ids 0 … ids-1)

    def describe(self) -> str:
        return f"{self.role} `{self.name}`: shape {show_shape(self.shape)}, {self.dtype}"


def show_shape(shape: tuple[int | None, ...] | None) -> str:
    """A per-sample shape as a data file holds it: ``(N, 100)``, N samples."""
    if shape is None:
        return "(N, ...)"
    if not shape:
        return "(N,)"  # one value per sample: class ids
    return "(" + ", ".join(["N", *("any" if d is None else str(d) for d in shape)]) + ")"


def input_slots(program: Program) -> list[Slot]:
    ids = embedding_ranges(program)
    return [
        Slot(d.id, "input", d.shape, d.dtype or "float32", ids=ids.get(d.id))
        for d in program.main.inputs
    ]


def output_slots(program: Program, inference: Inference) -> list[Slot]:
    """One target per output, shaped for the output's loss."""
    slots = []
    for i, ((key, _), tensor) in enumerate(
        zip(program.main.outputs, inference.main.outputs, strict=True)
    ):
        shape = tuple(tensor.shape[1:]) if tensor.shape is not None else None
        kind = target_kind(loss_of(program, key, i))
        if kind == "sparse" and shape is not None:
            slots.append(Slot(key, "output", shape[:-1], "int32", kind, classes=shape[-1]))
        else:
            slots.append(Slot(key, "output", shape, "float32", kind))
    return slots


def loss_of(program: Program, key: str, index: int) -> Any:
    """The loss compile gives output ``key`` (at ``index``): a name or a KerasObject."""
    loss = program.compile.loss if program.compile is not None else None
    if isinstance(loss, Mapping):
        return loss.get(key)
    if isinstance(loss, tuple):
        return loss[index]
    return loss


def target_kind(loss: Any) -> str:
    name = getattr(loss, "type", loss)
    if name in SPARSE:
        return "sparse"
    if name in ONE_HOT:
        return "one_hot"
    return "binary" if name in BINARY else "float"


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays in an ``.npz`` file; pickled objects are refused (they could run code)."""
    if not zipfile.is_zipfile(path):  # an .npz is a zip archive of .npy files
        with open(path, "rb") as f:
            single = f.read(6) == b"\x93NUMPY"
        reason = "a single array (.npy)" if single else "not an .npz file"
        raise DataError(str(path), [f"{reason}: write named arrays with numpy.savez"])
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        reason = "it holds Python objects" if "pickle" in str(e) else str(e)
        raise DataError(str(path), [f"cannot read it: {reason}"]) from None


def check_arrays(
    arrays: Mapping[str, np.ndarray], slots: list[Slot], source: str, ignored: Iterable[str] = ()
) -> None:
    """Raise ``DataError`` listing every missing, extra, mis-shaped or mis-typed array.

    ``ignored`` names arrays that may be there and are not used (targets, to predict).
    """
    wanted = {s.name: s for s in slots}
    problems = [
        f"missing array `{s.name}` for {s.describe()}" for s in slots if s.name not in arrays
    ]
    names = ", ".join(f"`{s.name}`" for s in slots)
    for name, array in arrays.items():
        if name in ignored:
            continue
        if name not in wanted:
            problems.append(f"unexpected array `{name}`: the spec's arrays are {names}")
        else:
            problems += _array_problems(array, wanted[name])
    problems += _sample_count_problems({n: a for n, a in arrays.items() if n in wanted})
    if problems:
        raise DataError(source, problems)


def _array_problems(array: np.ndarray, slot: Slot) -> list[str]:
    problems = []
    expected = (None, *slot.shape) if slot.shape is not None else array.shape
    fits = _shape_fits(array.shape, expected)
    if slot.target == "sparse":  # class ids as (N,) or (N, 1), as Keras takes them
        fits = fits or _shape_fits(array.shape, (*expected, 1))
    if not fits:
        problems.append(
            f"array `{slot.name}` has shape {array.shape}; {slot.role} `{slot.name}` "
            f"needs {show_shape(slot.shape)}"
        )
    if not castable(array.dtype, slot.dtype):
        problems.append(
            f"array `{slot.name}` has dtype {dtype_name(array.dtype)}, which does not convert to "
            f"{slot.role} `{slot.name}`'s {slot.dtype}"
        )
    elif problem := _id_problem(array, slot):
        problems.append(problem)
    return problems


def _id_problem(array: np.ndarray, slot: Slot) -> str | None:
    """Ids an Embedding or a sparse loss would look up past its table: TensorFlow would
    stop mid-epoch with an op error, so they are refused before training."""
    high = slot.ids if slot.role == "input" else slot.classes if slot.target == "sparse" else None
    if high is None or array.dtype.kind not in "iu" or array.size == 0:
        return None
    low, top = int(array.min()), int(array.max())
    if low >= 0 and top < high:
        return None
    what = f"an Embedding with input_dim {high}" if slot.role == "input" else f"{high} classes"
    return (
        f"array `{slot.name}` holds ids from {low} to {top}; {slot.role} `{slot.name}` "
        f"has {what}, so ids must be 0 to {high - 1}"
    )


def _shape_fits(shape: tuple[int, ...], expected: tuple[int | None, ...]) -> bool:
    return len(shape) == len(expected) and all(
        e is None or e == d for e, d in zip(expected, shape, strict=True)
    )


def dtype_name(dtype: np.dtype) -> str:
    """``int64``, ``float32`` ...; text arrays are ``str`` whatever their width (``<U7``)."""
    return "str" if dtype.kind in "US" else dtype.name


def castable(have: np.dtype, want: str) -> bool:
    """Whether ``have`` values mean the same as ``want`` ones: int64 → int32 yes, float → int no."""
    if have.kind not in "biuf":  # strings, objects, dates, complex
        return False
    return bool(np.can_cast(have, np.dtype(want), casting="same_kind"))


def _sample_count_problems(arrays: Mapping[str, np.ndarray]) -> list[str]:
    counts = {name: a.shape[0] for name, a in arrays.items() if a.ndim > 0}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"`{n}` {c}" for n, c in counts.items())
        return [f"arrays have different numbers of samples: {listed}"]
    if counts and 0 in counts.values():
        return ["the arrays hold no sample"]
    return []


def as_model_data(arrays: Mapping[str, np.ndarray], slots: list[Slot]) -> dict[str, np.ndarray]:
    """The checked arrays converted to the dtypes the model declares."""
    return {s.name: np.asarray(arrays[s.name], dtype=s.dtype) for s in slots if s.name in arrays}


def synthetic(
    program: Program, slots: list[Slot], count: int, seed: int | None
) -> dict[str, np.ndarray]:
    """``count`` random samples for every slot, shaped and typed from the spec."""
    if unknown := [s for s in slots if s.shape is None]:
        problems = [
            f"the shape of {s.role} `{s.name}` is not known without Keras "
            "(`keraspec validate -v` names the node), so it cannot be made up: use --data"
            for s in unknown
        ]
        raise DataError("--synthetic", problems)
    rng = np.random.default_rng(seed)
    ranges = embedding_ranges(program)
    return {s.name: _random(s, count, rng, ranges.get(s.name)) for s in slots}


def _random(slot: Slot, count: int, rng: np.random.Generator, high: int | None) -> np.ndarray:
    shape = (count, *(VARIABLE_LENGTH if d is None else d for d in slot.shape))
    if slot.target == "sparse":
        return rng.integers(0, slot.classes or INTEGER_RANGE, shape).astype(slot.dtype)
    if slot.target == "one_hot":
        return np.eye(shape[-1], dtype=slot.dtype)[rng.integers(0, shape[-1], shape[:-1])]
    if slot.target == "binary" or np.dtype(slot.dtype).kind == "b":
        return rng.integers(0, 2, shape).astype(slot.dtype)
    if np.dtype(slot.dtype).kind in "iu":
        return rng.integers(0, high or INTEGER_RANGE, shape).astype(slot.dtype)
    return rng.random(shape, dtype=np.float32).astype(slot.dtype)


def embedding_ranges(program: Program) -> dict[str, int]:
    """For inputs an ``Embedding`` reads directly: its ``input_dim`` (ids go 0 … input_dim-1).

    An input read by several embeddings gets the smallest, so every id fits each one.
    """
    ranges: dict[str, int] = {}
    for call in program.main.calls:
        input_dim = _embedding_input_dim(program, call)
        for arg in call.args if input_dim is not None else ():
            if isinstance(arg, TensorRef) and arg.index is None:
                ranges[arg.node] = min(ranges.get(arg.node, input_dim), input_dim)
    return ranges


def _embedding_input_dim(program: Program, call: Call) -> int | None:
    """The ``input_dim`` of the Embedding a call makes or shares; None for other calls."""
    if call.kind == "new_layer" and call.target == "Embedding":
        return call.config.get("input_dim")
    if call.kind == "shared_layer":
        layer = next((x for x in program.layers if x.name == call.target), None)
        if layer is not None and layer.type == "Embedding":
            return layer.config.get("input_dim")
    return None
