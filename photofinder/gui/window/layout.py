"""The main window's widgets: the top bar, the pages, the panels under the grid, the status bar and the overlays
(MainWindow calls build_widgets once, before its menus and its wiring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QStackedWidget, QToolButton, QVBoxLayout, QWidget

from photofinder.gui.filters.filter_panel import FilterDock
from photofinder.gui.library.words_run import WordsLine
from photofinder.gui.query.drop_zone import DropHint, DropZone
from photofinder.gui.query.query_bar import QueryBar
from photofinder.gui.results.details import DetailsLine
from photofinder.gui.results.preview import QuickLook
from photofinder.gui.results.results_bar import ResultsBar
from photofinder.gui.results.results_view import ResultsView
from photofinder.gui.window.dialogs import DownloadPrompt
from photofinder.gui.window.first_run import Welcome, model_on_disk
from photofinder.gui.window.status_area import StatusArea
from photofinder.gui.window.widgets import EmptyPage, MessagePage, ProgressPanel

if TYPE_CHECKING:
    from photofinder.gui.window.main_window import MainWindow


def build_widgets(window: MainWindow) -> None:
    """Make the window's widgets, keeping those its wiring, menus and tests reach for as its attributes."""
    top = QWidget()
    top.setObjectName("top-bar")
    row = QHBoxLayout(top)
    row.setContentsMargins(6, 4, 6, 4)
    window.library_box = QComboBox()
    window.library_box.setMinimumWidth(90)
    window.library_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    window.library_box.setMinimumContentsLength(6)
    window.library_box.setToolTip("Library")
    window.library_box.setAccessibleName("Library")
    row.addWidget(window.library_box)
    window.add_folder_action = QAction("Add folder…", window)
    window.add_folder_action.setShortcut(QKeySequence.StandardKey.Open)
    window.add_folder_button = _tool_button(window.add_folder_action, "Add a folder of photos")
    row.addWidget(window.add_folder_button)
    window.search_bar = QueryBar()  # not a toolbar item: it is never moved into an overflow menu
    row.addWidget(window.search_bar, 1)
    window.filters = FilterDock(window)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, window.filters)
    window.filters_button = _tool_button(window.filters.toggleViewAction(), "Show or hide the filters")
    row.addWidget(window.filters_button)
    window.empty_page = EmptyPage()
    window.welcome = None
    if not model_on_disk(window.settings.model):  # first run: the download is explained before a folder
        window.welcome = Welcome(window.settings.model)
        window.empty_page.layout().insertWidget(1, window.welcome, 0, Qt.AlignmentFlag.AlignHCenter)
        window.welcome.modelChosen.connect(window.use_model)
        if window.welcome.models.currentData() != window.settings.model and not window.settings.has_model():
            window.use_model(window.welcome.models.currentData())  # the preselected choice, until another
    window.view = ResultsView(window.settings.thumb_size)
    window.view.setModel(window.results)
    window.results.set_device_pixel_ratio(window.view.devicePixelRatioF())
    window.message = MessagePage()
    window.pages = QStackedWidget()
    for w in (window.empty_page, window.view, window.message):
        window.pages.addWidget(w)
    window.pages.setCurrentWidget(window.message)  # blank until the library says what it holds
    window.progress = ProgressPanel()
    window.results_bar = ResultsBar()
    window.results_bar.zoom.setValue(window.settings.thumb_size)
    central = QWidget()
    lay = QVBoxLayout(central)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    lay.addWidget(top)
    lay.addWidget(window.results_bar)
    lay.addWidget(window.pages, 1)
    lay.addWidget(window.progress)
    window.words_line = WordsLine()
    lay.addWidget(window.words_line)
    window.setCentralWidget(central)
    window.details = DetailsLine()
    window.status_area = StatusArea(window.details)
    window.activity, window.status = window.status_area.activity, window.status_area.summary
    window.statusBar().addPermanentWidget(window.status_area, 1)  # showMessage is never used: it hid nothing
    window.statusBar().setSizeGripEnabled(False)
    window.preview = QuickLook(window, window.view)
    window.drops = DropZone(window, window.view)
    window.drop_hint = DropHint(window.pages)
    window.downloads = DownloadPrompt(window, window.app.pool)


def _tool_button(action: QAction, name: str) -> QToolButton:
    b = QToolButton()
    b.setDefaultAction(action)
    b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    b.setAccessibleName(name)
    b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return b
