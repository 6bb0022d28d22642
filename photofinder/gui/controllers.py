"""The app without its widgets: library lifecycle, indexing orchestration, query state, the model-problem flow.

Controllers hold state and decide; the window shows what they say (pages, status, dialogs) and forwards the
user's actions. No widget and no dialog is made here, so unit tests drive them with fake embedders.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from photofinder.core.errors import CatalogDamagedError, LibraryBusyError, PhotofinderError
from photofinder.core.find.query import IMAGE, WORDS, Filters, QueryError, Term, parse_search_bar
from photofinder.core.ingest.indexer import IndexReport
from photofinder.core.ingest.planner import nested_folders
from photofinder.core.ingest.watcher import WatchBatch
from photofinder.core.paths import display_path
from photofinder.core.photos.scanner import normalise_folder
from photofinder.core.store.library import DEFAULT_LIBRARY, Library, LibraryStore, LibrarySummary

from .care import LibraryCare
from .fileurls import shown_name
from .goodmatches import SHOW_CLOSEST, MatchCount, QueryState, esc, good_matches
from .indexing import MODEL, IndexController
from .modelpool import EmbedderPool
from .paging import PAGE
from .searching import Found, SearchController, SearchRequest
from .settings import AppSettings
from .thumbnails import ThumbnailLoader
from .watching import FolderWatch, describe
from .wordsrun import WordsController

TOP = 500  # results per query; the grid shows them lazily
INDEXING_HINT = "Indexing… you can search while it runs."


@dataclass(frozen=True)
class Page:
    """What the central area shows: "empty" (add a folder), "grid" (results) or "message" (a line of text)."""

    kind: str
    text: str = ""


def model_loading_text(model: str, why: str) -> str:
    """“Loading the model clip-vit-base-patch32 to understand your search (once per session: a few seconds, up to
    a minute on a slow disk)…”."""
    name = model.rstrip("/").replace("\\", "/").rsplit("/", 1)[-1] or model
    return (
        f"Loading the model {name} {why} — once per session, usually a few seconds "
        "(up to a minute on a slow disk)…"
    )


def format_duration(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s" if s < 600 else f"{round(s / 60)} min"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


class LibraryController(QObject):
    """Which library is shown, its summary, and creating, renaming and removing libraries and folders."""

    listChanged = Signal(list, str)  # names, the current one ("" for none)
    libraryChanged = Signal(object)  # Library | None
    summaryChanged = Signal(object)  # LibrarySummary of the current library
    summaryFailed = Signal(str)
    problem = Signal(str)  # something the user must be told
    busy = Signal(str)  # another process holds the library: a passing fault, told without a dialog
    damaged = Signal(object)  # the Library whose catalog is damaged
    repaired = Signal(object)  # where the damaged catalog was set aside (a Path, or None)
    folderRemoved = Signal(int)  # photos forgotten
    skippedReady = Signal(object)  # [(path, reason)]: an object, so that paths keep their exact bytes

    def __init__(
        self, store: LibraryStore, settings: AppSettings, searches: SearchController, thumbs: ThumbnailLoader
    ):
        super().__init__()
        self.store, self.settings, self.searches, self.thumbs = store, settings, searches, thumbs
        self.library: Library | None = None
        self.summary: LibrarySummary | None = None
        # Jobs that hold the library's lock pause the folder watcher: pause() gives what stops it (called on
        # the job's thread), resume() runs when the job is done. The AppController sets them.
        self.pause_watch: Callable[[], Callable[[], None]] = lambda: lambda: None
        self.resume_watch: Callable[[], None] = lambda: None

    def locked_task(
        self, fn: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[Exception], None]
    ) -> None:
        """Run `fn`, which holds the library's lock, on the search thread, with the folder watcher paused."""
        stop = self.pause_watch()

        def run() -> Any:
            stop()
            return fn()

        def ok(value: Any) -> None:
            self.resume_watch()
            done(value)

        def bad(error: Exception) -> None:
            self.resume_watch()
            failed(error)

        self.searches.run_task(run, ok, bad)

    def reload(self, select: str | None = None) -> None:
        names = self.store.names()
        name = select if select in names else (names[0] if names else None)
        self.listChanged.emit(names, name or "")
        if name is None:
            self._set(None)
        else:
            self.select(name)

    def select(self, name: str) -> None:
        if self.library is not None and self.library.name == name:
            return
        self.settings.last_library = name
        self._set(self.store.get(name))
        self.refresh_summary()

    def _set(self, library: Library | None) -> None:
        self.library, self.summary = library, None
        self.libraryChanged.emit(library)

    def refresh_summary(self) -> None:
        lib = self.library
        if lib is None:
            return

        def done(summary: LibrarySummary) -> None:
            if self.library is lib:  # not for a library no longer shown
                self.summary = summary
                self.summaryChanged.emit(summary)

        def failed(error: Exception) -> None:
            if self.library is not lib:
                return
            if isinstance(error, CatalogDamagedError):
                self.damaged.emit(lib)
            else:
                self.summaryFailed.emit(str(error))

        self.searches.run_task(lib.summary, done, failed)

    def repair(self) -> None:
        """Set the damaged catalog aside and start a new one from library.json (on the search thread)."""
        lib = self.library
        if lib is None:
            return

        def done(aside: Path | None) -> None:
            self.repaired.emit(aside)
            self.refresh_summary()

        self.searches.forget_libraries()  # its open catalogs go first: they hold the damaged file
        self.locked_task(lib.repair, done, self._failed)

    def create(self, name: str) -> None:
        try:
            self.store.create(name)
        except PhotofinderError as e:
            self.problem.emit(str(e))
            return
        self.reload(name)

    def rename(self, new: str) -> None:
        if self.library is None:
            return
        old, store = self.library.name, self.store
        self._release()  # (the watcher stops on a thread of its own; the task waits for it)
        self.locked_task(lambda: store.rename(old, new), lambda _: self.reload(new), self._library_failed)

    def remove(self) -> None:
        if self.library is None:
            return
        name, store = self.library.name, self.store
        self._release()
        self.locked_task(lambda: store.remove(name), lambda _: self.reload(), self._library_failed)

    def _library_failed(self, error: Exception) -> None:
        self._failed(error)
        self.reload(self.settings.last_library)

    def _failed(self, error: Exception) -> None:
        if isinstance(error, LibraryBusyError):
            self.busy.emit(str(error))
        else:
            self.problem.emit(str(error))

    def _release(self) -> None:
        """Let go of the library's files before they are moved or deleted.

        Thumbnail jobs may be writing into its cache, and the search thread holds its catalog open: the jobs are
        drained here, and the rename/removal itself runs on the search thread, after it has closed the catalog.
        """
        self._set(None)
        self.thumbs.drain()
        self.searches.forget_libraries()

    def remove_folder(self, folder: str) -> None:
        lib = self.library
        if lib is None:
            return

        def forget() -> int:
            return lib.remove_folder(folder)

        self.locked_task(forget, self.folderRemoved.emit, self._failed)

    def show_skipped(self) -> None:
        lib = self.library
        if lib is None:
            return

        def skipped() -> list[tuple[str, str]]:
            with lib.open_catalog() as c:
                return c.skipped()

        self.searches.run_task(skipped, self.skippedReady.emit, self._failed)


class QueryController(QObject):
    """The query shown in the grid: running it, paging through a browse, and what to show when it returns."""

    resultsReset = Signal(object, object)  # request (None: cleared), Found
    resultsAppended = Signal(object, object)  # request, Found: the next browse page
    pageChanged = Signal(object)  # Page
    statusExtra = Signal(str)  # what the grid shows, for the status line
    matchesChanged = Signal(object)  # MatchCount of the query shown, None when there is none
    searching = Signal()
    browsing = Signal()  # a browse's first page was asked for
    answered = Signal()  # a query came back (or failed)
    modelProblem = Signal(str)

    def __init__(
        self,
        searches: SearchController,
        libraries: LibraryController,
        settings: AppSettings,
        indexing_running: Callable[[], bool],
    ):
        super().__init__()
        self.searches, self.libraries, self.settings = searches, libraries, settings
        self._indexing = indexing_running
        self.last_request: SearchRequest | None = None
        self.view = QueryState()  # what the user asked for: chips, filters, sort
        self._last: tuple[SearchRequest, Found] | None = None  # the query's full answer, for "show more"
        self._next: Any = None  # where the next browse page starts
        searches.resultsReady.connect(self._on_results)
        searches.searchFailed.connect(self._on_failed)
        libraries.libraryChanged.connect(self.reset)

    def search_text(self, text: str) -> None:
        """Typed text alone (`-word` excludes a word), with the filters and sort in force."""
        try:
            terms = parse_search_bar(text)
        except QueryError as e:
            self.pageChanged.emit(Page("message", str(e)))
            return
        self.run_terms(terms)

    def search_image(self, image: Any, label: str) -> None:
        self.run_terms([Term(IMAGE, image, label=label)])

    def find_similar(self, path: str) -> None:
        self.run_terms([Term(IMAGE, path, label=f"Like {shown_name(path)}")])

    def run_terms(self, terms: Sequence[Term]) -> None:
        """The query bar's chips and text changed: run them (none: browse, within the filters)."""
        self.view.terms = tuple(terms)
        self.view.show_all = False
        self.run()

    def set_filters(self, filters: Filters) -> None:
        """The filter panel's filters (an open Explore group stays: the panel does not know it)."""
        self.view.filters = replace(filters, group=self.view.filters.group)
        self.run()

    def set_group(self, group: int | None) -> None:
        """Show an Explore group (None: leave it), within the other filters and with the query in force."""
        self.view.filters = replace(self.view.filters, group=group)
        self.run()

    def set_sort(self, sort: str) -> None:
        self.view.sort = sort
        self.run()

    def set_hide_duplicates(self, hide: bool) -> None:
        """View → Hide duplicates: remembered, and what is shown is asked for again."""
        self.settings.hide_duplicates = hide
        self.settings.sync()
        self.rerun()

    def show_more(self) -> None:
        """Show every result, not only the good matches."""
        self.view.show_all = True
        if self._last is not None:
            self._present(*self._last)

    def run(self) -> None:
        if not self.view.terms and not self.view.filters:
            self.clear()
            return
        self._search("query", self.view.query(), self.view.label())

    def _search(self, kind: str, query: Any, label: str) -> None:
        lib = self.libraries.library
        if lib is None:
            self.pageChanged.emit(Page("message", "Add a folder of photos first."))
            return
        self.last_request = self.searches.search(
            lib, kind, query, TOP, self.settings.model, label, self.settings.hide_duplicates
        )
        self.searching.emit()

    def browse(self) -> None:
        """No query: show the library's photos, newest first, a page at a time."""
        lib, s = self.libraries.library, self.libraries.summary
        if lib is None or s is None or not s.folders:
            return
        if s.photos == 0:
            self.pageChanged.emit(
                Page(
                    "message",
                    INDEXING_HINT if self._indexing() else "No photos found yet in this library's folders.",
                )
            )
            return
        self.last_request = self.searches.search(
            lib, "browse", None, PAGE, self.settings.model, "all photos", self.settings.hide_duplicates
        )
        self.browsing.emit()

    def fetch_more(self) -> None:
        """The grid scrolled to the end of what a browse loaded: ask for the next page."""
        r, after = self.last_request, self._next
        if r is not None and r.kind == "browse" and after is not None:
            self._next = None
            self.searches.next_page(r, after)

    def clear(self) -> None:
        """Back to browsing the library (the user emptied the search)."""
        self.view.terms = ()
        self.reset()
        self.browse()

    @Slot(object)
    def reset(self, _library: object = None) -> None:
        self.searches.supersede()
        self.last_request, self._next, self._last = None, None, None
        if _library is not None or self.libraries.library is None:
            self.view = QueryState()  # another library: its folders, its query
        self.matchesChanged.emit(None)
        self.resultsReset.emit(None, Found([]))

    def rerun(self) -> None:
        r = self.last_request
        if r is None or self.libraries.library is None:
            return
        if r.kind == "browse":
            self.browse()  # from the first page: the library changed
        elif r.kind == "query":
            self.run()
        else:
            self._search(r.kind, r.query, r.label)

    @Slot(object, object)
    def _on_results(self, req: SearchRequest, found: Found) -> None:
        self.answered.emit()
        if req.library is not self.libraries.library:
            return  # a library no longer shown
        self._next = found.more
        if req.kind == "query":
            self._last = (req, found)
            self._present(req, found)
            return
        if req.kind == "browse" and req.query is not None:
            self.resultsAppended.emit(req, found)
            return
        self.resultsReset.emit(req, found)
        self.pageChanged.emit(self._page_for(req, found.results))
        if req.kind == "browse":
            self.statusExtra.emit(("newest first" + _hidden(found)) if found.results else "")
        else:
            self.statusExtra.emit(f"best matches for “{req.label}”" if found.results else "")

    def _present(self, req: SearchRequest, found: Found) -> None:
        """Good matches only, until the user asks for more; none good: say so, and offer the closest."""
        shown = good_matches(found, self.view.show_all)
        count = MatchCount(len(shown), found.good, len(found.results), bool(req.query.terms))
        self.resultsReset.emit(req, Found(shown))
        self.matchesChanged.emit(count)
        if not found.results:
            text = "No photos match these filters." if req.query.filters else f"No matches for {req.label}."
            self.pageChanged.emit(Page("message", text))
        elif not shown:
            self.pageChanged.emit(
                Page(
                    "message",
                    f"No good matches for {esc(req.label)} — <a href='{SHOW_CLOSEST}'>show the closest</a>",
                )
            )
        else:
            self.pageChanged.emit(Page("grid"))
        self.statusExtra.emit(count.status(req.label) + _hidden(found))

    def _page_for(self, req: SearchRequest, results: list) -> Page:
        s = self.libraries.summary
        if results:
            return Page("grid")
        if s is not None and s.photos == 0:
            return Page(
                "message",
                "Nothing indexed yet: results will appear as indexing goes on."
                if self._indexing()
                else "Nothing is indexed yet. Add a folder of photos.",
            )
        if req.kind == "browse":
            if s is not None and not s.folders:
                return Page("empty")
            return Page("message", "Type what you are looking for, or drop a photo here.")
        return Page("message", f"No matches for {req.label}.")

    @Slot(object, str, bool)
    def _on_failed(self, req: SearchRequest, message: str, model_problem: bool) -> None:
        self.answered.emit()
        if model_problem:
            self.modelProblem.emit(message)
        else:
            self.pageChanged.emit(Page("message", message))


def _hidden(found: Found) -> str:
    n = found.hidden
    return f" · {n:,} duplicate{'s' if n != 1 else ''} hidden" if n else ""


class IndexingFlow(QObject):
    """Index runs as the user asks for them: one at a time, later folders queued behind the running one."""

    started = Signal(bool)  # whether it is a rebuild with a new model
    progress = Signal(object)
    finished = Signal(object)  # IndexReport
    failed = Signal(str, str)  # message, kind (indexing.MODEL, BUSY, DAMAGED or OTHER)
    modelLoading = Signal(str)
    queued = Signal(str)  # a passing message
    informed = Signal(str)  # why nothing was done, told without a dialog
    problem = Signal(str)  # something the user must be told

    def __init__(
        self,
        runner: IndexController,
        libraries: LibraryController,
        settings: AppSettings,
        words: WordsController | None = None,
    ):
        super().__init__()
        self.runner, self.libraries, self.settings = runner, libraries, settings
        self.words = words  # the words pass that follows each completed run
        self._words_again = False
        if words is not None:
            words.finished.connect(self._on_words_finished)
        self.closing = False
        self.rebuilding = False  # the run in progress re-encodes the library with a new model
        self._pending: list[str] = []
        self._pending_rebuild = False
        runner.progress.connect(self.progress)
        runner.modelLoading.connect(self.modelLoading)
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)

    @property
    def running(self) -> bool:
        return self.runner.running

    def add_folder(self, folder: str) -> None:
        path = normalise_folder(folder)
        if not os.path.isdir(path):
            self.problem.emit(f"{display_path(folder)} is not a folder.")
            return
        if not os.access(path, os.R_OK | os.X_OK):
            self.problem.emit(f"photofinder is not allowed to read {display_path(folder)}.")
            return
        inside = self._already_in_library(path)
        if inside is not None:
            self.informed.emit(f"{display_path(folder)} is already part of the library{inside}.")
            return
        if self.libraries.library is None:
            try:
                self.libraries.store.get_or_create(DEFAULT_LIBRARY)
            except PhotofinderError as e:
                self.problem.emit(str(e))
                return
            self.libraries.reload(DEFAULT_LIBRARY)
        self.start([path])

    def _already_in_library(self, path: str) -> str | None:
        """ "" for a folder of the library, " (inside X)" for one inside a folder X of it, else None.

        A parent of the library's folders is welcome: the core merges them into it.
        """
        s = self.libraries.summary
        folders = s.folders if s is not None else []
        if path in folders:
            return ""
        parent = nested_folders([*folders, path]).get(path)
        return f" (inside {display_path(parent)})" if parent else None

    def start(self, add_folders: list[str]) -> None:
        lib = self.libraries.library
        if lib is None:
            return
        if self.runner.running:
            self._pending += add_folders
            self.queued.emit("Indexing is running: the new folder will be indexed next.")
            return
        self.rebuilding = False
        self.started.emit(False)
        if self.words is not None:
            self.words.cancel()  # it goes on after this run, from where it stopped
        self.runner.start(lib, self.settings.model, add_folders, before=self.libraries.pause_watch())

    def rebuild(self) -> None:
        """Re-encode the whole library with the model in the settings; it switches only when complete."""
        lib = self.libraries.library
        if lib is None:
            return
        if self.runner.running:
            self._pending_rebuild = True
            self.queued.emit("Indexing is running: re-indexing with the new model starts when it is done.")
            return
        self.rebuilding = True
        self.started.emit(True)
        if self.words is not None:
            self.words.cancel()
        self.runner.start(lib, self.settings.model, [], rebuild=True, before=self.libraries.pause_watch())

    def cancel(self) -> None:
        self.runner.cancel()

    @Slot(object)
    def _on_finished(self, report: IndexReport) -> None:
        self.libraries.resume_watch()  # before the next queued run, which pauses it again
        self.finished.emit(report)
        if self.closing:
            return
        if not report.cancelled and not self._pending and not self._pending_rebuild:
            self.read_words()
        if self._pending:
            pending, self._pending = self._pending, []
            self.start(pending)
        elif self._pending_rebuild:
            self._pending_rebuild = False
            self.rebuild()

    @Slot(str, str)
    def _on_failed(self, message: str, kind: str) -> None:
        self.libraries.resume_watch()
        self.failed.emit(message, kind)

    def read_words(self) -> None:
        """Start the words pass (words and places) on the shown library, after the one running, if any."""
        lib = self.libraries.library
        if self.words is None or lib is None or self.closing:
            return
        if self.words.running:
            self._words_again = True
            self.words.cancel()
            return
        self.words.start(lib, self.settings.model, self.settings.ocr)

    @Slot(object)
    def _on_words_finished(self, _report: object) -> None:
        if self._words_again and not self.runner.running:
            self._words_again = False
            self.read_words()

    def shutdown(self) -> None:
        self.closing = True
        if self.words is not None:
            self.words.shutdown()
        self.runner.shutdown()


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
