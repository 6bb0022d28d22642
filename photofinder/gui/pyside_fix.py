"""A guard against two PySide6 6.12.0 bugs: `SignalInstance.emit()` returns True without taking a reference,
and `QTimer.singleShot(ms, callable)` returns None without taking one.

Every emit then costs the `True` singleton one reference; after enough emits (a long index run, a long
session) CPython frees it and aborts: "Fatal Python error: bool_dealloc". Measured here with a bare QObject:
100 emits lower sys.getrefcount(True) by 100. The same for None with every singleShot (1,000 calls: None lost
1,002 references): the test suite then crashed in Qt's event loop ("Segmentation fault" under pytest-qt, once
enough timers had run). Until PySide is fixed, the references are topped up front.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

_TOP_UP = 1 << 40  # more emits than an app can make


class _Probe(QObject):
    ping = Signal()


def emit_leaks_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(10):
        probe.ping.emit()
    return sys.getrefcount(True) < before - 5


def apply() -> None:
    """Top up the reference counts this PySide leaks (CPython: ob_refcnt is the first field). Python 3.12+
    makes these singletons immortal."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    if emit_leaks_a_reference():
        ctypes.c_ssize_t.from_address(id(True)).value += _TOP_UP
    # None: singleShot is one leak measured, maybe not the only one; None must outlive everything anyway, so
    # it is topped up whatever this PySide does (no probe: a timer needs a running application)
    ctypes.c_ssize_t.from_address(id(None)).value += _TOP_UP
