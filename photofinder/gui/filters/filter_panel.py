"""The filter panel beside the grid: folder, date taken (by year or by month), file type, orientation, minimum
size, with counts.

Its filters combine with any query and with browsing: every change goes out as `filtersChanged(Filters)`.
The counts come from facet_feed.count_facets, run off the GUI thread.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFormLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.find.query import Filters
from photofinder.core.paths import display_path
from photofinder.gui.filters.date_filter import DateFilter
from photofinder.gui.filters.facet_feed import Facets
from photofinder.gui.filters.places_tree import PlacesTree

ORIENTATIONS = (("Any", None), ("Landscape", "landscape"), ("Portrait", "portrait"), ("Square", "square"))
MIN_SIZES = (("Any", None), ("≥ 500 px", 500), ("≥ 1000 px", 1000), ("≥ 2000 px", 2000), ("≥ 3000 px", 3000))
PathRole = Qt.ItemDataRole.UserRole + 1


class FilterPanel(QWidget):
    """Folder tree, year histogram, types, orientation and minimum size, each with counts where it has any."""

    filtersChanged = Signal(object)  # Filters

    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.folders = QTreeWidget()
        self.folders.setHeaderHidden(True)
        self.folders.setColumnCount(2)
        self.folders.setRootIsDecorated(True)
        self.folders.setAccessibleName("Folders")
        header = self.folders.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.folders.itemSelectionChanged.connect(self._emit)
        self.date = DateFilter()
        self.years = self.date.histogram
        self.years.rangeChanged.connect(self._emit)
        self.types = QListWidget()
        self.types.setMaximumHeight(70)
        self.types.setAccessibleName("File types")
        self.types.itemChanged.connect(self._emit)
        self.orientation = QComboBox()
        for text, key in ORIENTATIONS:
            self.orientation.addItem(text, key)
        self.orientation.setAccessibleName("Orientation filter")
        self.orientation.currentIndexChanged.connect(self._emit)
        self.min_size = QComboBox()
        for text, key in MIN_SIZES:
            self.min_size.addItem(text, key)
        self.min_size.setToolTip("The shorter side of the photo")
        self.min_size.setAccessibleName("Minimum size filter")
        self.min_size.currentIndexChanged.connect(self._emit)
        self.places = PlacesTree()
        self.places.itemSelectionChanged.connect(self._emit)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.clicked.connect(self.clear)
        for title, w in (
            ("Folder", self.folders),
            ("Date taken", self.date),
            ("File type", self.types),
            ("Places", self.places),
        ):
            heading = _heading(title)
            lay.addWidget(heading)
            lay.addWidget(w, 1 if w is self.folders else 0)
        # shown once a library has geotagged photos (hidden, it adds nothing to the window's minimum size)
        self.places_heading = heading
        self.places.hide()
        heading.hide()
        form = QFormLayout()
        form.addRow("Orientation", self.orientation)
        form.addRow("Min size", self.min_size)
        lay.addLayout(form)
        lay.addWidget(self.clear_button)
        self._quiet = False
        self.current = Filters()

    # -- counts --------------------------------------------------------------------------------------------
    def set_facets(self, facets: Facets) -> None:
        """Show a library's folders, years and types with their counts (the choices made are kept if they still
        exist)."""
        self._quiet = True
        try:
            chosen = self.current.folder
            self.folders.clear()
            self._paths = []
            everything = QTreeWidgetItem(self.folders, ["All folders", f"{facets.photos:,}"])
            everything.setData(0, PathRole, -1)
            items: dict[str, QTreeWidgetItem] = {}
            for path in sorted(facets.folders):
                parent = items.get(os.path.dirname(path))
                name = display_path(
                    os.path.basename(path.rstrip(os.sep)) or path
                )  # the full path: its tooltip
                item = QTreeWidgetItem(parent or self.folders, [name, f"{facets.folders[path]:,}"])
                item.setData(0, PathRole, len(self._paths))
                item.setToolTip(0, display_path(path))
                self._paths.append(path)
                items[path] = item
                if path == chosen:
                    item.setSelected(True)
            self.folders.expandToDepth(0)
            self.years.set_months(facets.months)
            self.years.set_years(facets.years)
            checked = set(self.current.types)
            self.types.clear()
            for ext, n in facets.types.items():
                item = QListWidgetItem(f"{ext.upper()}  ({n:,})")
                item.setData(PathRole, ext)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if ext in checked else Qt.CheckState.Unchecked)
                self.types.addItem(item)
            self._set_places(facets.places)
        finally:
            self._quiet = False

    def _set_places(self, places: dict[str, int]) -> None:
        self.places.set_places(places, self.current.place)
        self.places_heading.setVisible(bool(places))

    def place_item(self, name: str) -> QTreeWidgetItem | None:
        return self.places.place_item(name)

    def folder_item(self, path: str) -> QTreeWidgetItem | None:
        """The tree's item for a folder (tests and keyboard users reach folders through it)."""
        for item in self.folders.findItems("*", Qt.MatchFlag.MatchWildcard | Qt.MatchFlag.MatchRecursive):
            i = item.data(0, PathRole)
            if i is not None and i >= 0 and self._paths[i] == path:
                return item
        return None

    def type_item(self, ext: str) -> QListWidgetItem | None:
        return next(
            (
                self.types.item(i)
                for i in range(self.types.count())
                if self.types.item(i).data(PathRole) == ext
            ),
            None,
        )

    # -- the filters ---------------------------------------------------------------------------------------
    def filters(self) -> Filters:
        sel = self.folders.selectedItems()
        i = sel[0].data(0, PathRole) if sel else -1
        dates = self.years.date_range()
        types = tuple(
            self.types.item(k).data(PathRole)
            for k in range(self.types.count())
            if self.types.item(k).checkState() == Qt.CheckState.Checked
        )
        return Filters(
            folder=self._paths[i] if i is not None and i >= 0 else None,
            after=dates[0] if dates else None,
            before=dates[1] if dates else None,
            types=types,
            orientation=self.orientation.currentData(),
            min_size=self.min_size.currentData(),
            place=self.places.chosen(),
        )

    def clear(self) -> None:
        """Every photo again."""
        self._quiet = True
        try:
            self.folders.clearSelection()
            self.places.clearSelection()
            self.years.clear_choice()
            for k in range(self.types.count()):
                self.types.item(k).setCheckState(Qt.CheckState.Unchecked)
            self.orientation.setCurrentIndex(0)
            self.min_size.setCurrentIndex(0)
        finally:
            self._quiet = False
        self._emit()

    def reset(self) -> None:
        """Another library: no filters, no counts until its facets arrive."""
        self._quiet = True
        self.folders.clear()
        self.types.clear()
        self.places.clear()
        self.years.clear_choice()
        self.years.set_months({})
        self.years.set_years({})
        self.orientation.setCurrentIndex(0)
        self.min_size.setCurrentIndex(0)
        self._quiet = False
        self.current = Filters()

    def _emit(self, *_: object) -> None:
        if self._quiet:
            return
        f = self.filters()
        if f != self.current:
            self.current = f
            self.clear_button.setEnabled(bool(f))
            self.filtersChanged.emit(f)


class FilterDock(QDockWidget):
    """The filter panel as a side panel the user can hide (View ▸ Filters, or the toolbar's Filters button)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Filters", parent)
        self.setObjectName("filters")
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
        )
        self.panel = FilterPanel()
        self.setWidget(self.panel)
        self.setMinimumWidth(210)
        self.toggleViewAction().setText("Filters")
        self.toggleViewAction().setToolTip("Show or hide the filters (folder, date, type, orientation, size)")


def _heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    return label
