"""AppController: the parts wired together, plus what spans them: status line, page shown, model problems."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from photofinder.core.find.query import WORDS
from photofinder.core.ingest.indexer import IndexReport
from photofinder.core.ingest.watcher import WatchBatch
from photofinder.core.store.library import Library, LibraryStore, LibrarySummary
from photofinder.gui.controllers.indexflow import IndexingFlow
from photofinder.gui.controllers.library import LibraryController
from photofinder.gui.controllers.pages import INDEXING_HINT, Page, format_duration, model_loading_text
from photofinder.gui.controllers.query import QueryController
from photofinder.gui.library.folder_watch import FolderWatch, describe
from photofinder.gui.library.index_run import MODEL, IndexController
from photofinder.gui.library.notices import LibraryCare
from photofinder.gui.library.words_run import WordsController
from photofinder.gui.results.thumbnail_loader import ThumbnailLoader
from photofinder.gui.settings import AppSettings
from photofinder.gui.workers.model_pool import EmbedderPool
from photofinder.gui.workers.search_thread import SearchController


class AppController(QObject):
    """The parts wired together, plus what spans them: status line, page shown, model problems, shutdown."""

    LANDED_MS = 1500

    pageChanged = Signal(object)  # Page
    statusChanged = Signal(str)
    notice = Signal(str, int)  # a passing status-bar message and for how long (ms; 0: until the next)
    busy = Signal(str, str)  # what runs ("search", "model", "index") and what to say about it; "": it ended
    problem = Signal(str)  # an error the user must be told (a dialog)
    modelProblem = Signal(str)  # the model can't be had: the window may offer `use_model_folder`

    def __init__(
        self,
        data_dir: Path,
        settings: AppSettings,
        pool: EmbedderPool | None = None,
        watch_args: dict[str, float] | None = None,
    ):
        super().__init__()
        self.data_dir, self.settings = data_dir, settings
        self.store = LibraryStore(data_dir)
        self.pool = pool or EmbedderPool(settings.device, runtime=settings.runtime)
        self.searches = SearchController(self.pool)
        self.thumbs = ThumbnailLoader()
        self.libraries = LibraryController(self.store, settings, self.searches, self.thumbs)
        self.watch = FolderWatch(self.pool, settings, **(watch_args or {}))
        self.libraries.pause_watch, self.libraries.resume_watch = self.watch.pause, self.watch.resume
        self.words = WordsController(self.pool)
        self.indexing = IndexingFlow(IndexController(self.pool), self.libraries, settings, self.words)
        self.query = QueryController(self.searches, self.libraries, settings, lambda: self.indexing.running)
        self.care = LibraryCare(self.libraries, self.indexing, settings)
        # Nothing said yet: "Add a folder" is shown only once the library is known to have none (it flashed for
        # seconds at every start while the first page of a library, with duplicates hidden, was on its way).
        self.page = Page("message")
        self._retry: Callable[[], None] | None = None
        self._extra = ""
        self._quiet_browse = False
        self._waiting = False  # the status bar says "Searching…" or "Loading the model…"
        # The window says whether its grid shows its top rows: a watcher's new photos are not pushed into a
        # browse the user is scrolling through further down (the grid would jump back to page one).
        self.grid_at_top: Callable[[], bool] = lambda: True
        self._browse_behind = False  # new photos arrived while the user looked further down
        # While indexing, what the batches committed is shown every so often: the status count, the filters'
        # counts and (browsing, at the top of the grid) the photos themselves.
        self._landed = QTimer(self)
        self._landed.setSingleShot(True)
        self._landed.setInterval(self.LANDED_MS)
        self._landed.timeout.connect(self._show_landed)
        self._wire()

    def _wire(self) -> None:
        lib, q, ix = self.libraries, self.query, self.indexing
        lib.summaryChanged.connect(self._on_summary)
        lib.summaryFailed.connect(self._on_summary_failed)
        lib.damaged.connect(self._on_damaged)
        lib.libraryChanged.connect(self._on_library_changed)
        lib.libraryChanged.connect(self.watch.follow)
        lib.summaryChanged.connect(self.watch.readable)
        self.watch.batch.connect(self._on_watch_batch)
        lib.folderRemoved.connect(self._on_folder_removed)
        lib.problem.connect(self.problem)
        ix.problem.connect(self.problem)
        ix.queued.connect(self._on_queued)
        ix.started.connect(self._on_index_started)
        ix.finished.connect(self._on_index_finished)
        self.words.finished.connect(self._on_words_read)
        ix.failed.connect(self._on_index_failed)
        ix.modelLoading.connect(self._on_index_model_loading)
        q.pageChanged.connect(self._show)
        q.statusExtra.connect(self._update_status)
        q.searching.connect(self._on_searching)
        q.browsing.connect(self._on_browsing)
        q.answered.connect(self._on_answered)
        q.modelProblem.connect(self._on_query_model_problem)
        self.searches.modelLoading.connect(self._on_search_model_loading)
        ix.started.connect(self._on_index_busy)
        ix.progress.connect(self._on_index_progress)
        self.pool.unloaded.connect(self.searches.forget_libraries)  # searchers hold the models too

    # Slots are methods, not lambdas: a lambda slot that returns a bool (an emit, an `and`) trips a PySide
    # reference-count bug that aborts the process ("bool_dealloc").
    def _on_summary_failed(self, message: str) -> None:
        self.statusChanged.emit(f"This library can't be read: {message}")

    def _on_damaged(self, library: Library) -> None:
        self._show(Page("message", "This library can't be read: its catalog is damaged."))
        self.statusChanged.emit(f"The catalog of the library “{library.name}” is damaged.")

    def _on_library_changed(self, library: Library | None) -> None:
        if library is None:
            self._show(Page("empty"))
        self._update_status("")

    def _on_queued(self, message: str) -> None:
        self.notice.emit(message, 5000)

    def _on_index_started(self, rebuild: bool) -> None:
        if self.page.kind == "empty":
            self._show(Page("message", INDEXING_HINT))

    def _on_searching(self) -> None:
        self._waiting = True
        self.busy.emit("search", "Searching…")

    def _show_landed(self) -> None:
        if not self.indexing.running or self.indexing.rebuilding:  # a rebuild changes nothing until it ends
            return
        self.libraries.refresh_summary()  # the status line and the filters follow
        r = self.query.last_request
        if (r is None or r.kind == "browse") and self.grid_at_top():
            self._quiet_browse = True
            try:
                self.query.browse()
            finally:
                self._quiet_browse = False

    def _on_browsing(self) -> None:
        if self._quiet_browse:  # the grid filling in while indexing: no busy line each time
            return
        self._waiting = True
        hiding = " (grouping duplicates)" if self.settings.hide_duplicates else ""
        self.busy.emit("search", f"Loading the photos{hiding}…")

    def _on_answered(self) -> None:
        if self._waiting:
            self._waiting = False
            self.busy.emit("search", "")
            self.busy.emit("model", "")
        self._update_status(self._extra)  # the model may have loaded: its device and runtime are known now

    def _on_index_busy(self, rebuild: bool) -> None:
        self.busy.emit(
            "index", "Re-indexing with the new model…" if rebuild else "Indexing: looking for photos…"
        )

    def _on_index_progress(self, p: Any) -> None:
        if p.phase == "indexing" and not self._landed.isActive():
            self._landed.start()
        if p.phase == "indexing":
            self.busy.emit("model", "")  # the model is loaded once photos go through it
            verb = "Re-indexing" if self.indexing.rebuilding else "Indexing"
            self.busy.emit("index", f"{verb} {p.done:,} of {p.total:,} photos…")
        elif p.phase == "scanning":
            self.busy.emit("index", f"Indexing: looking for photos… {p.done:,} found")

    def _on_query_model_problem(self, message: str) -> None:
        self._model_problem(message, self.query.rerun)

    @property
    def library(self) -> Library | None:
        return self.libraries.library

    @property
    def summary(self) -> LibrarySummary | None:
        return self.libraries.summary

    def start(self) -> None:
        self.libraries.reload(self.settings.last_library)

    def _show(self, page: Page) -> None:
        self.page = page
        self.pageChanged.emit(page)

    def busy_message(self, what: str) -> str | None:
        """Why `what` can't be done now, or None."""
        return f"Indexing is running. Cancel it or wait to {what}." if self.indexing.running else None

    @Slot(object)
    def _on_summary(self, s: LibrarySummary) -> None:
        if not s.folders and not self.indexing.running:
            self._show(Page("empty"))
        elif self.query.last_request is None:
            self.query.browse()
        self._update_status(self._extra)

    @Slot(object)
    @Slot(object)
    def _on_words_read(self, report: object) -> None:
        """New words and places: the Places counts and a query that asks for words are brought up to date."""
        if report is None or not getattr(report, "looked_at", 0) or self.indexing.closing:
            return
        self.libraries.refresh_summary()
        r = self.query.last_request
        if (
            r is not None
            and r.kind == "query"
            and (r.query.filters.text or r.query.filters.place or any(t.kind == WORDS for t in r.query.terms))
        ):
            self.query.rerun()

    def _on_index_finished(self, report: IndexReport) -> None:
        self.busy.emit("index", "")
        self.busy.emit("model", "")
        if report.rebuilt:
            self.searches.forget_libraries()  # their searchers hold the old model
        self.libraries.refresh_summary()
        if self.query.last_request is not None:
            self.query.rerun()
        else:
            self.query.browse()

    @Slot(str, str)
    def _on_index_failed(self, message: str, kind: str) -> None:
        self.busy.emit("index", "")
        self.busy.emit("model", "")
        self.libraries.refresh_summary()
        if kind == MODEL and not self.indexing.closing:
            self._model_problem(message, lambda: self.indexing.start([]))

    @Slot(object)
    def _on_watch_batch(self, batch: WatchBatch) -> None:
        """The folder watcher caught the library up: say so in passing, and show new photos in a browse."""
        if batch.report is None:
            if not self.indexing.running and "being indexed" not in (batch.error or ""):  # busy: it retries
                self.notice.emit(f"Watching the folders: {batch.error}", 8000)
            return
        text = describe(batch.report)
        if not text:
            return
        self.notice.emit(text[0].upper() + text[1:] + ".", 6000)
        self.libraries.refresh_summary()  # the fresh summary browses again when nothing else is shown
        r = self.query.last_request
        if r is not None and r.kind == "browse":
            if self.grid_at_top():
                self.query.rerun()
            else:  # shown when they scroll back to the top (back_at_top)
                self._browse_behind = True

    def back_at_top(self) -> None:
        """The grid was scrolled back to its top: show what the folder watcher added meanwhile."""
        if not self._browse_behind:
            return
        self._browse_behind = False
        r = self.query.last_request
        if r is not None and r.kind == "browse":
            self.query.rerun()

    def photos_trashed(self, n: int) -> None:
        """Photos were moved to the trash (the duplicates window): the status line and the grid follow."""
        self.notice.emit(f"{n:,} photo{'s' if n != 1 else ''} moved to the trash.", 5000)
        self.libraries.refresh_summary()
        self.query.rerun()

    def _on_folder_removed(self, n: int) -> None:
        self.notice.emit(f"Folder removed: {n:,} photos forgotten.", 5000)
        r = self.query.last_request
        if r is not None and r.kind == "browse":
            self.query.last_request = None  # the fresh summary browses again, or shows the empty page
        else:
            self.query.rerun()
        self.libraries.refresh_summary()

    def _model_problem(self, message: str, retry: Callable[[], None]) -> None:
        self._retry = retry
        self.modelProblem.emit(message)

    def use_model_folder(self, folder: str) -> None:
        """The user chose a local model folder after a model problem: use it, and try again."""
        self.settings.model = folder
        self.settings.sync()
        self.searches.forget_libraries()
        retry, self._retry = self._retry, None
        if retry is not None:
            retry()

    def _on_search_model_loading(self, model: str) -> None:
        self._waiting = True
        self.busy.emit("model", model_loading_text(model, "to understand your search"))

    def _on_index_model_loading(self, model: str) -> None:
        self.busy.emit("model", model_loading_text(model, "to look at the photos"))

    def settings_changed(self, model: str, device: str, runtime: str | None = None) -> None:
        """Settings were edited; `model`, `device` and `runtime` are the values before."""
        runtime = self.settings.runtime if runtime is None else runtime
        self.pool.device, self.pool.runtime = self.settings.device, self.settings.runtime
        if (self.settings.model, self.settings.device, self.settings.runtime) != (model, device, runtime):
            self.searches.forget_libraries()
        if self.settings.model != model:
            self.care.model_changed()
        self.watch.setting_changed()
        self._update_status(self._extra)

    def _update_status(self, extra: str = "") -> None:
        self._extra = extra
        self.statusChanged.emit(self.status_text(extra))

    def status_text(self, extra: str = "") -> str:
        s = self.libraries.summary
        if s is None:
            return "No library yet: add a folder of photos to start."
        model = (s.model_id or self.settings.model).rstrip("/")
        short = model if len(model) < 40 else "…" + model[-38:]
        parts = [
            f"{s.photos:,} photos",
            f"{len(s.folders)} folder{'s' if len(s.folders) != 1 else ''}",
            f"model {short} ({self._engine(s.model_id or self.settings.model)})",
        ]
        if s.last_indexed:
            parts.append(f"indexed {format_duration(max(0.0, time.time() - s.last_indexed))} ago")
        if extra:
            parts.insert(0, extra)
        return "  ·  ".join(parts)

    def _engine(self, model: str) -> str:
        """Where the model runs: "CPU, ONNX" once loaded; before that the settings ("auto", "cpu, ONNX")."""
        device = self.pool.loaded_device(model)
        runtime = self.pool.loaded_runtime(model)
        if device is None:
            device = self.settings.device
            runtime = {"onnx": "ONNX", "torch": "torch"}.get(self.settings.runtime)
        shown = {"cpu": "CPU", "cuda": "GPU", "mps": "GPU (Apple)", "gpu": "GPU"}.get(device, device)
        return f"{shown}, {runtime}" if runtime else shown

    def shutdown(self) -> None:
        """Stop the workers cleanly: indexing keeps every committed batch; nothing is left running."""
        # No timer may outlive the controller's use: Python may free this QObject later from any thread (a
        # collection a worker thread happens to run), and a timer still registered then crashes the event loop.
        self._landed.stop()
        self.watch.shutdown()
        self.indexing.shutdown()
        self.searches.shutdown()
        self.thumbs.shutdown()
        self.settings.sync()
