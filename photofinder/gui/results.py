"""The results grid: a list model adapting core SearchResults, and an icon-mode view over it."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

from PySide6.QtCore import (QAbstractListModel, QMimeData, QModelIndex, QPersistentModelIndex, QSize, Qt, QUrl,
                            Signal)
from PySide6.QtGui import QColor, QContextMenuEvent, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu

from ..core.search import SearchResult
from .workers import ThumbnailLoader

PathRole = Qt.ItemDataRole.UserRole + 1
ScoreRole = Qt.ItemDataRole.UserRole + 2
IdRole = Qt.ItemDataRole.UserRole + 3

CHUNK = 200  # rows exposed per fetchMore: a 10,000-result list costs nothing until scrolled to
_Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractListModel):
    """Adapter: rows are SearchResults; thumbnails arrive lazily from a ThumbnailLoader."""

    def __init__(self, loader: ThumbnailLoader, thumb_size: int = 160, cache_size: int = 2000):
        super().__init__()
        self._loader = loader
        self._results: list[SearchResult] = []
        self._shown = 0
        self._rows: dict[str, int] = {}
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._failed: set[str] = set()
        self._cache_size = cache_size
        self._thumbs_dir: Path | None = None
        self.thumb_size = thumb_size
        self._placeholder = self._make_placeholder()
        loader.loaded.connect(self._on_loaded)
        loader.failed.connect(self._on_failed)

    # -- content -------------------------------------------------------------------------------------------
    def set_results(self, results: list[SearchResult], thumbs_dir: Path | None) -> None:
        self._loader.clear_pending()
        self.beginResetModel()
        self._results = list(results)
        self._rows = {r.path: i for i, r in enumerate(self._results)}
        self._shown = min(len(self._results), CHUNK)
        self._thumbs_dir = thumbs_dir
        self.endResetModel()

    def set_thumb_size(self, size: int) -> None:
        self.thumb_size = size
        self._pixmaps.clear()
        self._placeholder = self._make_placeholder()
        if self._shown:
            self.dataChanged.emit(self.index(0), self.index(self._shown - 1), [Qt.ItemDataRole.DecorationRole])

    def result(self, row: int) -> SearchResult:
        return self._results[row]

    @property
    def total(self) -> int:
        return len(self._results)

    # -- Qt model API --------------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else self._shown

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and self._shown < len(self._results)

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid():
            return
        n = min(CHUNK, len(self._results) - self._shown)
        if n <= 0:
            return
        self.beginInsertRows(QModelIndex(), self._shown, self._shown + n - 1)
        self._shown += n
        self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._shown:
            return None
        r = self._results[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return os.path.basename(r.path)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(r)
        if role == Qt.ItemDataRole.ToolTipRole:
            match = "" if r.score is None else f"\nmatch {r.score:.3f}"
            return f"{os.path.basename(r.path)}{match}\n{r.path}"
        if role == PathRole:
            return r.path
        if role == ScoreRole:
            return r.score
        if role == IdRole:
            return r.id
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        """Dragged out to a file manager, mail client or editor as the photos' file URLs."""
        md = QMimeData()
        rows = sorted({i.row() for i in indexes if i.isValid()})
        md.setUrls([QUrl.fromLocalFile(self._results[r].path) for r in rows])
        return md

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    # -- thumbnails ----------------------------------------------------------------------------------------
    def _pixmap(self, r: SearchResult) -> QPixmap:
        pm = self._pixmaps.get(r.path)
        if pm is not None:
            self._pixmaps.move_to_end(r.path)
            return pm
        if r.path not in self._failed:
            self._loader.request(r.path, r.hash, self._thumbs_dir, self.thumb_size)
        return self._placeholder

    def _on_loaded(self, path: str, image: QImage) -> None:
        self._pixmaps[path] = self._tile(QPixmap.fromImage(image))
        while len(self._pixmaps) > self._cache_size:
            self._pixmaps.popitem(last=False)
        self._changed(path)

    def _tile(self, pm: QPixmap) -> QPixmap:
        """The photo fitted into a square tile, centred and resting on the caption: every tile is the same size
        (the grid uses uniform item sizes), so a 4:3 or portrait photo never spills over its caption."""
        s = self.thumb_size
        if max(pm.width(), pm.height()) > s:
            pm = pm.scaled(s, s, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        tile = QPixmap(s, s)
        tile.fill(Qt.GlobalColor.transparent)
        p = QPainter(tile)
        p.drawPixmap((s - pm.width()) // 2, s - pm.height(), pm)
        p.end()
        return tile

    def _on_failed(self, path: str) -> None:
        self._failed.add(path)

    def _changed(self, path: str) -> None:
        row = self._rows.get(path)
        if row is not None and row < self._shown:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def cached_pixmap(self, path: str) -> QPixmap | None:
        return self._pixmaps.get(path)

    def has_thumbnail(self, row: int) -> bool:
        return self._results[row].path in self._pixmaps

    def _make_placeholder(self) -> QPixmap:
        s = max(16, self.thumb_size)
        pm = QPixmap(s, s)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor(128, 128, 128, 40))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(4, 4, s - 8, s - 8, 8, 8)
        p.end()
        return pm


class ResultsView(QListView):
    """Thumbnail grid. Right-click offers Find similar / Open / Show in folder / Copy path."""

    findSimilar = Signal(str)
    openPaths = Signal(list)
    showInFolder = Signal(str)
    copyPaths = Signal(list)

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
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSpacing(6)
        self.setWordWrap(False)
        self.menu: QMenu | None = None
        self.set_thumb_size(thumb_size)
        self.activated.connect(lambda idx: self.openPaths.emit(self.selected_paths() or [idx.data(PathRole)]))

    def set_thumb_size(self, size: int) -> None:
        self.setIconSize(QSize(size, size))
        self.setGridSize(QSize(size + 20, size + 36))

    def visible_rows(self) -> list[int]:
        """Rows whose tile is at least partly on screen."""
        m = self.model()
        area = self.viewport().rect()
        return [r for r in range(m.rowCount()) if self.visualRect(m.index(r, 0)).intersects(area)]

    def selected_paths(self) -> list[str]:
        return [i.data(PathRole) for i in sorted(self.selectedIndexes(), key=lambda i: i.row())]

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        idx = self.indexAt(event.pos())
        if not idx.isValid():
            return
        if not self.selectionModel().isSelected(idx):
            self.setCurrentIndex(idx)
        path = idx.data(PathRole)
        paths = self.selected_paths() or [path]
        menu = QMenu(self)
        self.find_similar_action = menu.addAction("Find similar", lambda: self.findSimilar.emit(path))
        menu.addSeparator()
        menu.addAction("Open" if len(paths) == 1 else f"Open {len(paths)} photos",
                       lambda: self.openPaths.emit(paths))
        menu.addAction("Show in folder", lambda: self.showInFolder.emit(path))
        menu.addAction("Copy path" if len(paths) == 1 else "Copy paths", lambda: self.copyPaths.emit(paths))
        self.menu = menu
        menu.popup(event.globalPos())  # popup, not exec: never blocks the event loop
