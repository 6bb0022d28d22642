"""AppController: the parts wired together, plus what spans them: status line, page shown, model problems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from photofinder.core.ingest.indexer import IndexReport
from photofinder.core.store.library import Library, LibraryStore, LibrarySummary
from photofinder.gui.controllers.indexflow import IndexingFlow
from photofinder.gui.controllers.library import LibraryController
from photofinder.gui.controllers.live import LiveUpdates
from photofinder.gui.controllers.pages import INDEXING_HINT, Page, model_loading_text
from photofinder.gui.controllers.query import QueryController
from photofinder.gui.controllers.status import status_text
from photofinder.gui.library.folder_watch import FolderWatch
from photofinder.gui.library.index_run import MODEL, IndexController
from photofinder.gui.library.notices import LibraryCare
from photofinder.gui.library.words_run import WordsController
from photofinder.gui.results.thumbnail_loader import ThumbnailLoader
from photofinder.gui.settings import AppSettings
from photofinder.gui.workers.model_pool import EmbedderPool
from photofinder.gui.workers.search_thread import SearchController


class AppController(QObject):
    """The parts wired together, plus what spans them: status line, page shown, model problems, shutdown."""

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
        self._waiting = False  # the status bar says "Searching…" or "Loading the model…"
        self.live = LiveUpdates(self.libraries, self.query, self.indexing, self)  # photos arriving, leaving
        self._wire()

    def _wire(self) -> None:
        lib, q, ix = self.libraries, self.query, self.indexing
        lib.summaryChanged.connect(self._on_summary)
        lib.summaryFailed.connect(self._on_summary_failed)
        lib.damaged.connect(self._on_damaged)
        lib.libraryChanged.connect(self._on_library_changed)
        lib.libraryChanged.connect(self.watch.follow)
        lib.summaryChanged.connect(self.watch.readable)
        self.watch.batch.connect(self.live.watch_batch)
        lib.folderRemoved.connect(self.live.folder_removed)
        self.live.notice.connect(self.notice)
        lib.problem.connect(self.problem)
        ix.problem.connect(self.problem)
        ix.queued.connect(self._on_queued)
        ix.started.connect(self._on_index_started)
        ix.finished.connect(self._on_index_finished)
        self.words.finished.connect(self.live.words_read)
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
        ix.progress.connect(self.live.index_progress)
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

    def _on_browsing(self) -> None:
        if self.live.quiet_browse:  # the grid filling in while indexing: no busy line each time
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
        return status_text(self.libraries.summary, self.settings, self.pool, extra)

    def shutdown(self) -> None:
        """Stop the workers cleanly: indexing keeps every committed batch; nothing is left running."""
        self.live.shutdown()
        self.watch.shutdown()
        self.indexing.shutdown()
        self.searches.shutdown()
        self.thumbs.shutdown()
        self.settings.sync()
