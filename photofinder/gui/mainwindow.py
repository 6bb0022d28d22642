"""The main window: builds the widgets and menus and connects them to the app's controllers. Decides nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from . import fileurls
from .controllers import AppController, Page
from .details import DetailsLine
from .dialogs import DownloadPrompt, SettingsDialog, SkippedDialog, ask_for_model_folder
from .dropzone import DropZone
from .explore import Explorer
from .facets import FacetsFeed
from .fileurls import shown_name
from .filterpanel import FilterDock
from .menus import build_menus
from .preview import QuickLook
from .querybar import QueryBar
from .results import ResultsModel, ResultsView
from .resultsbar import ResultsBar
from .searching import Found, SearchRequest
from .settings import AppSettings
from .widgets import EmptyPage, MessagePage, ProgressPanel


class MainWindow(QMainWindow):
    def __init__(self, data_dir: Path, settings: AppSettings | None = None, app: AppController | None = None):
        super().__init__()
        self.setWindowTitle("photofinder")
        self.resize(1200, 800)
        self.setAcceptDrops(True)
        self.data_dir = data_dir
        self.settings = settings or AppSettings(data_dir)
        self.app = app or AppController(data_dir, self.settings)
        self.results = ResultsModel(self.app.thumbs, self.settings.thumb_size)
        self.facets = FacetsFeed(self.app.libraries, self.app.searches)
        self.remember_geometry = True  # off for --screenshot, whose size is not the user's
        self._build()
        self.explore = Explorer(self)
        build_menus(self)
        self._connect()
        if self.settings.geometry:
            self.restoreGeometry(self.settings.geometry)  # where and how big the user left it
        self.app.start()

    # -- construction --------------------------------------------------------------------------------------
    def _build(self) -> None:
        bar = QToolBar("Main")
        bar.setMovable(False)
        bar.setObjectName("main-toolbar")
        self.addToolBar(bar)
        self.library_box = QComboBox()
        self.library_box.setMinimumWidth(160)
        self.library_box.setToolTip("Library")
        bar.addWidget(self.library_box)
        self.add_folder_action = QAction("Add folder…", self)
        self.add_folder_action.setShortcut(QKeySequence.StandardKey.Open)
        bar.addAction(self.add_folder_action)
        bar.addSeparator()
        self.search_bar = QueryBar()
        bar.addWidget(self.search_bar)
        self.filters = FilterDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.filters)
        bar.addAction(self.filters.toggleViewAction())
        self.empty_page = EmptyPage()
        self.view = ResultsView(self.settings.thumb_size)
        self.view.setModel(self.results)
        self.results.set_device_pixel_ratio(self.view.devicePixelRatioF())
        self.message = MessagePage()
        self.pages = QStackedWidget()
        for w in (self.empty_page, self.view, self.message):
            self.pages.addWidget(w)
        self.progress = ProgressPanel()
        self.results_bar = ResultsBar()
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.results_bar)
        lay.addWidget(self.pages, 1)
        lay.addWidget(self.progress)
        self.setCentralWidget(central)
        self.status = QLabel()
        self.details = DetailsLine()
        self.statusBar().addPermanentWidget(self.details)
        self.statusBar().addPermanentWidget(self.status, 1)
        self.preview = QuickLook(self, self.view)
        self.drops = DropZone(self, self.view)
        self.downloads = DownloadPrompt(self, self.app.pool)

    def _scrolled(self, value: int) -> None:
        if value == 0:
            self.app.back_at_top()

    def _connect(self) -> None:
        app, lib, q, ix = self.app, self.app.libraries, self.app.query, self.app.indexing
        self.library_box.activated.connect(lambda i: lib.select(self.library_box.itemText(i)))
        self.add_folder_action.triggered.connect(self.choose_folder)
        self.empty_page.addFolder.connect(self.choose_folder)
        self.search_bar.termsChanged.connect(q.run_terms)
        self.filters.panel.filtersChanged.connect(q.set_filters)
        self.facets.ready.connect(self.filters.panel.set_facets)
        self.results_bar.showMore.connect(q.show_more)
        self.results_bar.sortChanged.connect(q.set_sort)
        self.message.linkActivated.connect(lambda _: q.show_more())
        q.matchesChanged.connect(self.results_bar.show_count)
        self.details.follow(self.view)
        self.view.findSimilar.connect(self.find_similar)
        self.view.openPaths.connect(fileurls.open_paths)
        self.view.showInFolder.connect(fileurls.show_in_folder)
        self.view.copyPaths.connect(fileurls.copy_paths)
        self.view.devicePixelRatioChanged.connect(self.results.set_device_pixel_ratio)
        self.results.moreWanted.connect(q.fetch_more)
        app.grid_at_top = lambda: self.view.verticalScrollBar().value() == 0
        self.view.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.drops.addFolder.connect(ix.add_folder)
        self.drops.searchImage.connect(self.search_bar.add_image)
        self.drops.findSimilar.connect(self.find_similar)
        self.drops.message.connect(lambda text: self._show(Page("message", text)))
        self.drops.notice.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.progress.cancelRequested.connect(self.cancel_indexing)
        self.progress.showSkipped.connect(lib.show_skipped)
        ix.started.connect(self.progress.start)
        ix.progress.connect(self.progress.update_progress)
        ix.finished.connect(self.progress.finish)
        self.progress.actionRequested.connect(app.care.act)
        # Queued: a notice follows the panel's own update for the same event (a cancelled rebuild's summary).
        app.care.notice.connect(
            lambda n: self.progress.show_notice(n.text, n.action, n.error), Qt.ConnectionType.QueuedConnection
        )
        ix.modelLoading.connect(lambda _: self.progress.label.setText("Loading the model…"))
        for sig in (ix.finished, ix.failed, q.answered):
            sig.connect(self.downloads.close)
        lib.listChanged.connect(self._on_library_list)
        lib.libraryChanged.connect(self._on_library_changed)
        lib.skippedReady.connect(lambda skipped: SkippedDialog(skipped, self).open())
        q.resultsReset.connect(self._on_results)
        q.resultsAppended.connect(self._on_more_results)
        self.view.showCopies.connect(self.results.show_copies)
        app.pageChanged.connect(self._show)
        app.statusChanged.connect(self.status.setText)
        app.notice.connect(self.statusBar().showMessage)  # an empty text clears it
        app.problem.connect(self._on_problem)
        app.modelProblem.connect(self._on_model_problem)
        app.pool.downloadProgress.connect(self.downloads.progress)

    # -- libraries -----------------------------------------------------------------------------------------
    def _on_library_list(self, names: list[str], current: str) -> None:
        self.library_box.clear()
        self.library_box.addItems(names)
        self.library_box.setCurrentText(current)
        for w in (
            self.library_box,
            self.rename_action,
            self.remove_action,
            self.reindex_action,
            self.duplicates_action,
        ):
            w.setEnabled(bool(names))

    def _on_library_changed(self, library: object) -> None:
        if library is not None:
            self.library_box.setCurrentText(library.name)  # type: ignore[attr-defined]
        self.search_bar.clear()
        self.filters.panel.reset()

    # -- indexing and searching ----------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of photos", str(Path.home()))
        if folder:
            self.app.indexing.add_folder(folder)

    def cancel_indexing(self) -> None:
        self.progress.stopping()
        self.app.indexing.cancel()

    def focus_search(self) -> None:
        self.search_bar.edit.setFocus()
        self.search_bar.edit.selectAll()

    def find_similar(self, path: str) -> None:
        """A chip for the photo (its stored vector: no decoding); a file from elsewhere is searched by its pixels."""
        r, label = self.results.result_for_path(path), f"Like {shown_name(path)}"
        if r is not None:
            self.search_bar.add_photo(r.id, label, self.results.cached_pixmap(path))
        else:
            self.search_bar.add_image(path, label)

    def paste(self) -> None:
        md = QGuiApplication.clipboard().mimeData()
        if self.search_bar.edit.hasFocus() and md.hasText() and not md.hasUrls():
            self.search_bar.edit.paste()
        else:
            self.drops.paste(QGuiApplication.clipboard())

    def _on_results(self, req: SearchRequest | None, found: Found) -> None:
        self.results.set_results(
            found.results, req.library.thumbs_dir if req else None, found.more is not None
        )
        if found.results:
            self.view.scrollToTop()

    def _on_more_results(self, _req: SearchRequest, found: Found) -> None:
        self.results.update_results(found.grown)  # tiles shown already that took in copies of this page
        self.results.append_results(found.results, found.more is not None)

    def _on_problem(self, text: str) -> None:
        QMessageBox.warning(self, "photofinder", text)

    def _show(self, page: Page) -> None:
        if page.kind == "message":
            self.message.setText(page.text)
        self.pages.setCurrentWidget(
            {"empty": self.empty_page, "grid": self.view}.get(page.kind, self.message)
        )

    def _on_model_problem(self, message: str) -> None:
        folder = ask_for_model_folder(self, message)
        if folder:
            self.app.use_model_folder(folder)

    # -- settings, misc -------------------------------------------------------------------------
    def open_settings(self) -> None:
        s = self.settings
        model, device, runtime, thumb = s.model, s.device, s.runtime, s.thumb_size
        if SettingsDialog(s, self).exec():
            if s.thumb_size != thumb:
                self.view.set_thumb_size(s.thumb_size)
                self.results.set_thumb_size(s.thumb_size)
            self.app.settings_changed(model, device, runtime)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.remember_geometry:
            self.settings.geometry = bytes(self.saveGeometry().data())
        self.library_actions.close_dialogs()
        self.explore.shutdown()
        self.app.shutdown()
        self.search_bar.shutdown()
        self.preview.shutdown()
        super().closeEvent(event)
