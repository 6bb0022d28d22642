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
