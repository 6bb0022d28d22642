"""The main window: builds the widgets and menus and connects them to the app's controllers. Decides nothing."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox

from photofinder.gui import fileurls
from photofinder.gui.controllers import AppController, Page, model_loading_text
from photofinder.gui.fileurls import shown_name
from photofinder.gui.filters.facet_feed import FacetsFeed
from photofinder.gui.library.explore_view import Explorer
from photofinder.gui.results.results_model import ResultsModel
from photofinder.gui.results.results_view import ZOOM_MAX, ZOOM_MIN, ZOOM_STEP
from photofinder.gui.settings import AppSettings
from photofinder.gui.window.dialogs import SettingsDialog, SkippedDialog, ask_for_model_folder
from photofinder.gui.window.first_run import check_model_folder, window_line
from photofinder.gui.window.layout import build_widgets
from photofinder.gui.window.menus import build_menus
from photofinder.gui.window.theme import follow_system
from photofinder.gui.workers.search_thread import Found, SearchRequest

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, data_dir: Path, settings: AppSettings | None = None, app: AppController | None = None):
        super().__init__()
        follow_system(QApplication.instance())  # light or dark as the system is, readable greys
        self.setWindowTitle("photofinder")
        self.resize(1200, 800)
        self.setAcceptDrops(True)
        self.data_dir = data_dir
        self.settings = settings or AppSettings(data_dir)
        self.app = app or AppController(data_dir, self.settings)
        self.results = ResultsModel(self.app.thumbs, self.settings.thumb_size)
        self.facets = FacetsFeed(self.app.libraries, self.app.searches)
        self.remember_geometry = True  # off for --screenshot, whose size is not the user's
        build_widgets(self)
        self.explore = Explorer(self)
        build_menus(self)
        self._connect()
        if self.settings.geometry:
            self.restoreGeometry(self.settings.geometry)  # where and how big the user left it
        self.app.start()

    # -- wiring ------------------------------------------------------------------------------------------
    def _scrolled(self, value: int) -> None:
        if value == 0:
            self.app.live.back_at_top()

    def _connect(self) -> None:
        app, lib, q, ix = self.app, self.app.libraries, self.app.query, self.app.indexing
        self.library_box.activated.connect(lambda i: lib.select(self.library_box.itemText(i)))
        self.add_folder_action.triggered.connect(self.choose_folder)
        self.empty_page.addFolder.connect(self.choose_folder)
        self.search_bar.termsChanged.connect(q.run_terms)
        self.filters.panel.filtersChanged.connect(q.set_filters)
        self.facets.ready.connect(self.filters.panel.set_facets)
        self.results_bar.showMore.connect(q.show_more)
        self.results_bar.showGood.connect(q.show_good)
        self.results_bar.sortChanged.connect(q.set_sort)
        self.results_bar.zoomChanged.connect(self.set_tile_size)
        self.view.zoomRequested.connect(self.zoom)
        self.message.linkActivated.connect(lambda _: q.show_more())
        q.matchesChanged.connect(self.results_bar.show_count)
        self.details.follow(self.view)
        self.view.findSimilar.connect(self.find_similar)
        self.view.addToSearch.connect(self.add_to_search)
        self.view.openPaths.connect(fileurls.open_paths)
        self.view.showInFolder.connect(fileurls.show_in_folder)
        self.view.copyPaths.connect(fileurls.copy_paths)
        self.view.devicePixelRatioChanged.connect(self.results.set_device_pixel_ratio)
        self.results.moreWanted.connect(q.fetch_more)
        app.live.grid_at_top = lambda: self.view.verticalScrollBar().value() == 0
        self.view.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.drops.addFolder.connect(ix.add_folder)
        self.drops.searchImage.connect(self.search_bar.add_image)
        self.drops.findSimilar.connect(self.find_similar)
        self.drops.message.connect(lambda text: self._show(Page("message", text)))
        self.drops.notice.connect(lambda text: self.activity.notice(text, 4000))
        self.drops.hovering.connect(self.drop_hint.set_shown)
        self.progress.cancelRequested.connect(self.cancel_indexing)
        self.progress.showSkipped.connect(lib.show_skipped)
        ix.started.connect(self.progress.start)
        ix.progress.connect(self.progress.update_progress)
        ix.finished.connect(self.progress.finish)
        app.words.started.connect(self.words_line.start)
        app.words.progress.connect(self.words_line.update_progress)
        app.words.finished.connect(self.words_line.finish)
        self.words_line.cancelRequested.connect(app.words.cancel)
        self.progress.actionRequested.connect(app.care.act)
        # Queued: a notice follows the panel's own update for the same event (a cancelled rebuild's summary).
        app.care.notice.connect(
            lambda n: self.progress.show_notice(n.text, n.action, n.error), Qt.ConnectionType.QueuedConnection
        )
        ix.modelLoading.connect(
            lambda m: self.progress.label.setText(model_loading_text(m, "to look at the photos"))
        )
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
        app.notice.connect(self.activity.notice)  # an empty text clears it
        app.busy.connect(self.activity.set_busy)
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
        self.details.show_result(None)  # nothing of the other library stays on screen
        if not self.app.indexing.running:
            self.progress.hide()  # its "Indexing done" was about the other library
        self.activity.notice("")

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
        """A new search for photos like this one: its chip alone (the typed text and other chips go)."""
        self.search_bar.clear(emit=False)
        self.add_to_search(path)

    def add_to_search(self, path: str) -> None:
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
            found.results,
            req.library.thumbs_dir if req else None,
            found.more is not None,
            req.label if req is not None and req.kind != "browse" else "",
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
        self.results_bar.setVisible(page.kind != "empty")  # no sort or size to set before there are photos

    def _on_model_problem(self, message: str) -> None:
        log.warning("model problem: %s", message)  # the whole message, for the log folder
        line = window_line(message)
        self.activity.notice(line, 0)  # one clear line in the window, until the next
        folder = ask_for_model_folder(self, line)
        if not folder:
            return
        why = check_model_folder(folder)
        if why is not None:  # not kept as the model: it would fail again, later and less clearly
            log.warning("model folder refused: %s", why)
            self.activity.notice(why, 0)
            return
        self.activity.notice("")
        self.app.use_model_folder(folder)

    def use_model(self, ref: str) -> None:
        """The welcome's choice (a hub id, or a checked folder), before any folder is indexed."""
        self.settings.model = ref
        self.settings.sync()
        self.app.searches.forget_libraries()

    # -- settings, misc -------------------------------------------------------------------------
    def open_settings(self) -> None:
        s = self.settings
        model, device, runtime, thumb = s.model, s.device, s.runtime, s.thumb_size
        if SettingsDialog(s, self).exec():
            if s.thumb_size != thumb:
                self.set_tile_size(s.thumb_size)
            self.app.settings_changed(model, device, runtime)

    def set_tile_size(self, size: int) -> None:
        """The zoom slider, Ctrl+= / Ctrl+- or Ctrl+wheel: every tile this size (remembered)."""
        size = max(ZOOM_MIN, min(ZOOM_MAX, size))
        if size != self.view.delegate.thumb_size:
            self.settings.thumb_size = size
            self.view.set_thumb_size(size)
            self.results.set_thumb_size(size)
        if self.results_bar.zoom.value() != size:
            self.results_bar.zoom.setValue(size)

    def zoom(self, steps: int) -> None:
        self.set_tile_size(self.view.delegate.thumb_size + steps * ZOOM_STEP)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.remember_geometry:
            self.settings.geometry = bytes(self.saveGeometry().data())
        self.library_actions.close_dialogs()
        self.explore.shutdown()
        self.app.shutdown()
        self.search_bar.shutdown()
        self.preview.shutdown()
        super().closeEvent(event)
