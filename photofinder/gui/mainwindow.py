"""The main window: library picker, search bar, results grid, indexing progress. Composes; computes nothing."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QSize, Qt, QUrl, Slot
from PySide6.QtGui import (QAction, QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QGuiApplication,
                           QImage, QImageReader, QKeySequence, QPixmap)
from PySide6.QtWidgets import (QComboBox, QFileDialog, QInputDialog, QLabel, QMainWindow, QMenu, QMessageBox,
                               QStackedWidget, QToolBar, QVBoxLayout, QWidget)

from ..core.decode import is_photo_name
from ..core.errors import PhotofinderError
from ..core.indexer import IndexReport
from ..core.library import DEFAULT_LIBRARY, Library, LibraryStore, LibrarySummary
from ..core.scanner import normalise_folder
from ..core.search import SearchResult
from .dialogs import DownloadDialog, SettingsDialog, SkippedDialog, ask_for_model_folder
from .results import ResultsModel, ResultsView
from .settings import AppSettings
from .widgets import EmptyPage, MessagePage, ProgressPanel, SearchBar, format_duration
from .workers import EmbedderPool, IndexController, SearchController, SearchRequest, ThumbnailLoader

log = logging.getLogger(__name__)

TOP = 500  # results per query; the grid shows them lazily


def chip_icon(path: str, side: int = 40) -> QPixmap:
    """A small icon of a photo for the search chip, read scaled from the file (JPEGs decode at 1/8 size),
    so dropping a 50 MP photo doesn't stall the window."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > side:
        reader.setScaledSize(size.scaled(QSize(side, side), Qt.AspectRatioMode.KeepAspectRatio))
    return QPixmap.fromImage(reader.read())


class MainWindow(QMainWindow):
    def __init__(self, data_dir: Path, settings: AppSettings | None = None):
        super().__init__()
        self.setWindowTitle("photofinder")
        self.resize(1200, 800)
        self.setAcceptDrops(True)
        self.data_dir = data_dir
        self.store = LibraryStore(data_dir)
        self.settings = settings or AppSettings(data_dir)
        self.pool = EmbedderPool(self.settings.device)
        self.indexing = IndexController(self.pool)
        self.searches = SearchController(self.pool)
        self.thumbs = ThumbnailLoader()
        self.results = ResultsModel(self.thumbs, self.settings.thumb_size)
        self.library: Library | None = None
        self.summary: LibrarySummary | None = None
        self.last_request: SearchRequest | None = None
        self._pending_folders: list[str] = []
        self._download: DownloadDialog | None = None
        self._closing = False
        self.remember_geometry = True  # off for --screenshot, whose size is not the user's
        self._build()
        self._connect()
        if self.settings.geometry:
            self.restoreGeometry(self.settings.geometry)  # where and how big the user left it
        self.reload_libraries(self.settings.last_library)

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
        self.search_bar = SearchBar()
        bar.addWidget(self.search_bar)

        self.empty_page = EmptyPage()
        self.view = ResultsView(self.settings.thumb_size)
        self.view.setModel(self.results)
        self.message = MessagePage()
        self.pages = QStackedWidget()
        for w in (self.empty_page, self.view, self.message):
            self.pages.addWidget(w)
        self.progress = ProgressPanel()
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.pages, 1)
        lay.addWidget(self.progress)
        self.setCentralWidget(central)
        self.status = QLabel()
        self.statusBar().addPermanentWidget(self.status, 1)

        m = self.menuBar().addMenu("&Library")
        m.addAction("&New library…", self.new_library)
        self.rename_action = m.addAction("&Rename library…", self.rename_library)
        self.remove_action = m.addAction("Remo&ve library…", self.remove_library)
        m.addSeparator()
        m.addAction(self.add_folder_action)
        self.remove_folder_menu = m.addMenu("Remove &folder")
        self.remove_folder_menu.aboutToShow.connect(self._fill_remove_folder_menu)
        self.reindex_action = m.addAction("Re-&index now", lambda: self.start_indexing([]))
        m.addSeparator()
        m.addAction("&Quit", QKeySequence.StandardKey.Quit, self.close)
        e = self.menuBar().addMenu("&Edit")
        self.find_action = e.addAction("&Find", QKeySequence.StandardKey.Find, self.focus_search)
        e.addAction("&Paste image to search", QKeySequence.StandardKey.Paste, self.paste)
        e.addSeparator()
        e.addAction("&Settings…", QKeySequence.StandardKey.Preferences, self.open_settings)
        h = self.menuBar().addMenu("&Help")
        h.addAction("Open &log folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_dir))))
        h.addAction("&About photofinder", self.about)

    def _connect(self) -> None:
        self.library_box.activated.connect(lambda i: self.select_library(self.library_box.itemText(i)))
        self.add_folder_action.triggered.connect(self.choose_folder)
        self.empty_page.addFolder.connect(self.choose_folder)
        self.search_bar.textSearch.connect(self.search_text)
        self.search_bar.cleared.connect(self.clear_search)
        self.view.findSimilar.connect(self.find_similar)
        self.view.openPaths.connect(self.open_paths)
        self.view.showInFolder.connect(self.show_in_folder)
        self.view.copyPaths.connect(lambda paths: QGuiApplication.clipboard().setText("\n".join(paths)))
        self.progress.cancelRequested.connect(self.cancel_indexing)
        self.progress.showSkipped.connect(self.show_skipped)
        self.indexing.progress.connect(self.progress.update_progress)
        self.indexing.finished.connect(self._on_index_finished)
        self.indexing.failed.connect(self._on_index_failed)
        self.indexing.modelLoading.connect(self._on_model_loading)
        self.searches.resultsReady.connect(self._on_results)
        self.searches.searchFailed.connect(self._on_search_failed)
        self.searches.modelLoading.connect(self._on_model_loading)
        self.searches.taskDone.connect(self._on_task_done)
        self.searches.taskFailed.connect(self._on_task_failed)
        self.pool.downloadProgress.connect(self._on_download_progress)

    # -- libraries -----------------------------------------------------------------------------------------
    def reload_libraries(self, select: str | None = None) -> None:
        names = self.store.names()
        self.library_box.clear()
        self.library_box.addItems(names)
        name = select if select in names else (names[0] if names else None)
        self.library_box.setEnabled(bool(names))
        for a in (self.rename_action, self.remove_action, self.reindex_action):
            a.setEnabled(bool(names))
        if name is None:
            self.library = None
            self.summary = None
            self.pages.setCurrentWidget(self.empty_page)
            self._update_status()
            return
        self.select_library(name)

    def select_library(self, name: str) -> None:
        if self.library is not None and self.library.name == name:
            return
        self.library_box.setCurrentText(name)
        self.library = self.store.get(name)
        self.settings.last_library = name
        self.summary = None
        self.last_request = None
        self.searches.supersede()
        self.results.set_results([], None)
        self.search_bar.edit.clear()
        self.search_bar.chip.hide()
        self.refresh_summary()

    def refresh_summary(self) -> None:
        if self.library is not None:
            lib = self.library
            self.searches.run_task(f"summary:{lib.root}", lib.summary)

    def new_library(self) -> None:
        name, ok = QInputDialog.getText(self, "New library", "Name of the new library:")
        if ok and name.strip():
            try:
                self.store.create(name.strip())
            except PhotofinderError as e:
                QMessageBox.warning(self, "New library", str(e))
                return
            self.reload_libraries(name.strip())

    def rename_library(self) -> None:
        if self.library is None or self._busy("rename a library"):
            return
        old = self.library.name
        name, ok = QInputDialog.getText(self, "Rename library", f"New name for {old!r}:", text=old)
        if not ok or not name.strip() or name.strip() == old:
            return
        new, store = name.strip(), self.store
        self._release_library()
        self.searches.run_task(f"library-renamed:{new}", lambda: store.rename(old, new))

    def remove_library(self) -> None:
        if self.library is None or self._busy("remove a library"):
            return
        name = self.library.name
        answer = QMessageBox.question(
            self, "Remove library",
            f"Remove the library {name!r}?\n\nThis deletes photofinder's index and thumbnails for it. "
            "Your photos are not touched.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        store = self.store
        self._release_library()
        self.searches.run_task("library-removed", lambda: store.remove(name))

    def _release_library(self) -> None:
        """Let go of the current library's files before they are moved or deleted.

        Thumbnail jobs may be writing into its cache, and the search thread holds its catalog open: the jobs are
        drained here, and the rename/removal itself runs on the search thread, after it has closed the catalog.
        """
        self.searches.supersede()
        self.last_request = None
        self.thumbs.drain()
        self.results.set_results([], None)
        self.library = None
        self.summary = None
        self.searches.forget_libraries()

    def _busy(self, what: str) -> bool:
        if self.indexing.running:
            QMessageBox.information(self, "photofinder", f"Indexing is running. Cancel it or wait to {what}.")
            return True
        return False

    def _fill_remove_folder_menu(self) -> None:
        menu: QMenu = self.remove_folder_menu
        menu.clear()
        folders = self.summary.folders if self.summary else []
        if not folders:
            menu.addAction("(no folders)").setEnabled(False)
        for f in folders:
            menu.addAction(f, lambda f=f: self.remove_folder(f))

    def remove_folder(self, folder: str) -> None:
        if self.library is None or self._busy("remove a folder"):
            return
        answer = QMessageBox.question(self, "Remove folder",
                                      f"Stop searching {folder}?\n\nThe photos in it are not touched.")
        if answer == QMessageBox.StandardButton.Yes:
            lib = self.library

            def forget() -> int:
                return lib.remove_folder(folder)

            self.searches.run_task("folder-removed", forget)

    # -- indexing ------------------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of photos", str(Path.home()))
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> None:
        path = normalise_folder(folder)
        if not os.path.isdir(path):
            QMessageBox.warning(self, "Add folder", f"{folder} is not a folder.")
            return
        if not os.access(path, os.R_OK | os.X_OK):
            QMessageBox.warning(self, "Add folder", f"photofinder is not allowed to read {folder}.")
            return
        if self.library is None:
            try:
                self.store.get_or_create(DEFAULT_LIBRARY)
            except PhotofinderError as e:
                QMessageBox.warning(self, "Add folder", str(e))
                return
            self.reload_libraries(DEFAULT_LIBRARY)
        self.start_indexing([path])

    def start_indexing(self, add_folders: list[str]) -> None:
        if self.library is None:
            return
        if self.indexing.running:
            self._pending_folders += add_folders
            self.statusBar().showMessage("Indexing is running: the new folder will be indexed next.", 5000)
            return
        self.pool.cancel_download.clear()
        self.progress.start()
        if self.pages.currentWidget() is self.empty_page:
            self._show_message("Indexing… you can search while it runs.")
        self.indexing.start(self.library, self.settings.model, add_folders)

    def cancel_indexing(self) -> None:
        self.progress.stopping()
        self.indexing.cancel()

    @Slot(object)
    def _on_index_finished(self, report: IndexReport) -> None:
        self._close_download()
        self.progress.finish(report)
        self.refresh_summary()
        if self.last_request is not None:
            self._rerun()
        else:
            self.browse()
        if self._pending_folders and not self._closing:
            pending, self._pending_folders = self._pending_folders, []
            self.start_indexing(pending)

    @Slot(str, bool)
    def _on_index_failed(self, message: str, model_problem: bool) -> None:
        self._close_download()
        self.progress.error(message)
        self.refresh_summary()
        if model_problem and not self._closing and self._offer_model_folder(message):
            self.start_indexing([])

    def show_skipped(self) -> None:
        lib = self.library
        if lib is None:
            return

        def skipped() -> list[tuple[str, str]]:
            with lib.open_catalog() as c:
                return c.skipped()

        self.searches.run_task("skipped", skipped)

    # -- searching -----------------------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search_bar.edit.setFocus()
        self.search_bar.edit.selectAll()

    def search_text(self, text: str) -> None:
        self._search("text", text, text)

    def search_image(self, image: str | bytes | Image.Image, label: str, thumb: QPixmap | None = None) -> None:
        self.search_bar.show_image(label, thumb)
        self._search("image", image, label)

    def find_similar(self, path: str) -> None:
        pm = self.results.cached_pixmap(path)
        self.search_bar.show_image(f"Like {os.path.basename(path)}", pm)
        self._search("similar", path, f"photos like {os.path.basename(path)}")

    def _search(self, kind: str, query: object, label: str) -> None:
        if self.library is None:
            self._show_message("Add a folder of photos first.")
            return
        self.last_request = self.searches.search(self.library, kind, query, TOP, self.settings.model, label)
        self.statusBar().showMessage("Searching…")

    def _rerun(self) -> None:
        r = self.last_request
        if r is not None and self.library is not None:
            self.last_request = self.searches.search(self.library, r.kind, r.query, r.top, r.default_model, r.label)

    def clear_search(self) -> None:
        self.searches.supersede()
        self.last_request = None
        self.results.set_results([], None)
        self.statusBar().clearMessage()
        self.browse()

    def browse(self) -> None:
        """No query: show the library's photos, newest first."""
        if self.library is None or self.summary is None or not self.summary.folders:
            return
        if self.summary.photos == 0:
            self._show_message("Indexing… you can search while it runs." if self.indexing.running
                               else "No photos found yet in this library's folders.")
            return
        self.last_request = self.searches.search(self.library, "browse", None, TOP, self.settings.model,
                                                 "all photos")

    @Slot(object, object)
    def _on_results(self, req: SearchRequest, results: list[SearchResult]) -> None:
        self._close_download()
        self.statusBar().clearMessage()
        if req.library is not self.library:
            return
        self.results.set_results(results, req.library.thumbs_dir)
        if results:
            self.pages.setCurrentWidget(self.view)
            self.view.scrollToTop()
        elif self.summary is not None and self.summary.photos == 0:
            self._show_message("Nothing is indexed yet. Add a folder of photos." if not self.indexing.running
                               else "Nothing indexed yet: results will appear as indexing goes on.")
        elif req.kind == "browse":
            if self.summary is not None and not self.summary.folders:
                self.pages.setCurrentWidget(self.empty_page)
            else:
                self._show_message("Type what you are looking for, or drop a photo here.")
        else:
            self._show_message(f"No matches for {req.label}.")
        if req.kind == "browse":
            self._update_status("newest first" if results else "")
        else:
            self._update_status(f"best matches for “{req.label}”" if results else "")

    @Slot(object, str, bool)
    def _on_search_failed(self, req: SearchRequest, message: str, model_problem: bool) -> None:
        self._close_download()
        self.statusBar().clearMessage()
        if model_problem:
            if self._offer_model_folder(message):
                self._rerun()
            return
        self._show_message(message)

    def _offer_model_folder(self, message: str) -> bool:
        folder = ask_for_model_folder(self, message)
        if folder:
            self.settings.model = folder
            self.settings.sync()
            self.searches.forget_libraries()
            return True
        return False

    # -- drag and drop, paste ------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        md = event.mimeData()
        if (md.hasUrls() and any(u.isLocalFile() for u in md.urls())) or md.hasImage():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: ANN001
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        md = event.mimeData()
        if event.source() is self.view:  # a result dragged back onto the grid: find similar to it
            paths = self.view.selected_paths()
            if paths:
                self.find_similar(paths[0])
            return
        paths = [u.toLocalFile() for u in md.urls() if u.isLocalFile()]
        folders = [p for p in paths if os.path.isdir(p)]
        images = [p for p in paths if os.path.isfile(p)]
        event.acceptProposedAction()
        for f in folders:
            self.add_folder(f)
        if images and not folders:
            p = images[0]
            if not is_photo_name(p):
                self._show_message(f"{os.path.basename(p)} is not a photo photofinder can read.")
                return
            self.search_image(p, os.path.basename(p), chip_icon(p))
        elif md.hasImage() and not paths:
            self._search_qimage(QImage(md.imageData()), "dropped image")

    def paste(self) -> None:
        if self.search_bar.edit.hasFocus() and QGuiApplication.clipboard().mimeData().hasText() \
                and not QGuiApplication.clipboard().mimeData().hasUrls():
            self.search_bar.edit.paste()
            return
        md = QGuiApplication.clipboard().mimeData()
        files = [u.toLocalFile() for u in md.urls() if u.isLocalFile() and os.path.isfile(u.toLocalFile())]
        if files:
            self.search_image(files[0], os.path.basename(files[0]), chip_icon(files[0]))
        elif md.hasImage():
            self._search_qimage(QGuiApplication.clipboard().image(), "pasted image")
        else:
            self.statusBar().showMessage("The clipboard holds no image.", 4000)

    def _search_qimage(self, image: QImage, label: str) -> None:
        """Search by an in-memory image: its pixels go to the search thread as they are (no PNG round trip)."""
        if image.isNull():
            return
        rgb = image.convertToFormat(QImage.Format.Format_RGB888)
        pil = Image.frombuffer("RGB", (rgb.width(), rgb.height()), bytes(rgb.constBits()), "raw", "RGB",
                               rgb.bytesPerLine(), 1)
        icon = QPixmap.fromImage(image.scaled(40, 40, Qt.AspectRatioMode.KeepAspectRatio))
        self.search_image(pil, label, icon)

    # -- result actions ------------------------------------------------------------------------------------
    def open_paths(self, paths: list[str]) -> None:
        for p in paths[:20]:
            QDesktopServices.openUrl(QUrl.fromLocalFile(p))

    def show_in_folder(self, path: str) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))

    # -- settings, status, misc ----------------------------------------------------------------------------
    def open_settings(self) -> None:
        before = (self.settings.model, self.settings.device, self.settings.thumb_size)
        if SettingsDialog(self.settings, self).exec():
            model, device, thumb = self.settings.model, self.settings.device, self.settings.thumb_size
            if thumb != before[2]:
                self.view.set_thumb_size(thumb)
                self.results.set_thumb_size(thumb)
            if device != before[1]:
                self.pool.device = device
            if (model, device) != before[:2]:
                self.searches.forget_libraries()
            self._update_status()

    def about(self) -> None:
        from .. import __version__

        QMessageBox.about(self, "About photofinder",
                          f"<b>photofinder {__version__}</b><p>Find photos by what is in them, on your own computer."
                          f"<p>Data folder: {self.data_dir}")

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.pages.setCurrentWidget(self.message)

    @Slot(str, object)
    def _on_task_done(self, tag: str, value: object) -> None:
        if tag.startswith("summary:"):
            if self.library is None or tag != f"summary:{self.library.root}":
                return  # for a library no longer shown
            self.summary = value  # type: ignore[assignment]
            assert self.summary is not None
            if not self.summary.folders and not self.indexing.running:
                self.pages.setCurrentWidget(self.empty_page)
            elif self.last_request is None:
                self.browse()
            self._update_status()
        elif tag == "skipped":
            SkippedDialog(value, self).open()  # type: ignore[arg-type]
        elif tag.startswith("library-renamed:"):
            self.reload_libraries(tag.split(":", 1)[1])
        elif tag == "library-removed":
            self.reload_libraries()
        elif tag == "folder-removed":
            self.statusBar().showMessage(f"Folder removed: {value:,} photos forgotten.", 5000)
            if self.last_request is not None and self.last_request.kind == "browse":
                self.last_request = None  # the fresh summary browses again, or shows the empty page
            else:
                self._rerun()
            self.refresh_summary()

    @Slot(str, str)
    def _on_task_failed(self, tag: str, message: str) -> None:
        if tag.startswith("summary:"):
            self.status.setText(f"This library can't be read: {message}")
        elif tag.startswith("library-"):
            QMessageBox.warning(self, "photofinder", message)
            self.reload_libraries(self.settings.last_library)
        else:
            QMessageBox.warning(self, "photofinder", message)

    def _update_status(self, extra: str = "") -> None:
        s = self.summary
        if s is None:
            self.status.setText("No library yet: add a folder of photos to start.")
            return
        model = (s.model_id or self.settings.model).rstrip("/")
        short = model if len(model) < 40 else "…" + model[-38:]
        embedder = self.pool.get(s.model_id or self.settings.model)
        device = embedder.device if embedder.loaded else self.settings.device
        parts = [f"{s.photos:,} photos", f"{len(s.folders)} folder{'s' if len(s.folders) != 1 else ''}",
                 f"model {short} ({device})"]
        if s.last_indexed:
            parts.append(f"indexed {format_duration(max(0.0, time.time() - s.last_indexed))} ago")
        if extra:
            parts.insert(0, extra)
        self.status.setText("  ·  ".join(parts))

    def _on_model_loading(self, model: str) -> None:
        self.statusBar().showMessage(f"Loading the model {model}…")
        if self.indexing.running:
            self.progress.label.setText("Loading the model…")

    def _on_download_progress(self, model: str, done: int, total: int) -> None:
        if self._download is None:
            self._download = DownloadDialog(model, self)
            self._download.canceled.connect(self._cancel_download)
        self._download.update_bytes(done, total, time.monotonic())

    def _cancel_download(self) -> None:
        self.pool.cancel_download.set()
        self._close_download()

    def _close_download(self) -> None:
        dialog, self._download = self._download, None  # closing it can re-enter here (it emits canceled)
        if dialog is not None:
            dialog.close()
            dialog.deleteLater()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the workers cleanly: indexing keeps every committed batch; nothing is left running."""
        self._closing = True
        if self.remember_geometry:
            self.settings.geometry = bytes(self.saveGeometry().data())
        self.indexing.shutdown()
        self.searches.shutdown()
        self.thumbs.shutdown()
        self.settings.sync()
        super().closeEvent(event)
