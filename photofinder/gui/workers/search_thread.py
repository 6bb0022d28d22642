"""The search thread: queries (with model loading), browse pages, and small library jobs, off the GUI thread.

Every search carries a serial number: the worker skips requests that a newer one superseded before running
them, and the controller drops results that are stale when they arrive. Jobs report back through the
callbacks they were given, called on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from photofinder.core.duplicates.hide import DuplicateCollapser
from photofinder.core.encode.torch_encoder import DownloadCancelled
from photofinder.core.errors import ModelMismatchError, ModelUnavailableError, PhotofinderError
from photofinder.core.find.query import IMAGE, TEXT, Query, QueryError
from photofinder.core.find.search import Searcher
from photofinder.core.photos.decode import UnreadableImage
from photofinder.core.store.catalog import Catalog
from photofinder.core.store.library import Library
from photofinder.gui.workers.browse_pages import PAGE, browse_page
from photofinder.gui.workers.model_pool import EmbedderPool
from photofinder.gui.workers.threads import new_thread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchRequest:
    serial: int
    library: Library
    kind: str  # "query", "browse", "text", "image" or "similar"
    query: (
        Any  # a core Query; text; image path, bytes, PIL or Q image; photo path; for "browse", the page key
    )
    top: int
    default_model: str
    label: str = ""  # what the user sees for this query
    hide_duplicates: bool = False  # one result per group of duplicates


@dataclass(frozen=True)
class Found:
    """What a request found; `more` is where the next browse page starts (None: nothing more)."""

    results: list
    more: Any = None
    good: int | None = None  # of a "query": how many results are good matches (None: not judged)
    hidden: int = 0  # duplicates left out (hiding duplicates): folded into a result as its `.duplicates`
    grown: list = field(default_factory=list)  # results of earlier pages that took in copies from this one


def qimage_to_pil(image: QImage) -> Image.Image:
    """An in-memory image's pixels as a PIL image (no PNG round trip). Slow for big images: not on the GUI thread."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    return Image.frombuffer(
        "RGB", (rgb.width(), rgb.height()), bytes(rgb.constBits()), "raw", "RGB", rgb.bytesPerLine(), 1
    ).copy()


class SearchWorker(QObject):
    """Lives on the search thread; owns the searchers and catalogs (their connections belong to this thread)."""

    results = Signal(object, object)  # request, Found
    failed = Signal(object, str, bool)  # request, message, is it a model problem
    modelLoading = Signal(str)
    taskDone = Signal(object, object)  # callback, value
    taskFailed = Signal(object, object)  # callback, the exception (the caller sorts it by type)

    def __init__(self, pool: EmbedderPool, latest: Callable[[], int]):
        super().__init__()
        self.pool = pool
        self.latest = latest
        self._searchers: dict[str, Searcher] = {}
        self._catalogs: dict[str, Catalog] = {}
        self._collapsers: dict[str, DuplicateCollapser] = {}

    def _searcher(self, library: Library, default_model: str) -> Searcher:
        key = str(library.root)
        s = self._searchers.get(key)
        if s is None:
            with library.open_catalog() as c:
                model = library.model_ref(c) or default_model
            s = self._searchers[key] = Searcher(library, self.pool.get(model))
        return s

    def _catalog(self, library: Library) -> Catalog:
        key = str(library.root)
        c = self._catalogs.get(key)
        if c is None:
            c = self._catalogs[key] = library.open_catalog()
        return c

    @Slot(object)
    def search(self, req: SearchRequest) -> None:
        if req.serial != self.latest():
            return  # superseded while it waited: don't spend the CPU
        try:
            try:
                found = self._run(req)
            except ModelMismatchError:  # the library switched to a new model (a rebuild completed): follow it
                stale = self._searchers.pop(str(req.library.root), None)
                if stale is not None:
                    stale.close()
                found = self._run(req)
            self.results.emit(req, found)
        except DownloadCancelled:
            self.failed.emit(req, "The model download was cancelled.", True)
        except ModelUnavailableError as e:
            self._searchers.pop(str(req.library.root), None)
            self.failed.emit(req, str(e), True)
        except UnreadableImage as e:
            self.failed.emit(req, f"That image can't be read: {e}.", False)
        except (PhotofinderError, QueryError) as e:
            self.failed.emit(req, str(e), False)
        except Exception as e:
            log.exception("search failed")
            self.failed.emit(req, f"The search failed unexpectedly ({type(e).__name__}: {e}).", False)

    def _run(self, req: SearchRequest) -> Found:
        found = self._find(req)
        if not req.hide_duplicates:
            return found
        # Here, off the GUI thread: a page's duplicates cost a few hundred vector products and, for pairs
        # that look alike, pixel checks on cached thumbnails (their verdicts kept for the next query).
        hider = self._collapser(req.library)
        if req.kind == "browse" and req.query is not None:  # the next page of a browse
            page = hider.more(found.results)
        else:
            page = hider.collapse(found.results)
        good = None if found.good is None else sum(1 for r in page.results if r.good)
        return Found(page.results, found.more, good, page.hidden, page.grown)

    def _collapser(self, library: Library) -> DuplicateCollapser:
        key = str(library.root)
        h = self._collapsers.get(key)
        if h is None:
            h = self._collapsers[key] = DuplicateCollapser(library, self._catalog(library))
        return h

    def _find(self, req: SearchRequest) -> Found:
        if req.kind == "browse":
            found, more = browse_page(self._catalog(req.library), req.query, req.top)
            return Found(found, more)
        s = self._searcher(req.library, req.default_model)
        if req.kind == "query":
            return self._query(s, req.query, req.top)
        if req.kind in ("text", "image"):
            self.pool.load(s.embedder, self.modelLoading.emit)
        if req.kind == "text":
            return Found(s.by_text(req.query, req.top))
        if req.kind == "image":
            query = qimage_to_pil(req.query) if isinstance(req.query, QImage) else req.query
            return Found(s.by_image(query, req.top))
        return Found(s.similar(req.query, req.top))

    def _query(self, s: Searcher, query: Query, top: int) -> Found:
        """A combined query (chips, filters, sort); a pasted QImage becomes pixels here, off the GUI thread."""
        terms = tuple(
            replace(t, value=qimage_to_pil(t.value)) if isinstance(t.value, QImage) else t
            for t in query.terms
        )
        if any(t.kind in (TEXT, IMAGE) for t in terms):
            self.pool.load(s.embedder, self.modelLoading.emit)
        found = s.run(replace(query, terms=terms), top)
        return Found(found.results, good=found.good if terms else None)

    @Slot(object, object, object)
    def task(
        self, fn: Callable[[], object], done: Callable[[object], None], failed: Callable[[str], None]
    ) -> None:
        """Run a small job (library summary, folder removal) on this thread, off the GUI thread."""
        try:
            self.taskDone.emit(done, fn())
        except Exception as e:
            if not isinstance(e, PhotofinderError):
                log.exception("background job %s failed", getattr(fn, "__name__", fn))
            self.taskFailed.emit(failed, e)

    @Slot()
    def forget(self) -> None:
        for s in self._searchers.values():
            s.close()
        for c in self._catalogs.values():
            c.close()
        self._searchers.clear()
        self._catalogs.clear()
        self._collapsers.clear()
        self.pool.unload_dropped()  # no searcher of this thread uses them any more


class SearchController(QObject):
    """The GUI's handle on the search thread. Only the newest query's results are ever delivered."""

    resultsReady = Signal(object, object)  # request, Found
    searchFailed = Signal(object, str, bool)
    modelLoading = Signal(str)
    _search = Signal(object)
    _task = Signal(object, object, object)
    _forget = Signal()

    def __init__(self, pool: EmbedderPool):
        super().__init__()
        self._serial = 0
        self._thread = new_thread("search")
        self._worker = SearchWorker(pool, lambda: self._serial)
        self._worker.moveToThread(self._thread)
        self._search.connect(self._worker.search)
        self._task.connect(self._worker.task)
        self._forget.connect(self._worker.forget)
        self._worker.results.connect(self._on_results)
        self._worker.failed.connect(self._on_failed)
        self._worker.modelLoading.connect(self.modelLoading)
        self._worker.taskDone.connect(self._on_task_done)
        self._worker.taskFailed.connect(self._on_task_failed)
        self._thread.start()

    def search(
        self,
        library: Library,
        kind: str,
        query: Any,
        top: int,
        default_model: str,
        label: str = "",
        hide_duplicates: bool = False,
    ) -> SearchRequest:
        self._serial += 1
        req = SearchRequest(self._serial, library, kind, query, top, default_model, label, hide_duplicates)
        self._search.emit(req)
        return req

    def next_page(self, req: SearchRequest, after: Any) -> SearchRequest:
        """The browse page after `after`, as part of `req` (same serial: a new query supersedes both)."""
        page = replace(req, kind="browse", query=after, top=PAGE)
        self._search.emit(page)
        return page

    def supersede(self) -> None:
        """Forget any query in flight (the user cleared the search)."""
        self._serial += 1

    def run_task(
        self, fn: Callable[[], object], done: Callable[[Any], None], failed: Callable[[Exception], None]
    ) -> None:
        """Run `fn` on the search thread; `done(value)` or `failed(exception)` then runs on the GUI thread.

        str(exception) of a PhotofinderError is a message for the user; any other was logged as a bug.
        """
        self._task.emit(fn, done, failed)

    def forget_libraries(self) -> None:
        """Close open searchers (a library was renamed, removed or re-indexed with another model)."""
        self._forget.emit()

    @Slot(object, object)
    def _on_task_done(self, done: Callable[[Any], object], value: object) -> None:
        done(value)

    @Slot(object, object)
    def _on_task_failed(self, failed: Callable[[Exception], object], error: Exception) -> None:
        failed(error)

    @Slot(object, object)
    def _on_results(self, req: SearchRequest, found: Found) -> None:
        if req.serial == self._serial:
            self.resultsReady.emit(req, found)

    @Slot(object, str, bool)
    def _on_failed(self, req: SearchRequest, message: str, model_problem: bool) -> None:
        if req.serial == self._serial:
            self.searchFailed.emit(req, message, model_problem)

    def shutdown(self) -> None:
        self._serial += 1
        self._forget.emit()
        self._thread.quit()
        self._thread.wait()
