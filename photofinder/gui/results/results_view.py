"""The results grid: an icon-mode view of a ResultsModel, its tiles the same size, its rows justified, zoomed
with a slider, Ctrl+= / Ctrl+- or Ctrl+wheel."""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu

from photofinder.gui.results.results_model import CopiesRole, PathRole
from photofinder.gui.results.tile_delegate import TileDelegate

ZOOM_MIN, ZOOM_MAX, ZOOM_STEP = 96, 320, 32  # tile photo sizes, logical pixels


class ResultsView(QListView):
    """Thumbnail grid. Right-click offers Find similar / Open / Show in folder / Copy path."""

    # Paths travel as Python objects: a `str` or `list` signal converts them to QString, which loses a name that
    # is not UTF-8.
    findSimilar = Signal(object)  # str: a new query, like this photo
    addToSearch = Signal(object)  # str: this photo added to the query in force
    openPaths = Signal(object)  # list[str]
    showInFolder = Signal(object)  # str
    copyPaths = Signal(object)  # list[str]
    devicePixelRatioChanged = Signal(float)
    previewRequested = Signal(int)  # Space on a result: the row to show large
    showCopies = Signal(int)  # the row whose hidden duplicates to show
    zoomRequested = Signal(int)  # +1 bigger tiles, -1 smaller (Ctrl+wheel)

    def __init__(self, thumb_size: int = 160):
        super().__init__()
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSpacing(6)
        self.setWordWrap(False)
        self.delegate = TileDelegate(self)
        self.setItemDelegate(self.delegate)
        self.menu: QMenu | None = None
        self.set_thumb_size(thumb_size)
        self.activated.connect(lambda idx: self.openPaths.emit(self.selected_paths() or [_path(idx)]))

    def set_thumb_size(self, size: int) -> None:
        self.delegate.thumb_size = size
        self.setIconSize(QSize(size, size))
        self._justify()

    def _justify(self) -> None:
        """As many tiles as fit a row, widened to share the row's width: no gap at the right."""
        tile = self.delegate.tile_size()
        # the room with the scroll bar shown, whether it is or not: it comes and goes without a resize event
        # of the view, and a row computed without it would no longer fit (one column where two belong)
        room = self.width() - 2 * self.frameWidth() - self.verticalScrollBar().sizeHint().width()
        width = room - 2 * self.spacing() - 1
        columns = max(1, width // (tile.width() + self.spacing()))
        cell = max(tile.width(), width // columns)
        self.delegate.width = cell - self.spacing()
        self.setGridSize(QSize(cell, tile.height() + self.spacing()))

    def resizeEvent(self, e: QResizeEvent) -> None:
        self._justify()
        super().resizeEvent(e)

    def wheelEvent(self, e: QWheelEvent) -> None:
        if e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            dy = e.angleDelta().y()
            if dy:
                self.zoomRequested.emit(1 if dy > 0 else -1)
            e.accept()
            return
        super().wheelEvent(e)

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.DevicePixelRatioChange:  # moved to a screen of another density
            self.devicePixelRatioChanged.emit(self.devicePixelRatioF())
        return super().event(e)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and self.currentIndex().isValid():
            self.previewRequested.emit(self.currentIndex().row())
            return
        super().keyPressEvent(event)

    def visible_rows(self) -> list[int]:
        """Rows whose tile is at least partly on screen."""
        m = self.model()
        area = self.viewport().rect()
        return [r for r in range(m.rowCount()) if self.visualRect(m.index(r, 0)).intersects(area)]

    def selected_paths(self) -> list[str]:
        return [_path(i) for i in sorted(self.selectedIndexes(), key=lambda i: i.row())]

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        idx = self.indexAt(event.pos())
        if not idx.isValid():
            return
        if not self.selectionModel().isSelected(idx):
            self.setCurrentIndex(idx)
        path = _path(idx)
        paths = self.selected_paths() or [path]
        menu = QMenu(self)
        self.find_similar_action = menu.addAction("Find similar", lambda: self.findSimilar.emit(path))
        self.find_similar_action.setToolTip("A new search for photos like this one")
        self.add_to_search_action = menu.addAction("Add to search", lambda: self.addToSearch.emit(path))
        self.add_to_search_action.setToolTip("Add this photo to the search in force, as a chip")
        copies = int(idx.data(CopiesRole) or 1) - 1
        if copies:
            row = idx.row()
            self.show_copies_action = menu.addAction(
                f"Show the {copies} hidden cop{'ies' if copies != 1 else 'y'}",
                lambda: self.showCopies.emit(row),
            )
        menu.addSeparator()
        menu.addAction(
            "Open" if len(paths) == 1 else f"Open {len(paths)} photos", lambda: self.openPaths.emit(paths)
        )
        menu.addAction("Show in folder", lambda: self.showInFolder.emit(path))
        menu.addAction("Copy path" if len(paths) == 1 else "Copy paths", lambda: self.copyPaths.emit(paths))
        self.menu = menu
        menu.popup(event.globalPos())  # popup, not exec: never blocks the event loop


def _path(index: QModelIndex | QPersistentModelIndex) -> str:
    return os.fspath(index.data(PathRole))
