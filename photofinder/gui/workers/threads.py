"""The app's QThreads, registered so that tests (and shutdown) can check that none is left running."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QThread

LIVE_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


def new_thread(name: str) -> QThread:
    t = QThread()
    t.setObjectName(name)
    LIVE_THREADS.add(t)
    return t


GIL_SLICE_S = 0.001


def keep_the_window_responsive() -> None:
    """Let the GUI thread have the interpreter within about a millisecond of asking for it.

    The workers (scanning a million files, building lookups, the watcher's rescans) run Python code; Python
    hands the interpreter lock between threads every 5 ms by default, and with three busy workers the GUI
    thread waited 40-55 ms for its turn (bench/scale.py --gui with PF_STALL_TRACE, 1 M photos). Switching every
    millisecond costs the workers next to nothing: their heavy parts (decoding, hashing, the model, SQLite)
    run with the lock released.
    """
    import sys

    sys.setswitchinterval(GIL_SLICE_S)
