"""Library → Explore: the whole library as a grid of named groups (a cover mosaic, the name, the count).

A click opens the group in the main window's grid as a filter, so every filter, the sort, hiding duplicates and
the preview work inside it; a chip above the grid ("Group: red circle ✕") leaves it. Right-click → "Search for
this" puts the group's name in the search bar; sub-groups open from the same menu.

Everything slow runs on the explore thread: the stored groups are read and shown first (milliseconds at any
size), then brought up to date (new photos placed; a full regrouping, with the model for the names, only when
the library changed a lot or was never grouped). Cover mosaics are composed there as QImages.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.errors import PhotofinderError
from photofinder.core.explore import groups
from photofinder.core.explore.groups import Group, Grouping
from photofinder.core.photos.thumbnails import load_thumbnail
from photofinder.core.store.library import Library
from photofinder.gui.workers.threads import new_thread

if TYPE_CHECKING:
    from photofinder.gui.window.main_window import MainWindow

log = logging.getLogger(__name__)

TILE = 180  # a group's mosaic, logical pixels
GroupRole = Qt.ItemDataRole.UserRole + 1


def mosaic(paths: list[tuple[str, str | None]], thumbs_dir: Any, side: int = TILE) -> QImage:
    """Up to four photos as a square 2 x 2 mosaic (one photo fills it alone). Safe off the GUI thread."""
    image = QImage(side, side, QImage.Format.Format_RGB888)
    image.fill(QColor(60, 60, 60))
    cells = 1 if len(paths) == 1 else 2
    cell = side // cells
    painter = QPainter(image)
    try:
        for k, (path, content_hash) in enumerate(paths[: cells * cells]):
            try:
                pil = load_thumbnail(path, content_hash, thumbs_dir, cell).convert("RGB")
            except Exception as e:  # noqa: BLE001 - a missing or unreadable photo leaves its cell grey
                log.debug("no cover thumbnail for %s: %s", path, e)
                continue
            w, h = pil.size
            s = min(w, h)  # centre square
            pil = pil.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)).resize(
                (cell, cell)
            )
            q = QImage(pil.tobytes(), cell, cell, cell * 3, QImage.Format.Format_RGB888).copy()
            painter.drawImage((k % cells) * cell, (k // cells) * cell, q)
    finally:
        painter.end()
    return image


class ExploreWorker(QObject):
    """On the explore thread: reads the stored groups, brings them up to date, composes the mosaics."""

    shown = Signal(object, object, object, bool)  # Library, Grouping, {group id: QImage}, final
    progress = Signal(str)
    failed = Signal(str)

    def __init__(self, pool: Any):
        super().__init__()
        self.pool = pool
        self.stop = threading.Event()

    @Slot(object, str)
    def load(self, library: Library, default_model: str) -> None:
        try:
            with library.open_catalog() as c:
                stored = groups.read(c)
                if stored.groups:
                    self.shown.emit(library, stored, self._mosaics(library, c, stored), False)
                model = library.model_ref(c) or default_model

                def embedder() -> Any:
                    self.progress.emit("Loading the model to name the groups…")
                    e = self.pool.get(model)
                    self.pool.load(e)
                    return e

                fresh = groups.current(library, c, embedder, self.progress.emit, self.stop.is_set)
                if self.stop.is_set():
                    return
                self.shown.emit(library, fresh, self._mosaics(library, c, fresh), True)
        except PhotofinderError as e:
            self.failed.emit(str(e))
        except Exception as e:
            log.exception("exploring the library failed")
            self.failed.emit(f"Grouping the photos failed unexpectedly ({type(e).__name__}: {e}).")

    def _mosaics(self, library: Library, catalog: Any, grouping: Grouping) -> dict[int, QImage]:
        shown = [g for top in grouping.groups for g in (top, *top.children)]
        paths = catalog.photos(i for g in shown for i in g.cover)
        return {
            g.id: mosaic([paths[i] for i in g.cover if i in paths], library.thumbs_dir)
            for g in shown
            if not self.stop.is_set()
        }


class GroupsModel(QAbstractListModel):
    """The top-level groups as tiles: the mosaic as the icon, "name\\ncount" as the text."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[Group] = []
        self.pixmaps: dict[int, QPixmap] = {}
        self.sort = "size"

    def set_groups(self, grouping: Grouping, images: dict[int, QImage]) -> None:
        self.beginResetModel()
        self.groups = list(grouping.groups)
        self.pixmaps = {gid: QPixmap.fromImage(img) for gid, img in images.items()}  # on the GUI thread
        self._order()
        self.endResetModel()

    def set_sort(self, sort: str) -> None:
        self.beginResetModel()
        self.sort = sort
        self._order()
        self.endResetModel()

    def _order(self) -> None:
        if self.sort == "date":
            self.groups.sort(key=lambda g: (g.newest or "", g.count), reverse=True)
        else:
            self.groups.sort(key=lambda g: (g.mixed, -g.count, g.name))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.groups)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.row() >= len(self.groups):
            return None
        g = self.groups[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{g.name}\n{g.count:,} photo{'s' if g.count != 1 else ''}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self.pixmaps.get(g.id)
        if role == Qt.ItemDataRole.ToolTipRole:
            subs = ", ".join(f"{k.name} ({k.count:,})" for k in g.children)
            newest = f"newest {g.newest}" if g.newest else ""
            return " · ".join(x for x in (newest, subs and f"sub-groups: {subs}") if x)
        if role == GroupRole:
            return g
        return None


class ExploreView(QWidget):
    """The grid of groups with its sort order and a status line. Says `openGroup` and `searchFor`."""

    openGroup = Signal(object)  # Group
    searchFor = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Explore — photofinder")
        self.setWindowFlag(Qt.WindowType.Window)
        self.resize(1000, 700)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.status = QLabel("Reading the groups…")
        self.sort = QComboBox()
        self.sort.addItem("Largest first", "size")
        self.sort.addItem("Newest first", "date")
        self.sort.setToolTip("Sort the groups")
        self.sort.activated.connect(lambda i: self.model.set_sort(self.sort.itemData(i)))
        top.addWidget(self.status, 1)
        top.addWidget(QLabel("Sort:"))
        top.addWidget(self.sort)
        lay.addLayout(top)
        self.model = GroupsModel()
        self.grid = QListView()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setIconSize(QSize(TILE, TILE))
        self.grid.setGridSize(QSize(TILE + 24, TILE + 52))
        self.grid.setSpacing(6)
        self.grid.setWordWrap(True)
        self.grid.setModel(self.model)
        self.grid.clicked.connect(self._clicked)
        self.grid.activated.connect(self._clicked)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._menu)
        lay.addWidget(self.grid, 1)

    def group_at(self, row: int) -> Group:
        return self.model.groups[row]

    def _clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.openGroup.emit(index.data(GroupRole))

    def menu_for(self, group: Group) -> QMenu:
        """The right-click menu of a group: open it, search for its name, open one of its sub-groups."""
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.openGroup.emit(group))
        search = menu.addAction("Search for this", lambda: self.searchFor.emit(group.name))
        search.setEnabled(not group.mixed)
        if group.children:
            menu.addSeparator()
            for k in group.children:
                menu.addAction(f"{k.name} ({k.count:,})", lambda k=k: self.openGroup.emit(k))
        return menu

    def _menu(self, pos: Any) -> None:
        index = self.grid.indexAt(pos)
        if index.isValid():
            self.menu_for(index.data(GroupRole)).exec(self.grid.viewport().mapToGlobal(pos))

    def show_groups(self, grouping: Grouping, images: dict[int, QImage], final: bool) -> None:
        self.model.set_groups(grouping, images)
        n = len(grouping.groups)
        text = f"{n} group{'s' if n != 1 else ''} of {grouping.photos:,} photos"
        if not final:
            text += " · checking for new photos…"
        elif not n:
            text = "No photos to group yet: add a folder of photos."
        self.status.setText(text)


class GroupChip(QToolButton):
    """Above the grid while a group is open: "Group: red circle ✕"; a click leaves the group."""

    def __init__(self) -> None:
        super().__init__()
        self.setAutoRaise(True)
        self.setToolTip("Show all photos again (leave the group)")
        self.hide()

    def show_group(self, name: str | None) -> None:
        self.setText(f"Group: {name}  ✕" if name else "")
        self.setVisible(bool(name))


class Explorer(QObject):
    """Wires Explore into the main window: the action that opens the view, the worker, the group chip."""

    _load = Signal(object, str)

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.view: ExploreView | None = None
        self.chip = GroupChip()
        window.results_bar.layout().insertWidget(0, self.chip)
        self.action = QAction("&Explore…", window)
        self.action.setShortcut(QKeySequence("Ctrl+E"))
        self.action.setToolTip("The whole library at a glance, in named groups")
        self.action.triggered.connect(self.open)
        self._thread = new_thread("explore")
        self._worker = ExploreWorker(window.app.pool)
        self._worker.moveToThread(self._thread)
        self._load.connect(self._worker.load)
        self._worker.shown.connect(self._on_shown)
        self._worker.progress.connect(self._on_progress)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()
        self.chip.clicked.connect(self.leave_group)
        window.app.libraries.libraryChanged.connect(self._on_library_changed)

    def open(self) -> None:
        """Show the view (made on first use) and read the current library's groups in the background."""
        if self.view is None:
            self.view = ExploreView()
            self.view.openGroup.connect(self.open_group)
            self.view.searchFor.connect(self.search_for)
        self.view.show()
        self.view.raise_()
        self.view.activateWindow()
        self.refresh()

    def refresh(self) -> None:
        lib = self.window.app.libraries.library
        if self.view is None or lib is None:
            return
        self.view.status.setText("Reading the groups…")
        self._load.emit(lib, self.window.settings.model)

    def open_group(self, group: Group) -> None:
        """The group in the main grid, as a filter: searches, filters, sort and preview work inside it."""
        self.window.app.query.set_group(group.id)
        self.chip.show_group(group.name)
        self.window.raise_()
        self.window.activateWindow()

    def leave_group(self) -> None:
        self.chip.show_group(None)
        self.window.app.query.set_group(None)

    def search_for(self, name: str) -> None:
        """Right-click → Search for this: the name in the search bar (its search runs as typed text does)."""
        bar = self.window.search_bar
        bar.edit.setText(name)
        bar.edit.returnPressed.emit()
        self.window.raise_()
        self.window.activateWindow()

    def _on_library_changed(self, _library: object) -> None:
        self.chip.show_group(None)
        if self.view is not None and self.view.isVisible():
            self.refresh()

    def _on_shown(self, library: Library, grouping: Grouping, images: dict, final: bool) -> None:
        if self.view is not None and library is self.window.app.libraries.library:
            self.view.show_groups(grouping, images, final)

    def _on_progress(self, text: str) -> None:
        if self.view is not None:
            self.view.status.setText(text)

    def _on_failed(self, message: str) -> None:
        if self.view is not None:
            self.view.status.setText(message)

    def shutdown(self) -> None:
        self._worker.stop.set()
        self._thread.quit()
        self._thread.wait()
        if self.view is not None:
            self.view.close()
