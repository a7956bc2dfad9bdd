"""Shape rules for recurrent layers and wrappers: LSTM, GRU, SimpleRNN, RNN and its cells,
ConvLSTM1D/2D/3D, Bidirectional, TimeDistributed.

Keras builds an RNN from its shapes alone (``compute_output_shape``): it never traces
the recurrence, so ``initial_state`` tensors are not checked at build, and neither is
the wrapped layer's input spec when a wrapper builds it (``DIRECT``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..ir import KerasObject
from .registry import Inputs, Layer, NoRule, Result, expect_rank, layer
from .tensor import Shape, ShapeError, Tensor, show

# Call flags only rules pass to nested rules (no spec can write these names):
DIRECT = "keraspec:built-directly"  # a wrapper builds the layer itself: no input-spec check
AS_CELL = "keraspec:cell-of-rnn"  # an RNN asks its cell for state sizes and weights

GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}  # kernel blocks per unit
RECURRENT = ("LSTM", "GRU", "SimpleRNN", "RNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
MERGE_MODES = ("concat", "sum", "mul", "ave", None)


@dataclass(frozen=True)
class Cell:
    """What an RNN reads from its cell: Keras's ``state_size`` and ``output_size``.

    ``state_size`` is an int, or a tuple of ints and tuples (a stack of cells), as in Keras.
    """

    state_size: int | tuple[Any, ...]
    output_size: int


def direct(inputs: Inputs) -> bool:
    return bool(inputs.call.get(DIRECT))


def cell_weights(lay: Layer, gates: int, input_dim: int) -> tuple[Shape, ...]:
    """Kernel, recurrent kernel and bias of an LSTM (4 gates), GRU (3) or SimpleRNN (1) cell."""
    units = lay["units"]
    weights: list[Shape] = [(input_dim, gates * units), (units, gates * units)]
    if lay["use_bias"]:
        two_biases = gates == 3 and lay["reset_after"]  # GRU: input and recurrent biases
        weights.append((2, 3 * units) if two_biases else (gates * units,))
    return tuple(weights)


def step_of(x: Tensor) -> Shape:
    """One time step of a sequence input, with a known last axis (the cell's kernel needs it)."""
    shape = x.shape
    assert shape is not None
    step = (shape[0], *shape[2:])
    if step[-1] is None:
        raise ShapeError(
            f"each time step, of shape {show(step)}, must have a known last axis; "
            f"received {show(shape)}"
        )
    return step


def check_stateful(lay: Layer, x: Tensor) -> None:
    if lay["stateful"] and x.shape[0] is None:  # type: ignore[index]
        raise ShapeError(
            f"`stateful: true` needs a fixed batch size (`batch_size:` on the input); "
            f"received {show(x.shape)}"
        )


def rnn_outputs(lay: Layer, x: Tensor, cell: Cell, weights: tuple[Shape, ...]) -> Result:
    """The output (last step or all steps), then the states when ``return_state``."""
    batch, steps = x.shape[0], x.shape[1]  # type: ignore[index]
    if lay["return_sequences"]:
        output = lay.out((batch, steps, cell.output_size))
    else:
        output = lay.out((batch, cell.output_size))
    if not lay["return_state"]:
        return Result(output, weights)
    sizes = cell.state_size if isinstance(cell.state_size, tuple) else (cell.state_size,)
    if any(isinstance(s, tuple) for s in sizes):  # a stack with an LSTMCell: nested states
        raise NoRule(f"{lay.type} returning nested states")
    return Result((output, *(lay.out((batch, s)) for s in sizes)), weights)


@layer("LSTM", "GRU", "SimpleRNN")
def recurrent(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    if not direct(inputs):
        expect_rank(x, 3)
    step = step_of(x)
    weights = cell_weights(lay, GATES[lay.type], step[-1])  # type: ignore[arg-type]
    check_stateful(lay, x)
    units = lay["units"]
    state = (units, units) if lay.type == "LSTM" else units
    return rnn_outputs(lay, x, Cell(state, units), weights)


@layer("LSTMCell", "GRUCell", "SimpleRNNCell")
def rnn_cell(lay: Layer, inputs: Inputs) -> Result:
    if not inputs.call.get(AS_CELL):
        raise NoRule(lay.type)  # called on its own with states: not covered
    step = inputs.tensor().shape
    kind = lay.type.removesuffix("Cell")
    units = lay["units"]
    state = (units, units) if kind == "LSTM" else units
    return Result(Cell(state, units), cell_weights(lay, GATES[kind], step[-1]))  # type: ignore[index]


@layer("StackedRNNCells")
def stacked_cells(lay: Layer, inputs: Inputs) -> Result:
    if not inputs.call.get(AS_CELL):
        raise NoRule(lay.type)
    return stack(lay, lay["cells"] or (), inputs.tensor())


def stack(lay: Layer, cells: tuple[Any, ...], step: Tensor) -> Result:
    """Cells one after the other: each one's step input is the previous one's output."""
    if not cells:
        raise ShapeError("needs at least one cell; received an empty list")
    sizes: list[Any] = []
    weights: list[Shape] = []
    for value in cells:
        built = cell_of(lay, value, step)
        sizes.append(built.outputs.state_size)
        weights += built.weights
        step = Tensor((step.shape[0], built.outputs.output_size), step.dtype)  # type: ignore[index]
    return Result(Cell(tuple(sizes), built.outputs.output_size), tuple(weights))


def cell_of(lay: Layer, value: Any, step: Tensor) -> Result:
    built = None if isinstance(value, tuple) else lay.inner(value, cell_call(step))
    if built is None or not isinstance(built.outputs, Cell):
        raise ShapeError(
            "`cell` must be an RNN cell (LSTMCell, GRUCell, SimpleRNNCell, StackedRNNCells "
            f"or a list of cells); received {name_of(value)}"
        )
    return built


def cell_call(step: Tensor) -> Inputs:
    return Inputs((step,), call={AS_CELL: True})


def name_of(value: Any) -> str:
    if isinstance(value, tuple):
        return "a list"
    return value.type if isinstance(value, KerasObject) else f"`{value}`"


@layer("RNN")
def rnn(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    if x.rank < 2:
        raise ShapeError(f"expects a sequence input (batch, time, ...); received {show(x.shape)}")
    step = Tensor(step_of(x), x.dtype)
    cell = lay["cell"]
    built = stack(lay, cell, step) if isinstance(cell, tuple) else cell_of(lay, cell, step)
    check_stateful(lay, x)
    return rnn_outputs(lay, x, built.outputs, built.weights)


@layer("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
def conv_lstm(lay: Layer, inputs: Inputs) -> Result:
    rank = int(lay.type[-2])
    x = inputs.tensor()
    kernel, strides, dilation, padding = conv_arguments(lay, rank)
    shape = expect_rank(x, rank + 3)
    first = lay["data_format"] == "channels_first"
    step = (shape[0], *shape[2:])
    spatial, channels = (step[2:], step[1]) if first else (step[1:-1], step[-1])
    if None in spatial:
        raise ShapeError(f"needs static spatial axes; received {show(shape)}")
    if channels is None:
        raise ShapeError(f"needs a known channel axis; received {show(shape)}")
    filters = lay["filters"]
    weights: list[Shape] = [(*kernel, channels, 4 * filters), (*kernel, filters, 4 * filters)]
    if lay["use_bias"]:
        weights.append((4 * filters,))
    check_stateful(lay, x)
    sizes = conv_sizes(spatial, kernel, strides, dilation, padding)  # type: ignore[arg-type]
    if any(n <= 0 for n in sizes):
        raise ShapeError(
            f"kernel {show(kernel)} with dilation {show(dilation)} does not fit the spatial "
            f"axes of {show(shape)} (`padding: valid`)"
        )
    state = (step[0], filters, *sizes) if first else (step[0], *sizes, filters)
    output = (step[0], shape[1], *state[1:]) if lay["return_sequences"] else state
    if lay["return_state"]:
        return Result((lay.out(output), lay.out(state), lay.out(state)), tuple(weights))
    return Result(lay.out(output), tuple(weights))


def conv_arguments(lay: Layer, rank: int) -> tuple[Shape, Shape, Shape, str]:
    """``kernel_size``, ``strides``, ``dilation_rate`` (one entry per axis) and ``padding``."""
    kernel, strides, dilation = (
        per_axis(lay[arg], rank, arg) for arg in ("kernel_size", "strides", "dilation_rate")
    )
    if max(strides) > 1 and max(dilation) > 1:  # type: ignore[type-var]
        raise ShapeError(
            f"`strides` {show(strides)} and `dilation_rate` {show(dilation)} cannot both exceed 1"
        )
    padding = str(lay["padding"]).lower()
    if padding not in ("valid", "same"):
        raise ShapeError(f"`padding` must be `valid` or `same`; received `{lay['padding']}`")
    return kernel, strides, dilation, padding


def per_axis(value: Any, rank: int, arg: str) -> Shape:
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise ShapeError(
            f"`{arg}` needs {rank} values, one per spatial axis; received {list(value)}"
        )
    return tuple(value)


def conv_sizes(
    spatial: Shape, kernel: Shape, strides: Shape, dilation: Shape, padding: str
) -> tuple[int, ...]:
    """Output lengths of a convolution, as ``compute_conv_output_shape`` computes them."""
    if padding == "same":
        return tuple((n - 1) // s + 1 for n, s in zip(spatial, strides, strict=True))  # type: ignore[operator]
    return tuple(
        (n - d * (k - 1) - 1) // s + 1  # type: ignore[operator]
        for n, k, s, d in zip(spatial, kernel, strides, dilation, strict=True)
    )


@layer("Bidirectional")
def bidirectional(lay: Layer, inputs: Inputs) -> Result:
    forward, backward = lay["layer"], lay["backward_layer"]
    check_pair(forward, backward)
    if lay["merge_mode"] not in MERGE_MODES:
        raise ShapeError(
            "`merge_mode` must be `concat`, `sum`, `mul`, `ave` or null; "
            f"received {lay['merge_mode']!r}"
        )
    if holds_names(forward) or holds_names(backward):
        raise NoRule("Bidirectional copying a layer given by name")
    x = inputs.tensor()
    built = Inputs((x,), call={DIRECT: True})
    ahead = lay.inner(forward, built if direct(inputs) else Inputs((x,)))  # the wrapper's spec
    behind = lay.inner(backward or forward, built)
    outputs = ahead.outputs if isinstance(ahead.outputs, tuple) else (ahead.outputs,)
    if flag(forward, "stateful") and flag(forward, "return_state"):  # Keras's compute_mask fails
        raise ShapeError("cannot return the states of a stateful layer (Keras fails to build it)")
    return Result(merged(lay, *outputs), ahead.weights + behind.weights)


def merged(lay: Layer, output: Tensor, *states: Tensor) -> Tensor | tuple[Tensor, ...]:
    """Keras's shapes: the forward layer's, for both directions (the backward one's are not
    consulted), then the forward states twice."""
    shape: Shape = output.shape  # type: ignore[assignment]
    mode = lay["merge_mode"]
    if mode == "concat":
        shape = (*shape[:-1], shape[-1] * 2)  # type: ignore[operator]
    both = (lay.out(shape),) * (2 if mode is None else 1)
    states = tuple(lay.out(s.shape) for s in states)  # type: ignore[arg-type]
    result = (*both, *states, *states)
    return result[0] if len(result) == 1 else result


def check_pair(forward: Any, backward: Any) -> None:
    """What Bidirectional's constructor checks of the two layers it runs."""
    for arg, value in (("layer", forward), ("backward_layer", backward)):
        if value is not None and getattr(value, "type", None) not in RECURRENT:
            raise ShapeError(f"`{arg}` must be a recurrent layer; received {name_of(value)}")
    if backward is None:
        if flag(forward, "go_backwards"):
            raise ShapeError(
                "`layer` has `go_backwards: true`, and so would its backward copy; "
                "give a `backward_layer` that goes forwards"
            )
        return
    for arg in ("go_backwards", "stateful", "return_sequences", "return_state"):
        same = flag(forward, arg) == flag(backward, arg)
        if same == (arg == "go_backwards"):
            wanted = "different" if same else "the same"
            raise ShapeError(
                f"`layer` and `backward_layer` need {wanted} `{arg}`; received "
                f"{flag(forward, arg)} and {flag(backward, arg)}"
            )


def holds_names(value: Any) -> bool:
    """Whether a layer names a shared cell: Bidirectional's copies of it get new cells."""
    if isinstance(value, tuple):
        return any(holds_names(v) for v in value)
    if isinstance(value, KerasObject):
        return holds_names(value.config.get("cell")) or holds_names(value.config.get("cells"))
    return isinstance(value, str)


def flag(obj: KerasObject, arg: str) -> bool:
    return bool(obj.config.get(arg, False))  # these flags default to false in every RNN


@layer("TimeDistributed")
def time_distributed(lay: Layer, inputs: Inputs) -> Result:
    x = inputs.tensor()
    shape: Shape = x.shape  # type: ignore[assignment]
    if len(shape) < 3:
        raise ShapeError(
            f"expects an input of rank 3 or more (batch and time axes included); "
            f"received {show(shape)}"
        )
    step = Tensor((shape[0], *shape[2:]), x.dtype)
    inner = lay.inner(lay["layer"], Inputs((step,), call={DIRECT: True}))
    out = inner.outputs
    if not isinstance(out, Tensor):
        count = len(out) if isinstance(out, tuple) else 0
        raise ShapeError(f"wraps a layer with one output; {name_of(lay['layer'])} returns {count}")
    if not out.known:
        raise NoRule(f"TimeDistributed of {name_of(lay['layer'])}")
    return Result(lay.out((out.shape[0], shape[1], *out.shape[1:])), inner.weights)  # type: ignore[index]
