"""Check a spec's ``fit:`` and ``distribute:`` sections: callbacks, their arguments, paths.

Runs without Keras, like the catalog check: the allowed callbacks and their
constructor arguments are in the catalog. Paths a callback writes (a checkpoint,
a CSV log, TensorBoard logs) must stay inside the directory ``keraspec fit`` runs
in, for the same reason includes must stay beside the spec: a spec from a pull
request must not write to ``~/.bashrc``.
"""

from __future__ import annotations

from typing import Any

from . import arguments, catalog
from .diagnostics import Diagnostic, did_you_mean, written_as
from .parse import DataPath, Reporter, source_of
from .paths import path_problem
from .schema import ObjectSpec, Spec

# Keras callbacks that exist but that a spec may not name, and why.
DENIED_CALLBACKS = {
    "LambdaCallback": "it runs Python functions",
    "LearningRateScheduler": "its schedule is a Python function "
    "(ReduceLROnPlateau lowers the learning rate, by arguments)",
    "RemoteMonitor": "it sends the training logs to a URL",
    "ProgbarLogger": "keraspec fit shows Keras's progress bar itself (--quiet hides it)",
    "History": "model.fit always records the history",
    "OrbaxCheckpoint": "it needs the JAX backend",
    "SwapEMAWeights": "it needs an optimizer with use_ema",
}
# The argument of each callback that names a file or directory the run writes.
PATH_ARGS = {
    "BackupAndRestore": "backup_dir",
    "CSVLogger": "filename",
    "ModelCheckpoint": "filepath",
    "TensorBoard": "log_dir",
}
# Of those, the ones naming a file, whose folder the run makes (the others name a folder).
NAMES_A_FILE = frozenset({"CSVLogger", "ModelCheckpoint"})
# Arguments that take more than their default's kind: TensorBoard's profile_batch is
# a step or a (start, stop) pair.
LOOSE_DEFAULTS = frozenset({"profile_batch"})
PATH_HINT = "write it relative to the directory keraspec fit runs in, e.g. checkpoints/best.keras"


def check(spec: Spec) -> list[Diagnostic]:
    """Every problem in ``spec``'s ``fit:`` and ``distribute:`` sections."""
    r = Reporter(source_of(spec))
    if spec.fit is not None:
        _check_fit(r, spec)
    if spec.distribute is not None:
        _check_distribute(r, spec)
    return r.diagnostics


def _check_fit(r: Reporter, spec: Spec) -> None:
    if spec.compile is None or spec.compile.loss is None:
        message = "`fit` trains the model, which needs a loss: the spec has no `compile.loss`"
        r.key_error(("fit",), "E800", message, "add compile: {optimizer: adam, loss: mse}")
    for i, callback in enumerate(spec.fit.callbacks):
        _check_callback(r, callback, ("fit", "callbacks", i))


def _check_callback(r: Reporter, callback: str | ObjectSpec, path: DataPath) -> None:
    name = callback if isinstance(callback, str) else callback.type
    where = path if isinstance(callback, str) else (*path, "type")
    known = catalog.classes("callbacks")
    if name in DENIED_CALLBACKS:
        message = f"callback `{name}` is not allowed: {DENIED_CALLBACKS[name]}"
        r.error(where, "E802", message)
        return
    if name not in known:
        hint = did_you_mean(name.rsplit(".", 1)[-1], known)
        r.error(where, "E801", f"unknown callback `{name}`", hint)
        return
    args = {} if isinstance(callback, str) else callback.args
    _check_callback_args(r, name, args, known[name]["args"], path)


def _check_callback_args(
    r: Reporter, name: str, args: dict[str, Any], known: dict[str, Any], path: DataPath
) -> None:
    who = f"callback `{name}`"
    for arg, value in args.items():
        if arg not in known:
            hint = did_you_mean(str(arg), known)
            r.key_error((*path, arg), "E803", f"{who}: unknown argument `{arg}`", hint)
        elif message := value_problem(arg, value, known[arg]):
            r.error(
                (*path, arg), "E804", f"{who}: `{arg}` {message}; received {_received(arg, value)}"
            )
        elif arg == PATH_ARGS.get(name) and (problem := path_problem(value)):
            message = f"{who}: `{arg}` {problem}; received {_received(arg, value)}"
            r.error((*path, arg), "E805", message, PATH_HINT)
    for arg, info in known.items():
        if info.get("required") and arg not in args:
            r.key_error(path, "E804", f"{who}: missing required argument `{arg}`")


def value_problem(arg: str, value: Any, info: dict[str, Any]) -> str | None:
    """The catalog's type for ``arg`` if it has one, else the kind of its default.

    Callback docstrings rarely state a type plainly, but their defaults are telling:
    a flag takes true or false, a count or a threshold (``patience: 0``) a number.
    """
    if problem := arguments.type_problem(value, info):
        return problem
    default = info.get("default")
    if value is None or "type" in info or arg in LOOSE_DEFAULTS:
        return None
    if isinstance(default, bool) and not isinstance(value, bool):
        return "must be true or false"
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, (int, float)) and not isinstance(default, bool) and not number:
        return "must be a number"
    return None


def _received(arg: str, value: Any) -> str:
    return f"{arg}={written_as(value)}"


def _check_distribute(r: Reporter, spec: Spec) -> None:
    dist = spec.distribute
    if dist.devices is not None and dist.strategy != "mirrored":
        message = f"`devices` is for the mirrored strategy, not `{dist.strategy}`"
        hint = "the other strategies find their devices themselves (multi_worker: TF_CONFIG)"
        r.key_error(("distribute", "devices"), "E810", message, hint)
    if dist.devices == []:
        r.error(("distribute", "devices"), "E810", "`devices` lists no device")
    if dist.strategy == "parameter_server":
        message = (
            "strategy `parameter_server` cannot train this model: Keras 3's model.fit does "
            "not run under ParameterServerStrategy"
        )
        r.error(("distribute", "strategy"), "E811", message, "use multi_worker")
