"""A guard against a PySide6 6.12.0 bug: `SignalInstance.emit()` returns True without taking a reference.

Every emit then costs the `True` singleton one reference; after enough emits (a long index run, a long
session) CPython frees it and aborts: "Fatal Python error: bool_dealloc". Measured here with a bare QObject:
100 emits lower sys.getrefcount(True) by 100. Until PySide is fixed, the references are topped up front.
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
    """Top up True's reference count when this PySide has the bug (CPython: ob_refcnt is the first field)."""
    if sys.implementation.name == "cpython" and sys.version_info < (3, 12) and emit_leaks_a_reference():
        ctypes.c_ssize_t.from_address(id(True)).value += _TOP_UP
