"""The last-resort error dialog: sys.excepthook for the GUI."""

from __future__ import annotations

import logging
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox

log = logging.getLogger("photofinder")


class _DialogBridge(QObject):
    """Lives on the GUI thread: `show`, emitted from any thread, runs `_show` there (queued)."""

    show = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.show.connect(self._show)

    @Slot(str)
    def _show(self, text: str) -> None:
        QMessageBox.critical(None, "photofinder", text)


class ErrorReporter:
    """Logs every unexpected exception; tells the user once, not 50 times.

    The hook runs on whatever thread raised (a thumbnail job's pool thread, say), and a dialog may only be
    made on the GUI thread: the message travels there by signal.
    """

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.shown = False
        self._lock = threading.Lock()
        self._bridge = _DialogBridge()
        app = QCoreApplication.instance()
        if app is not None and self._bridge.thread() is not app.thread():
            self._bridge.moveToThread(app.thread())

    def __call__(self, etype: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(etype, value, tb)))
        with self._lock:
            if self.shown:
                return
            self.shown = True
        self._bridge.show.emit(
            f"Something went wrong: {etype.__name__}: {value}\n\n"
            f"Your photos and library are safe. Details were written to {self.log_path}."
        )
