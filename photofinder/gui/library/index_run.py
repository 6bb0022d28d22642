"""Index runs on their own QThread: one at a time, cancellable, progress as plain signals."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from photofinder.core.encode.torch_encoder import DownloadCancelled
from photofinder.core.errors import (
    CatalogDamagedError,
    LibraryBusyError,
    ModelUnavailableError,
    PhotofinderError,
)
from photofinder.core.ingest.indexer import CancelToken, Indexer, Progress
from photofinder.core.store.library import Library
from photofinder.gui.workers.model_pool import EmbedderPool
from photofinder.gui.workers.threads import new_thread

log = logging.getLogger(__name__)


# What an index run's failure is, for the app to act on: the model can't be had, another process holds the
# library, its catalog is damaged, or anything else (the message says it).
MODEL, BUSY, DAMAGED, OTHER = "model", "busy", "damaged", ""


class IndexWorker(QObject):
    progress = Signal(object)  # core.indexer.Progress
    finished = Signal(object)  # core.indexer.IndexReport
    failed = Signal(str, str)  # message, kind (MODEL, BUSY, DAMAGED or OTHER)
    modelLoading = Signal(str)

    def __init__(
        self,
        library: Library,
        pool: EmbedderPool,
        model: str | None,
        add_folders: list[str],
        cancel: CancelToken,
        rebuild: bool = False,
        before: Callable[[], None] | None = None,
    ):
        super().__init__()
        self.library, self.pool, self.model = library, pool, model
        self.add_folders, self.cancel, self.rebuild = add_folders, cancel, rebuild
        self.before = before  # e.g. stop the folder watcher: it must let go of the library first
        self._last_emit = 0.0

    @Slot()
    def run(self) -> None:
        try:
            if self.before is not None:
                self.before()
            with self.library.open_catalog() as c:
                for f in self.add_folders:
                    c.add_folder(f)
                # A rebuild encodes with the model asked for; a plain run with the library's own.
                model = self.model if self.rebuild else (self.library.model_ref(c) or self.model)
            device = self.pool.device
            embedder = self.pool.hold(model)
            try:
                self.pool.load(embedder, self.modelLoading.emit)
                report = Indexer(self.library, embedder, rebuild=self.rebuild).run(
                    self._on_progress, self.cancel
                )
            finally:
                self.pool.release(model, device)
            self.finished.emit(report)
        except DownloadCancelled:
            self.failed.emit("The model download was cancelled.", MODEL)
        except ModelUnavailableError as e:
            self.failed.emit(str(e), MODEL)
        except LibraryBusyError as e:
            self.failed.emit(str(e), BUSY)
        except CatalogDamagedError as e:
            self.failed.emit(str(e), DAMAGED)
        except PhotofinderError as e:
            self.failed.emit(str(e), OTHER)
        except OSError as e:  # disk full, folder gone: the catalog rolled back its batch
            self.failed.emit(f"Indexing stopped: {e.strerror or e}. What was indexed so far is kept.", OTHER)
        except Exception as e:
            log.exception("indexing failed")
            self.failed.emit(
                f"Indexing stopped because of an unexpected error ({type(e).__name__}: {e}). "
                "What was indexed so far is kept; details are in the log file.",
                OTHER,
            )

    def _on_progress(self, p: Progress) -> None:
        now = time.monotonic()
        if p.phase != "indexing" or now - self._last_emit >= 0.1 or p.done == p.total:
            self._last_emit = now
            self.progress.emit(p)


class IndexController(QObject):
    """Starts one index run at a time on its own QThread; cancel and shutdown are safe at any moment."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str, str)  # message, kind
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

    def start(
        self,
        library: Library,
        model: str,
        add_folders: list[str] | None = None,
        rebuild: bool = False,
        before: Callable[[], None] | None = None,
    ) -> bool:
        """Index `library` (adding `add_folders`), or with `rebuild` re-encode it all with `model`.

        `before` runs first, on the index thread (it may wait).
        """
        if self._thread is not None:
            return False
        self._cancel = CancelToken()
        thread = new_thread("index")
        worker = IndexWorker(library, self.pool, model, add_folders or [], self._cancel, rebuild, before)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        worker.modelLoading.connect(self.modelLoading)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._thread, self._worker = thread, worker
        thread.start()
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

    @Slot(str, str)
    def _on_failed(self, message: str, kind: str) -> None:
        self._stop_thread()
        self.failed.emit(message, kind)

    def shutdown(self) -> None:
        """Cancel and wait: what was indexed is already committed, batch by batch."""
        self.cancel()
        self.pool.close()
        self._stop_thread()
