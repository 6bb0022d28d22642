"""Drops and pastes onto the window: folders to add, an image to search by, a result dragged back to the grid.

Nothing here decodes an image on the GUI thread: a dropped file goes to the search thread as a path, a pasted
image as a QImage, and the chip's small icon is read on a pool thread.
"""

from __future__ import annotations

import itertools
import os

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QClipboard, QDropEvent, QImage, QPalette
from PySide6.QtWidgets import QLabel, QWidget

from photofinder.core.photos.decode import is_photo_name
from photofinder.gui.fileurls import local_path, read_image, shown_name

ICON_SIDE = 40


def read_icon(source: str | QImage, side: int = ICON_SIDE) -> QImage:
    """A small icon of an image file (read scaled: JPEGs decode at 1/8 size) or of an image in memory."""
    if isinstance(source, QImage):
        return source.scaled(
            side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    return read_image(source, side)


class _IconSignals(QObject):
    ready = Signal(int, QImage)


class _IconJob(QRunnable):
    def __init__(self, signals: _IconSignals, token: int, source: str | QImage):
        super().__init__()
        self.signals, self.token, self.source = signals, token, source

    def run(self) -> None:
        self.signals.ready.emit(self.token, read_icon(self.source))  # looked up now: tests can watch it


class ChipIcons(QObject):
    """Makes search-chip icons off the GUI thread; `ready(token, image)` answers `request`."""

    ready = Signal(int, QImage)

    def __init__(self) -> None:
        super().__init__()
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(1)
        self._signals = _IconSignals()
        self._signals.ready.connect(self.ready)
        self._tokens = itertools.count(1)

    def request(self, source: str | QImage) -> int:
        token = next(self._tokens)
        self._pool.start(_IconJob(self._signals, token, source))
        return token

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone()


class DropZone(QObject):
    """An event filter for the window: turns drops and pastes into signals the window acts on."""

    addFolder = Signal(object)  # str; paths travel as objects (a QString would lose a name that is not UTF-8)
    searchImage = Signal(object, str)  # a path or a QImage, and its label
    findSimilar = Signal(object)  # str
    message = Signal(str)  # why a drop does nothing
    notice = Signal(str)  # a passing status message
    hovering = Signal(bool)  # something droppable is over the window (True) or left it / was dropped (False)

    def __init__(self, window: QObject, results_view: QObject):
        super().__init__(window)
        self._view = results_view
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        t = event.type()
        if t in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDropEvent)  # the base of drag enter and move events
            md = event.mimeData()
            if (
                (md.hasUrls() and any(u.isLocalFile() for u in md.urls()))
                or md.hasImage()
                or event.source() is self._view
            ):
                event.acceptProposedAction()
                if t == QEvent.Type.DragEnter:
                    self.hovering.emit(True)
            return True
        if t == QEvent.Type.DragLeave:
            self.hovering.emit(False)
            return False
        if t == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            self.hovering.emit(False)
            event.acceptProposedAction()
            if event.source() is self._view:  # a result dragged back onto the grid: find similar to it
                paths = self._view.selected_paths()  # type: ignore[attr-defined]
                if paths:
                    self.findSimilar.emit(paths[0])
            else:
                self.drop(event.mimeData())
            return True
        return False

    def drop(self, md: QMimeData) -> None:
        paths = [p for p in map(local_path, md.urls()) if p is not None]
        folders = [p for p in paths if os.path.isdir(p)]
        images = [p for p in paths if os.path.isfile(p)]
        for f in folders:
            self.addFolder.emit(f)
        if images and not folders:
            p = images[0]
            if not is_photo_name(p):
                self.message.emit(f"{shown_name(p)} is not a photo photofinder can read.")
                return
            self.searchImage.emit(p, shown_name(p))
        elif md.hasImage() and not paths:
            self._image(QImage(md.imageData()), "dropped image")

    def paste(self, clipboard: QClipboard) -> None:
        md = clipboard.mimeData()
        files = [p for p in map(local_path, md.urls()) if p is not None and os.path.isfile(p)]
        if files:
            self.searchImage.emit(files[0], shown_name(files[0]))
        elif md.hasImage():
            self._image(clipboard.image(), "pasted image")
        else:
            self.notice.emit("The clipboard holds no image.")

    def _image(self, image: QImage, label: str) -> None:
        if not image.isNull():
            self.searchImage.emit(image, label)  # its pixels are converted on the search thread


class DropHint(QLabel):
    """Drawn over the grid while something droppable hovers over the window: where it lands and what it does."""

    def __init__(self, over: QWidget):
        super().__init__("Drop a photo to search with it, or a folder to add it", over)
        self._over = over
        self.setObjectName("drop-hint")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        hi = over.palette().color(QPalette.ColorRole.Highlight)
        self.setStyleSheet(
            f"#drop-hint {{ border: 3px dashed {hi.name()}; border-radius: 10px; font-size: 15pt;"
            f" background: rgba({hi.red()}, {hi.green()}, {hi.blue()}, 40); }}"
        )
        self.hide()

    def set_shown(self, shown: bool) -> None:
        if shown:
            self.setGeometry(self._over.rect().adjusted(8, 8, -8, -8))
            self.raise_()
        self.setVisible(shown)
