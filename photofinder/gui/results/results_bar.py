"""The strip above the grid: how many good matches there are ("· show more" for the rest) and the sort order."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QWidget

from photofinder.gui.query.query_state import SHOW_GOOD, SHOW_MORE, MatchCount
from photofinder.gui.results.results_view import ZOOM_MAX, ZOOM_MIN, ZOOM_STEP

SORTS = (("Best match", "match"), ("Newest first", "date"))


class ResultsBar(QWidget):
    """Shows a MatchCount; `showMore` asks for the results past the good matches, `sortChanged` a new order."""

    showMore = Signal()
    showGood = Signal()  # back to the good matches only
    sortChanged = Signal(str)  # "match" or "date"
    zoomChanged = Signal(int)  # the tiles' photo size (logical pixels)

    def __init__(self) -> None:
        super().__init__()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 8, 2)
        self.count = QLabel()
        self.count.setTextFormat(Qt.TextFormat.RichText)
        self.count.linkActivated.connect(self._on_link)
        self.sort = QComboBox()
        self.sort.setToolTip("Sort the results")
        for text, key in SORTS:
            self.sort.addItem(text, key)
        self.sort.setAccessibleName("Sort the results")
        self._chosen = "match"  # the user's order for queries, kept while browsing shows newest first
        self.sort.activated.connect(self._on_sort)
        lay.addWidget(self.count, 1)
        lay.addWidget(QLabel("Sort:"))
        lay.addWidget(self.sort)
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(ZOOM_MIN, ZOOM_MAX)
        self.zoom.setSingleStep(16)
        self.zoom.setPageStep(ZOOM_STEP)
        self.zoom.setFixedWidth(110)
        self.zoom.setAccessibleName("Tile size")
        self.zoom.setToolTip("Tile size (Ctrl+= bigger, Ctrl+- smaller, or Ctrl+wheel over the photos)")
        self.zoom.valueChanged.connect(self.zoomChanged)
        lay.addSpacing(12)
        lay.addWidget(QLabel("Size:"))
        lay.addWidget(self.zoom)

    def show_count(self, count: MatchCount | None) -> None:
        self.count.setText("" if count is None else count.text())
        judged = count is not None and count.judged
        self.sort.setEnabled(judged)
        if judged:
            self.sort.setCurrentIndex(max(0, self.sort.findData(self._chosen)))
            self.sort.setToolTip("Sort the results")
        else:  # browsing is newest first: the disabled box says so, not "Best match"
            self.sort.setCurrentIndex(self.sort.findData("date"))
            self.sort.setToolTip("Browsing shows the newest photos first")

    def set_sort(self, key: str) -> None:
        self._chosen = key
        self.sort.setCurrentIndex(max(0, self.sort.findData(key)))

    def _on_sort(self, i: int) -> None:
        self._chosen = self.sort.itemData(i)
        self.sortChanged.emit(self._chosen)

    def _on_link(self, link: str) -> None:
        if link == SHOW_MORE:
            self.showMore.emit()
        elif link == SHOW_GOOD:
            self.showGood.emit()
