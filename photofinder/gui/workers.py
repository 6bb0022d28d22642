"""Background work for the app: indexing, search (with model loading) and thumbnails, each off the GUI thread.

Results come back by queued signal. Every search carries a serial number: the worker skips requests that a newer
one has superseded before running them, and the controller drops results that are stale when they arrive.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage

from ..core.decode import UnreadableImage
from ..core.embedder import ClipEmbedder, DownloadCancelled
from ..core.errors import ModelUnavailableError, PhotofinderError
from ..core.indexer import CancelToken, Indexer, Progress
from ..core.library import Library
from ..core.search import Searcher
from ..core.thumbnails import load_thumbnail

log = logging.getLogger(__name__)

# Every QThread the app starts, so tests (and shutdown) can check that none is left running.
LIVE_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


def new_thread(name: str) -> QThread:
    t = QThread()
    t.setObjectName(name)
    LIVE_THREADS.add(t)
    return t


class EmbedderPool(QObject):
    """One lazily loaded model per model id, shared by the index and search threads (loading is locked)."""

    downloadProgress = Signal(str, int, int)  # model, done bytes, total bytes

    def __init__(self, device: str = "auto"):
        super().__init__()
        self.device = device
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str], ClipEmbedder] = {}
        self.cancel_download = threading.Event()

    def get(self, model: str) -> ClipEmbedder:
        with self._lock:
            key = (model, self.device)
            if key not in self._models:
                self._models[key] = ClipEmbedder(model, self.device, self._progress_for(model))
            return self._models[key]

    def _progress_for(self, model: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            if self.cancel_download.is_set():
                raise DownloadCancelled()
            self.downloadProgress.emit(model, done, total)

        return report


# -- indexing ----------------------------------------------------------------------------------------------
class IndexWorker(QObject):
    progress = Signal(object)  # core.indexer.Progress
    finished = Signal(object)  # core.indexer.IndexReport
    failed = Signal(str, bool)  # message, is it a model problem
    modelLoading = Signal(str)

    def __init__(self, library: Library, pool: EmbedderPool, model: str | None, add_folders: list[str],
                 cancel: CancelToken):
        super().__init__()
        self.library, self.pool, self.model = library, pool, model
        self.add_folders, self.cancel = add_folders, cancel
        self._last_emit = 0.0

    @Slot()
    def run(self) -> None:
        try:
            with self.library.open_catalog() as c:
                for f in self.add_folders:
                    c.add_folder(f)
                model = c.model_id or self.model
            embedder = self.pool.get(model)
            if not embedder.loaded:
                self.modelLoading.emit(model)
                embedder.load()
            report = Indexer(self.library, embedder).run(self._on_progress, self.cancel)
            self.finished.emit(report)
        except DownloadCancelled:
            self.failed.emit("The model download was cancelled.", True)
        except ModelUnavailableError as e:
            self.failed.emit(str(e), True)
        except PhotofinderError as e:
            self.failed.emit(str(e), False)
        except OSError as e:  # disk full, folder gone: the catalog rolled back its batch
            self.failed.emit(f"Indexing stopped: {e.strerror or e}. What was indexed so far is kept.", False)
        except Exception as e:  # noqa: BLE001 - reported to the user and logged, never swallowed
            log.exception("indexing failed")
            self.failed.emit(f"Indexing stopped because of an unexpected error ({type(e).__name__}: {e}). "
                             "What was indexed so far is kept; details are in the log file.", False)

    def _on_progress(self, p: Progress) -> None:
        now = time.monotonic()
        if p.phase != "indexing" or now - self._last_emit >= 0.1 or p.done == p.total:
            self._last_emit = now
            self.progress.emit(p)


class IndexController(QObject):
    """Starts one index run at a time on its own QThread; cancel and shutdown are safe at any moment."""

    started = Signal()
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, bool)
    modelLoading = Signal(str)

    def __init__(self, pool: EmbedderPool):
        super().__init__()
        self.pool = pool
        self._thread: QThread | None = None
        self._worker: IndexWorker | None = None
        self._cancel: CancelToken | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, library: Library, model: str, add_folders: list[str] | None = None) -> bool:
        if self._thread is not None:
            return False
        self._cancel = CancelToken()
        thread = new_thread("index")
        worker = IndexWorker(library, self.pool, model, add_folders or [], self._cancel)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        worker.modelLoading.connect(self.modelLoading)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._thread, self._worker = thread, worker
        thread.start()
        self.started.emit()
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def _stop_thread(self) -> None:
        thread, self._thread, self._worker = self._thread, None, None
        if thread is not None:
            thread.quit()
            thread.wait()

    @Slot(object)
    def _on_finished(self, report: object) -> None:
        self._stop_thread()
        self.finished.emit(report)

    @Slot(str, bool)
    def _on_failed(self, message: str, model_problem: bool) -> None:
        self._stop_thread()
        self.failed.emit(message, model_problem)

    def shutdown(self) -> None:
        """Cancel and wait: what was indexed is already committed, batch by batch."""
        self.cancel()
        self.pool.cancel_download.set()
        self._stop_thread()


# -- search ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchRequest:
    serial: int
    library: Library
    kind: str  # "browse", "text", "image" or "similar"
    query: Any  # text, image path/bytes/PIL image, or photo path
    top: int
    default_model: str
    label: str = ""  # what the user sees for this query


class SearchWorker(QObject):
    """Lives on the search thread; owns the searchers (their catalog connections belong to this thread)."""

    results = Signal(object, object)  # request, list[SearchResult]
    failed = Signal(object, str, bool)  # request, message, is it a model problem
    modelLoading = Signal(str)
    taskDone = Signal(str, object)
    taskFailed = Signal(str, str)

    def __init__(self, pool: EmbedderPool, latest: Callable[[], int]):
        super().__init__()
        self.pool = pool
        self.latest = latest
        self._searchers: dict[str, Searcher] = {}

    def _searcher(self, library: Library, default_model: str) -> Searcher:
        key = str(library.root)
        s = self._searchers.get(key)
        if s is None:
            with library.open_catalog() as c:
                model = c.model_id or default_model
            s = self._searchers[key] = Searcher(library, self.pool.get(model))
        return s

    @Slot(object)
    def search(self, req: SearchRequest) -> None:
        if req.serial != self.latest():
            return  # superseded while it waited: don't spend the CPU
        try:
            s = self._searcher(req.library, req.default_model)
            if not getattr(s.embedder, "loaded", True) and req.kind in ("text", "image"):
                self.modelLoading.emit(s.embedder.model_id)
            if req.kind == "browse":
                found = s.browse(req.top)
            elif req.kind == "text":
                found = s.by_text(req.query, req.top)
            elif req.kind == "image":
                found = s.by_image(req.query, req.top)
            else:
                found = s.similar(req.query, req.top)
            self.results.emit(req, found)
        except DownloadCancelled:
            self.failed.emit(req, "The model download was cancelled.", True)
        except ModelUnavailableError as e:
            self._searchers.pop(str(req.library.root), None)
            self.failed.emit(req, str(e), True)
        except UnreadableImage as e:
            self.failed.emit(req, f"That image can't be read: {e}.", False)
        except PhotofinderError as e:
            self.failed.emit(req, str(e), False)
        except Exception as e:  # noqa: BLE001
            log.exception("search failed")
            self.failed.emit(req, f"The search failed unexpectedly ({type(e).__name__}: {e}).", False)

    @Slot(str, object)
    def task(self, tag: str, fn: Callable[[], object]) -> None:
        """Run a small job (library summary, folder removal) on this thread, off the GUI thread."""
        try:
            self.taskDone.emit(tag, fn())
        except Exception as e:  # noqa: BLE001
            if not isinstance(e, PhotofinderError):
                log.exception("background task %s failed", tag)
            self.taskFailed.emit(tag, str(e))

    @Slot()
    def forget(self) -> None:
        for s in self._searchers.values():
            s.close()
        self._searchers.clear()


class SearchController(QObject):
    """The GUI's handle on the search thread. Only the newest query's results are ever delivered."""

    resultsReady = Signal(object, object)
    searchFailed = Signal(object, str, bool)
    modelLoading = Signal(str)
    taskDone = Signal(str, object)
    taskFailed = Signal(str, str)
    _search = Signal(object)
    _task = Signal(str, object)
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
        self._worker.taskDone.connect(self.taskDone)
        self._worker.taskFailed.connect(self.taskFailed)
        self._thread.start()

    def search(self, library: Library, kind: str, query: Any, top: int, default_model: str,
               label: str = "") -> SearchRequest:
        self._serial += 1
        req = SearchRequest(self._serial, library, kind, query, top, default_model, label)
        self._search.emit(req)
        return req

    def supersede(self) -> None:
        """Forget any query in flight (the user cleared the search)."""
        self._serial += 1

    def run_task(self, tag: str, fn: Callable[[], object]) -> None:
        self._task.emit(tag, fn)

    def forget_libraries(self) -> None:
        """Close open searchers (a library was renamed, removed or re-indexed with another model)."""
        self._forget.emit()

    @Slot(object, object)
    def _on_results(self, req: SearchRequest, results: object) -> None:
        if req.serial == self._serial:
            self.resultsReady.emit(req, results)

    @Slot(object, str, bool)
    def _on_failed(self, req: SearchRequest, message: str, model_problem: bool) -> None:
        if req.serial == self._serial:
            self.searchFailed.emit(req, message, model_problem)

    def shutdown(self) -> None:
        self._serial += 1
        self._forget.emit()
        self._thread.quit()
        self._thread.wait()


# -- thumbnails --------------------------------------------------------------------------------------------
class _ThumbSignals(QObject):
    loaded = Signal(str, QImage)
    failed = Signal(str)


class _ThumbJob(QRunnable):
    def __init__(self, signals: _ThumbSignals, path: str, content_hash: str | None, thumbs_dir: Any, size: int):
        super().__init__()
        self.signals, self.path, self.hash, self.thumbs_dir, self.size = signals, path, content_hash, thumbs_dir, size

    def run(self) -> None:
        try:
            img = load_thumbnail(self.path, self.hash, self.thumbs_dir, self.size)
            data = img.convert("RGB").tobytes()
            qimg = QImage(data, img.width, img.height, img.width * 3, QImage.Format.Format_RGB888).copy()
            self.signals.loaded.emit(self.path, qimg)  # QImage here; QPixmap only on the GUI thread
        except (UnreadableImage, OSError) as e:
            log.info("no thumbnail for %s: %s", self.path, e)
            self.signals.failed.emit(self.path)


class ThumbnailLoader(QObject):
    """Makes thumbnails on a small thread pool; each path is asked for at most once at a time."""

    loaded = Signal(str, QImage)
    failed = Signal(str)

    def __init__(self, threads: int = 2):
        super().__init__()
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(threads)
        self._signals = _ThumbSignals()
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)
        self._pending: set[str] = set()

    def request(self, path: str, content_hash: str | None, thumbs_dir: Any, size: int) -> None:
        if path in self._pending:
            return
        self._pending.add(path)
        self._pool.start(_ThumbJob(self._signals, path, content_hash, thumbs_dir, size))

    def clear_pending(self) -> None:
        """Drop queued jobs that have not started (a new result list replaced the old one)."""
        self._pool.clear()
        self._pending.clear()

    def drain(self, msecs: int = 5000) -> None:
        """Drop queued jobs and wait for running ones (before a library's thumbnail folder goes away)."""
        self.clear_pending()
        self._pool.waitForDone(msecs)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @Slot(str, QImage)
    def _on_loaded(self, path: str, image: QImage) -> None:
        self._pending.discard(path)
        self.loaded.emit(path, image)

    @Slot(str)
    def _on_failed(self, path: str) -> None:
        self._pending.discard(path)
        self.failed.emit(path)

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone()
