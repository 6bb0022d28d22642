"""The filter panel beside the grid: folder, years taken, file type, orientation and minimum size, with counts.

Its filters combine with any query and with browsing: every change goes out as `filtersChanged(Filters)`.
The counts come from facets.count_facets, run off the GUI thread.
"""

from __future__ import annotations

import os
from datetime import date

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPalette
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

from ..core.paths import display_path
from ..core.query import Filters
from .facets import Facets

ORIENTATIONS = (("Any", None), ("Landscape", "landscape"), ("Portrait", "portrait"), ("Square", "square"))
MIN_SIZES = (("Any", None), ("≥ 500 px", 500), ("≥ 1000 px", 1000), ("≥ 2000 px", 2000), ("≥ 3000 px", 3000))
PathRole = Qt.ItemDataRole.UserRole + 1


class YearHistogram(QWidget):
    """A bar per year, as tall as its photo count; click a year to keep it, drag across bars for a range,
    click the chosen year again to let all years through."""

    rangeChanged = Signal(object)  # (first, last) year, or None

    def __init__(self) -> None:
        super().__init__()
        self.years: dict[int, int] = {}
        self.selected: tuple[int, int] | None = None
        self._press: int | None = None
        self.setMinimumHeight(84)
        self.setMouseTracking(True)

    def set_years(self, years: dict[int, int]) -> None:
        self.years = dict(sorted(years.items()))
        if self.selected and not any(self.selected[0] <= y <= self.selected[1] for y in self.years):
            self.selected = None
        self.setToolTip("\n".join(f"{y}: {n:,} photos" for y, n in self.years.items()))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(220, 84)

    def bar_rect(self, year: int) -> QRect:
        """Where the year's column is (bar, count and label): what a click on it hits."""
        keys = list(self.years)
        w = self.width() / max(1, len(keys))
        i = keys.index(year)
        return QRect(round(i * w), 0, max(1, round(w)), self.height())

    def year_at(self, x: float) -> int | None:
        keys = list(self.years)
        if not keys:
            return None
        i = int(x / (self.width() / len(keys)))
        return keys[max(0, min(len(keys) - 1, i))]

    def mousePressEvent(self, e: QMouseEvent) -> None:
        self._press = self.year_at(e.position().x())

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        y = self.year_at(e.position().x())
        if self._press is not None and y is not None and e.buttons() & Qt.MouseButton.LeftButton:
            self.selected = (min(self._press, y), max(self._press, y))  # brushing a range
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        start, self._press = self._press, None
        end = self.year_at(e.position().x())
        if start is None or end is None:
            return
        if start == end and self.selected == (start, start):
            self.selected = None  # clicked the chosen year again: all years
        else:
            self.selected = (min(start, end), max(start, end))
        self.update()
        self.rangeChanged.emit(self.selected)

    def paintEvent(self, e: QPaintEvent) -> None:
        p = QPainter(self)
        pal = self.palette()
        fm = self.fontMetrics()
        top = max(self.years.values(), default=1)
        label_h = fm.height()
        for year, n in self.years.items():
            r = self.bar_rect(year)
            chosen = self.selected is not None and self.selected[0] <= year <= self.selected[1]
            room = r.height() - 2 * label_h - 4
            h = max(2, round(room * n / top))
            bar = QRect(r.x() + 3, r.y() + label_h + 2 + room - h, max(2, r.width() - 6), h)
            p.fillRect(bar, pal.color(QPalette.ColorRole.Highlight if chosen else QPalette.ColorRole.Mid))
            p.setPen(pal.color(QPalette.ColorRole.Text))
            p.drawText(
                QRect(r.x(), bar.y() - label_h - 1, r.width(), label_h),
                Qt.AlignmentFlag.AlignCenter,
                f"{n:,}",
            )
            p.drawText(
                QRect(r.x(), r.bottom() - label_h, r.width(), label_h),
                Qt.AlignmentFlag.AlignCenter,
                str(year) if r.width() >= fm.horizontalAdvance("2000") else f"'{year % 100:02d}",
            )
        if not self.years:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no dates yet")
        p.end()


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
        header = self.folders.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.folders.itemSelectionChanged.connect(self._emit)
        self.years = YearHistogram()
        self.years.rangeChanged.connect(self._emit)
        self.types = QListWidget()
        self.types.setMaximumHeight(70)
        self.types.itemChanged.connect(self._emit)
        self.orientation = QComboBox()
        for text, key in ORIENTATIONS:
            self.orientation.addItem(text, key)
        self.orientation.currentIndexChanged.connect(self._emit)
        self.min_size = QComboBox()
        for text, key in MIN_SIZES:
            self.min_size.addItem(text, key)
        self.min_size.setToolTip("The shorter side of the photo")
        self.min_size.currentIndexChanged.connect(self._emit)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.clicked.connect(self.clear)
        for title, w in (("Folder", self.folders), ("Date taken", self.years), ("File type", self.types)):
            lay.addWidget(_heading(title))
            lay.addWidget(w, 1 if w is self.folders else 0)
        form = QFormLayout()
        form.addRow("Orientation", self.orientation)
        form.addRow("Min size", self.min_size)
        lay.addLayout(form)
        lay.addWidget(self.clear_button)
        self._paths: list[str] = []
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
            self.years.set_years(facets.years)
            checked = set(self.current.types)
            self.types.clear()
            for ext, n in facets.types.items():
                item = QListWidgetItem(f"{ext.upper()}  ({n:,})")
                item.setData(PathRole, ext)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if ext in checked else Qt.CheckState.Unchecked)
                self.types.addItem(item)
        finally:
            self._quiet = False

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
        years = self.years.selected
        types = tuple(
            self.types.item(k).data(PathRole)
            for k in range(self.types.count())
            if self.types.item(k).checkState() == Qt.CheckState.Checked
        )
        return Filters(
            folder=self._paths[i] if i is not None and i >= 0 else None,
            after=date(years[0], 1, 1) if years else None,
            before=date(years[1], 12, 31) if years else None,
            types=types,
            orientation=self.orientation.currentData(),
            min_size=self.min_size.currentData(),
        )

    def clear(self) -> None:
        """Every photo again."""
        self._quiet = True
        try:
            self.folders.clearSelection()
            self.years.selected = None
            self.years.update()
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
        self.years.set_years({})
        self.years.selected = None
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
        self.setMinimumWidth(230)
        self.toggleViewAction().setText("Filters")
        self.toggleViewAction().setToolTip("Show or hide the filters (folder, date, type, orientation, size)")


def _heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    return label
