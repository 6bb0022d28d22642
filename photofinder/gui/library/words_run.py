"""The words pass (core.wordpass) after each index run, on its own QThread, with its own progress line.

It takes no lock and writes only words and places, so searches, and the next index run, go on beside it; an
index run that starts cancels it (it resumes after that run).
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from photofinder.core.errors import PhotofinderError
from photofinder.core.ingest.indexer import CancelToken, Progress
from photofinder.core.store.library import Library
from photofinder.gui.workers.model_pool import EmbedderPool
from photofinder.gui.workers.threads import new_thread

log = logging.getLogger(__name__)


class WordsWorker(QObject):
    progress = Signal(object)  # core.indexer.Progress
    finished = Signal(object)  # core.wordpass.WordsReport, or None when it could not run

    def __init__(
        self, library: Library, pool: EmbedderPool, model: str | None, mode: str, cancel: CancelToken
    ):
        super().__init__()
        self.library, self.pool, self.model, self.mode, self.cancel = library, pool, model, mode, cancel
        self._last = 0.0

    @Slot()
    def run(self) -> None:
        from photofinder.core.ingest.wordpass import WordsPass

        report = None
        try:
            with self.library.open_catalog() as c:
                model = self.library.model_ref(c) or self.model
            device = self.pool.device
            embedder = self.pool.hold(model) if self.mode == "auto" and model else None
            try:
                if embedder is not None:
                    self.pool.load(embedder)
                report = WordsPass(self.library, embedder, mode=self.mode).run(self._on_progress, self.cancel)
            finally:
                if embedder is not None:
                    self.pool.release(model, device)
        except (
            PhotofinderError
        ) as e:  # the OCR engine missing, the library busy or damaged: said once, in the log
            log.info("words pass of %s not run: %s", self.library.name, e)
        except Exception:
            log.exception("words pass of %s failed", self.library.name)
        self.finished.emit(report)

    def _on_progress(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self._last >= 0.2 or p.done == p.total:
            self._last = now
            self.progress.emit(p)


class WordsController(QObject):
    """One words pass at a time, on its own thread; cancel and shutdown are safe at any moment."""

    started = Signal()
    progress = Signal(object)
    finished = Signal(object)

    def __init__(self, pool: EmbedderPool):
        super().__init__()
        self.pool = pool
        self._thread: QThread | None = None
        self._cancel: CancelToken | None = None
        self._worker: WordsWorker | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, library: Library, model: str | None, mode: str) -> bool:
        if self._thread is not None:
            return False
        self._cancel = CancelToken()
        thread = new_thread("words")
        worker = WordsWorker(library, self.pool, model, mode, self._cancel)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        worker.finished.connect(self._on_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        self.started.emit()
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    @Slot(object)
    def _on_finished(self, report: object) -> None:
        self._stop_thread()
        self.finished.emit(report)

    def _stop_thread(self) -> None:
        thread, self._thread, self._worker = self._thread, None, None
        if thread is not None:
            thread.quit()
            thread.wait()

    def shutdown(self) -> None:
        self.cancel()
        self._stop_thread()


class WordsLine(QWidget):
    """“Reading words in photos 12 of 40 · 3.1 photos/s · Cancel”; afterwards what it found, until closed."""

    cancelRequested = Signal()

    def __init__(self) -> None:
        super().__init__()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 0, 8, 4)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(260)
        self.bar.setTextVisible(False)
        self.label = QLabel()
        self.cancel = QPushButton("Stop reading")
        self.cancel.setToolTip("Stop reading words in photos (it goes on after the next indexing)")
        self.cancel.clicked.connect(self.cancelRequested)
        lay.addWidget(self.bar)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.cancel)
        self.hide()

    def start(self) -> None:
        self.bar.setRange(0, 0)
        self.bar.show()
        self.cancel.show()
        self.label.setText("Reading words in photos…")

    def update_progress(self, p: Progress) -> None:
        if p.phase == "done" or p.total == 0:
            return
        self.show()
        self.bar.setRange(0, max(1, p.total))
        self.bar.setValue(p.done)
        text = f"Reading words in photos {p.done:,} of {p.total:,}"
        if p.rate > 0:
            text += f" · {p.rate:.1f} photos/s"
        self.label.setText(text + " · searching works meanwhile")

    def finish(self, report: object) -> None:
        self.bar.hide()
        self.cancel.hide()
        if report is None or not getattr(report, "looked_at", 0):
            self.hide()
            return
        text = (
            f"Words: {report.with_text:,} photos with words found among {report.read:,} read"  # type: ignore[attr-defined]
            f" ({report.gated_out:,} passed over as holding no text)"  # type: ignore[attr-defined]
        )
        if getattr(report, "placed", 0):
            text += f" · {report.placed:,} photos placed from their GPS"  # type: ignore[attr-defined]
        if getattr(report, "cancelled", False):
            text += " · stopped: it goes on after the next indexing"
        self.label.setText(text)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show()
