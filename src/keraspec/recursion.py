"""Room for Keras's recursion on deep graphs.

Keras's functional graph code (building, ``get_config``, saving) recurses about once
per layer along a chain, so Python's default limit of 1,000 frames stops a model
near 990 chained layers with ``RecursionError``. Deep programs therefore run on a
thread of their own with a larger stack and a recursion limit in proportion to
their size; both are put back afterwards.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

SHALLOW = 500  # layers that fit in the default limit with room to spare
FRAMES_PER_LAYER = 4  # measured: about 1.5 (Keras 3.15, Python 3.11), with margin
STACK_BASE = 64 << 20  # bytes; reserved address space, touched only as deep as used
STACK_PER_LAYER = 16 << 10
STACK_MAX = 1 << 30


def with_room_for(layers: int, work: Callable[[], T]) -> T:
    """``work()``, on a roomier thread when ``layers`` is more than the default limit fits."""
    if layers <= SHALLOW:
        return work()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as e:  # re-raised on the calling thread
            failure.append(e)

    limit = sys.getrecursionlimit()
    size = min(STACK_MAX, STACK_BASE + layers * STACK_PER_LAYER)
    previous_size = threading.stack_size(size)
    # A daemon: Ctrl-C while it works ends the process instead of waiting for it.
    thread = threading.Thread(target=run, name="keraspec-deep-graph", daemon=True)
    try:
        sys.setrecursionlimit(max(limit, 1_000 + FRAMES_PER_LAYER * layers))
        thread.start()
        thread.join()
    finally:
        threading.stack_size(previous_size)
        if not thread.is_alive():  # interrupted, it may still be deep: leave it the room
            sys.setrecursionlimit(limit)
    if failure:
        raise failure[0]
    return outcome[0]
