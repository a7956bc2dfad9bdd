"""A ``tf.distribute`` strategy by the name a spec or ``--strategy`` gives.

TensorFlow's own strategies, nothing home-made: the model is built and compiled
inside ``strategy.scope()`` and Keras's ``model.fit`` runs the replicas.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import tensorflow as tf


class StrategyError(Exception):
    """A strategy that cannot run here (no TF_CONFIG, no TPU ...); the message says why."""


class KerasMultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """``MultiWorkerMirroredStrategy`` whose ``reduce`` takes the two forms Keras 3 passes.

    Keras 3's TensorFlow trainer calls ``strategy.reduce`` with a whole data batch
    (a nested structure, in ``_maybe_symbolic_build``) and with scalar metrics and
    ``axis=0`` (in ``reduce_per_replica``). With one worker the base class lets both
    through; with several it sends them to collective ops, which take one tensor with
    an axis to reduce, and ``model.fit`` fails (keras-team/keras#20585). Reduced leaf
    by leaf, and across replicas only for scalars, both mean what Keras means, and the
    collectives, variables and data sharding stay TensorFlow's.
    """

    def reduce(self, reduce_op: Any, value: Any, axis: int | None = None) -> Any:
        base = super()

        def one(leaf: Any) -> Any:
            scalar = axis is not None and getattr(leaf, "shape", None) is not None
            scalar = scalar and leaf.shape.rank == 0
            return base.reduce(reduce_op, leaf, axis=None if scalar else axis)

        return tf.nest.map_structure(one, value)


def make_strategy(name: str, devices: Sequence[str] | None = None) -> tf.distribute.Strategy:
    """The strategy called ``name`` (see docs/training.md, "Distribution")."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(_local_devices(devices) if devices else None)
    if name == "multi_worker":
        _require_tf_config()
        return KerasMultiWorkerMirroredStrategy()
    if name == "tpu":
        return _tpu_strategy()
    if name == "parameter_server":
        raise StrategyError(
            "Keras 3's model.fit does not run under ParameterServerStrategy "
            "(it needs tf.keras 2's ClusterCoordinator support); use multi_worker"
        )
    raise StrategyError(f"unknown strategy `{name}`")


def _local_devices(devices: Sequence[str]) -> list[str]:
    """``devices``, each checked to be one of this machine's (logical) devices."""
    local = [tf.DeviceSpec.from_string(d.name) for d in tf.config.list_logical_devices()]
    known = {(d.device_type, d.device_index) for d in local}
    for device in devices:
        try:
            spec = tf.DeviceSpec.from_string(device)
        except ValueError:
            spec = None
        if spec is None or (spec.device_type, spec.device_index) not in known:
            names = ", ".join(f"/{d.device_type.lower()}:{d.device_index}" for d in local)
            raise StrategyError(f"no device `{device}` here; this machine has {names}")
    return list(devices)


def _require_tf_config() -> None:
    try:
        config = json.loads(os.environ.get("TF_CONFIG", ""))
    except json.JSONDecodeError:
        config = None
    if not isinstance(config, dict) or "cluster" not in config or "task" not in config:
        raise StrategyError(
            "the multi_worker strategy reads its cluster from TF_CONFIG, which is not set "
            'or not JSON with "cluster" and "task" (see docs/training.md)'
        )


def _tpu_strategy() -> tf.distribute.Strategy:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise StrategyError(f"no TPU found: {e}") from None
    return tf.distribute.TPUStrategy(resolver)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the results: always, except a multi-worker non-chief."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return True
    if resolver.task_type in (None, "chief"):
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief
