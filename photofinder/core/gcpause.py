"""Python's cyclic garbage collector held off while a worker builds a million small objects.

A rescan reads every photo's stamp into a dict (a million tuples). Each tuple made counts towards the collector's
next pass, and its full passes walk every live object while holding the interpreter lock: at a million photos
they held it up to 130 ms, a stall of the window's thread though the work ran on a worker (measured with
bench/scale.py --gui). Reference counting still frees everything as usual while the collector is off; only
reference cycles wait, for the seconds the pause lasts. Pauses from several threads nest: the collector comes
back when the last one ends, and only if it was on before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def collector_paused(*, keep: bool = False) -> Iterator[None]:
    """`keep`: what is made meanwhile lives as long as the app (a tokenizer's 100k-entry vocabulary): freeze the
    heap when done, so the collector's full passes, each a walk of every tracked object under the interpreter
    lock (50-90 ms in the window's process at 1M photos), no longer walk it nor what was there before."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            if keep:
                gc.freeze()
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
