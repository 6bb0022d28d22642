"""The results grid's model: a list model adapting core SearchResults, thumbnails loaded lazily (the view:
results_view.py)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPixmap

from photofinder.core.find.search import SearchResult
from photofinder.core.paths import display_path
from photofinder.gui.fileurls import file_url, shown_name
from photofinder.gui.query.query_state import why
from photofinder.gui.results.details import describe
from photofinder.gui.results.thumbnail_loader import ThumbKey, ThumbnailLoader
from photofinder.gui.results.tile_delegate import ALPHA_ROLE, COPIES_ROLE, WEAKER_ROLE, tile_shape

# The photo's path as a Path: a str would pass through QString, which drops the escapes of a name that is not
# UTF-8 (b"caf\xe9.jpg" would come back as "caf.jpg", another file).
PathRole = Qt.ItemDataRole.UserRole + 1
ScoreRole = Qt.ItemDataRole.UserRole + 2
CopiesRole = COPIES_ROLE  # photos the tile stands for: 1, or a group's size (hiding duplicates)

CHUNK = 200  # rows exposed per fetchMore: a 10,000-result list costs nothing until scrolled to
_Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractListModel):
    """Adapter: rows are SearchResults; thumbnails arrive lazily from a ThumbnailLoader.

    Rows are exposed a chunk at a time; when the loaded results run out and the source has more (browsing a
    large library), `moreWanted` asks for the next page, which arrives through `append_results`.
    """

    moreWanted = Signal()

    def __init__(self, loader: ThumbnailLoader, thumb_size: int = 160, cache_size: int = 2000):
        super().__init__()
        self._loader = loader
        self._results: list[SearchResult] = []
        self._shown = 0
        self._more = False  # the source has rows beyond _results
        self._asked = False  # moreWanted is out and unanswered
        self._rows: dict[str, int] = {}
        self._pixmaps: OrderedDict[ThumbKey, QPixmap] = OrderedDict()
        self._failed: set[ThumbKey] = set()
        self._cache_size = cache_size
        self._thumbs_dir: Path | None = None
        self.label = ""  # the query the results answer, for the tooltip's "why it matched"
        self._first_weaker = -1
        self.thumb_size = thumb_size
        self.dpr = 1.0
        self._make_placeholders()
        loader.loaded.connect(self._on_loaded)
        loader.failed.connect(self._on_failed)

    # -- content -------------------------------------------------------------------------------------------
    def set_results(
        self, results: list[SearchResult], thumbs_dir: Path | None, more: bool = False, label: str = ""
    ) -> None:
        self._loader.clear_pending()
        self.beginResetModel()
        self._results = list(results)
        self._rows = {r.path: i for i, r in enumerate(self._results)}
        self._shown = min(len(self._results), CHUNK)
        self._thumbs_dir = thumbs_dir
        self._more, self._asked = more, False
        self.label = label
        # After "show more": the rows past the good matches are set apart (dimmed, the first one marked)
        goods = [r.good for r in self._results]
        self._first_weaker = goods.index(False) if True in goods and False in goods else -1
        self._failed.clear()  # a photo that failed may be readable now: try it again
        self.endResetModel()

    def append_results(self, results: list[SearchResult], more: bool) -> None:
        """The next page of what is shown (browse): exposed at once, since the user scrolled to the end."""
        start = len(self._results)
        self._results.extend(results)
        self._rows.update({r.path: start + i for i, r in enumerate(results)})
        self._more, self._asked = more, False
        self.fetchMore(QModelIndex())

    def update_results(self, results: list[SearchResult]) -> None:
        """New versions of rows already there (a tile that took in copies from a later page), by photo."""
        for r in results:
            row = self._rows.get(r.path)
            if row is not None and self._results[row].id == r.id:
                # copies the user already asked to see are tiles of their own: not counted again
                self._results[row] = replace(
                    r, duplicates=tuple(d for d in r.duplicates if d.path not in self._rows)
                )
                if row < self._shown:
                    idx = self.index(row)
                    self.dataChanged.emit(idx, idx, [CopiesRole, Qt.ItemDataRole.ToolTipRole])

    def show_copies(self, row: int) -> None:
        """Put a tile's hidden duplicates right after it, as tiles of their own."""
        r = self._results[row]
        copies = list(r.duplicates)
        if not copies:
            return
        self._results[row] = replace(r, duplicates=())
        at = row + 1
        if row < self._shown:
            self.beginInsertRows(QModelIndex(), at, at + len(copies) - 1)
        self._results[at:at] = copies
        self._rows = {x.path: i for i, x in enumerate(self._results)}
        if row < self._shown:
            self._shown += len(copies)
            self.endInsertRows()
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [CopiesRole, Qt.ItemDataRole.ToolTipRole])

    def set_thumb_size(self, size: int) -> None:
        self.thumb_size = size
        self._refresh_tiles()

    def set_device_pixel_ratio(self, dpr: float) -> None:
        if dpr != self.dpr:
            self.dpr = dpr
            self._refresh_tiles()

    def _refresh_tiles(self) -> None:
        self._pixmaps.clear()
        self._make_placeholders()
        if self._shown:
            self.dataChanged.emit(
                self.index(0), self.index(self._shown - 1), [Qt.ItemDataRole.DecorationRole]
            )

    def result(self, row: int) -> SearchResult:
        return self._results[row]

    def result_for_path(self, path: str) -> SearchResult | None:
        row = self._rows.get(path)
        return self._results[row] if row is not None else None

    @property
    def total(self) -> int:
        return len(self._results)

    @property
    def has_more(self) -> bool:
        return self._more

    # -- Qt model API --------------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else self._shown

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and (self._shown < len(self._results) or (self._more and not self._asked))

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid():
            return
        n = min(CHUNK, len(self._results) - self._shown)
        if n > 0:
            self.beginInsertRows(QModelIndex(), self._shown, self._shown + n - 1)
            self._shown += n
            self.endInsertRows()
        elif self._more and not self._asked:
            self._asked = True
            self.moreWanted.emit()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._shown:
            return None
        r = self._results[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return shown_name(r.path)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(r)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tile_tooltip(r, self.label)
        if role == PathRole:
            return Path(r.path)
        if role == ScoreRole:
            return r.score
        if role == CopiesRole:
            return 1 + len(r.duplicates)
        if role == WEAKER_ROLE:
            if self._first_weaker < 0 or r.good is not False:
                return 0
            return 2 if index.row() == self._first_weaker else 1
        if role == ALPHA_ROLE:
            pm = self._pixmaps.get(self._key(r.path))
            return pm is not None and pm.hasAlphaChannel()
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
        md.setUrls([file_url(self._results[r].path) for r in rows])  # the real files, whatever their names
        return md

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    # -- thumbnails ----------------------------------------------------------------------------------------
    def _key(self, path: str) -> ThumbKey:
        return ThumbKey(path, self.thumb_size, self.dpr)

    def _pixmap(self, r: SearchResult) -> QPixmap:
        key = self._key(r.path)
        pm = self._pixmaps.get(key)
        if pm is not None:
            self._pixmaps.move_to_end(key)
            return pm
        if key in self._failed:
            return self._broken
        self._loader.request(key, r.hash, self._thumbs_dir)
        return self._placeholder

    def _on_loaded(self, key: ThumbKey, image: QImage) -> None:
        if key.size != self.thumb_size or key.dpr != self.dpr:
            return  # asked for before a size or screen change
        pm = QPixmap.fromImage(image)
        limit = key.pixels
        if max(pm.width(), pm.height()) > limit:
            pm = pm.scaled(
                limit, limit, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        pm.setDevicePixelRatio(key.dpr)  # sharp on HiDPI: as many pixels as the screen has
        self._pixmaps[key] = pm
        while len(self._pixmaps) > self._cache_size:
            self._pixmaps.popitem(last=False)
        self._changed(key.path)

    def _on_failed(self, key: ThumbKey) -> None:
        self._failed.add(key)
        self._changed(key.path)

    def _changed(self, path: str) -> None:
        row = self._rows.get(path)
        if row is not None and row < self._shown:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def cached_pixmap(self, path: str) -> QPixmap | None:
        return self._pixmaps.get(self._key(path))

    def has_thumbnail(self, row: int) -> bool:
        return self._key(self._results[row].path) in self._pixmaps

    def thumbnail_failed(self, row: int) -> bool:
        return self._key(self._results[row].path) in self._failed

    def _make_placeholders(self) -> None:
        s = max(16, self.thumb_size)
        self._placeholder = tile_shape(s, self.dpr, QColor(128, 128, 128, 40), None)
        self._broken = tile_shape(s, self.dpr, QColor(128, 128, 128, 25), QColor(128, 128, 128, 140))


def tile_tooltip(r: SearchResult, label: str) -> str:
    """A tile's tooltip: its name, its details, its folder, why it matched `label`, the copies it hides."""
    tip = f"{shown_name(r.path)}\n{describe(r, name=False, folder=False)}\n{display_path(r.path)}"
    reason = why(r, label)
    if reason:
        tip += "\n" + reason
    if r.duplicates:
        n = len(r.duplicates)
        tip += (
            f"\n{n} more cop{'ies' if n != 1 else 'y'} hidden: "
            + ", ".join(shown_name(d.path) for d in r.duplicates[:5])
            + ("…" if n > 5 else "")
        )
    return tip
