"""Quick look: Space on a result shows it large; Left/Right step through the results, Esc (or Space) closes.
A text query's words are framed where they were read in the photo.

The photo is read on a pool thread (QImageReader, scaled while reading) and only turned into a pixmap here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from PySide6.QtCore import QObject, QRectF, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPainter, QPen, QPixmap, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QDialog, QLabel, QVBoxLayout, QWidget

from photofinder.core.find.search import SearchResult
from photofinder.gui.fileurls import read_image
from photofinder.gui.results.details import describe

PREVIEW_SIDE = 1600  # read at most this big: sharp on a large screen, quick to decode


def read_preview(path: str, side: int = PREVIEW_SIDE) -> QImage:
    """The photo, upright, no larger than `side` (JPEGs decode scaled). Opened by Python: any name works."""
    return read_image(path, side)


def framed(image: QImage, boxes) -> QImage:
    """The photo with the words a text query asked for framed (boxes as fractions of the upright photo)."""
    out = image.convertToFormat(QImage.Format.Format_RGB32)
    painter = QPainter(out)
    pen = QPen(QColor(255, 200, 0))
    pen.setWidth(max(2, out.width() // 300))
    painter.setPen(pen)
    w, h = out.width(), out.height()
    for x0, y0, x1, y1 in boxes:
        painter.drawRect(QRectF(x0 * w - 3, y0 * h - 3, (x1 - x0) * w + 6, (y1 - y0) * h + 6))
    painter.end()
    return out


class _Signals(QObject):
    ready = Signal(int, QImage)


class _Job(QRunnable):
    def __init__(self, signals: _Signals, token: int, path: str):
        super().__init__()
        self.signals, self.token, self.path = signals, token, path

    def run(self) -> None:
        self.signals.ready.emit(self.token, read_preview(self.path))


class QuickLook(QDialog):
    """A large preview of one result; `rowChanged(row)` lets the grid follow as the user steps."""

    rowChanged = Signal(int)

    def __init__(self, parent: QWidget, view: QAbstractItemView):
        super().__init__(parent)
        self.setWindowTitle("Preview")
        self.setModal(False)
        model = view.model()  # a results_model.ResultsModel
        self._count: Callable[[], int] = model.rowCount
        self._result: Callable[[int], SearchResult] = model.result
        view.previewRequested.connect(self.open_at)  # type: ignore[attr-defined]
        self.rowChanged.connect(lambda row: view.setCurrentIndex(model.index(row, 0)))
        self.row = -1
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(200, 150)
        self.image.setStyleSheet("background: #111")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 6)
        lay.addWidget(self.image, 1)
        lay.addWidget(self.caption)
        self._pixmap = QPixmap()
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals()
        self._signals.ready.connect(self._on_ready)
        self._tokens = itertools.count(1)
        self._wanted = 0
        self.resize(min(1000, parent.width() - 80), min(760, parent.height() - 60))

    def open_at(self, row: int) -> None:
        if not 0 <= row < self._count():
            return
        self.row = row
        r = self._result(row)
        self.caption.setText(f"  {describe(r)}   ({row + 1} of {self._count()})")
        self._wanted = next(self._tokens)
        self._pixmap = QPixmap()
        self.image.setText("Loading…")
        self._pool.start(_Job(self._signals, self._wanted, r.path))
        if not self.isVisible():
            self.show()
        self.raise_()
        self.activateWindow()
        self.rowChanged.emit(row)

    @property
    def loaded(self) -> bool:
        return not self._pixmap.isNull()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.open_at(self.row + 1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.open_at(self.row - 1)
        elif key in (Qt.Key.Key_Escape, Qt.Key.Key_Space):
            self.close()
        else:
            super().keyPressEvent(event)

    @Slot(int, QImage)
    def _on_ready(self, token: int, image: QImage) -> None:
        if token != self._wanted:
            return  # the user stepped on before it was read
        if image.isNull():
            self.image.setText("This photo can't be shown.")
            return
        r = self._result(self.row) if 0 <= self.row < self._count() else None
        if r is not None and r.highlights:
            image = framed(image, r.highlights)
        self._pixmap = QPixmap.fromImage(image)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._pixmap.isNull():
            return
        # Never above 1:1: a small image blown up looks worse than it is (device pixels count at scale 2).
        dpr = self.image.devicePixelRatioF()
        room = self.image.size() * dpr
        pm = QPixmap(self._pixmap)  # a copy: its device pixel ratio is set below
        if pm.width() > room.width() or pm.height() > room.height():
            pm = pm.scaled(
                room, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        pm.setDevicePixelRatio(dpr)
        self.image.setPixmap(pm)

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone()
