"""Watched folders: while the app runs, the library shown follows its folders (new photos appear by themselves).

One core LibraryWatcher at a time, for the selected library. It is paused while the app's own index run or a
move to the trash holds the library (stopped on that job's thread before the job starts, made again after), so
the two never meet at the lock; a run of another process is the watcher's own business (it retries later).
Its batches come back to the GUI thread as a signal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from photofinder.core.encode.torch_encoder import DownloadCancelled
from photofinder.core.errors import ModelUnavailableError
from photofinder.core.ingest.indexer import IndexReport
from photofinder.core.ingest.watcher import LibraryWatcher, WatchBatch
from photofinder.core.store.library import Library
from photofinder.gui.settings import AppSettings
from photofinder.gui.workers.model_pool import EmbedderPool

log = logging.getLogger(__name__)

THREAD_PREFIX = "watch-"  # the core names its thread watch-<library>; tests look for leftovers by this prefix


class PooledEmbedder:
    """The pool's encoder for the watched library's model, asked for at each use.

    Each use counts as activity (the idle unload waits), and an encoder the pool let go of between two batches
    (idle, a settings change) is simply made again. The model is the library's own, read on the watcher's thread.
    """

    def __init__(self, pool: EmbedderPool, library: Library, default_model: str):
        self.pool, self.library, self.default_model = pool, library, default_model
        self._model: str | None = None

    def _emb(self) -> Any:
        if self._model is None:
            with self.library.open_catalog() as c:
                self._model = self.library.model_ref(c) or self.default_model
        emb = self.pool.get(self._model, "index")
        try:
            self.pool.load(emb)
        except DownloadCancelled as e:  # the user cancelled the download: the watcher tries again later
            raise ModelUnavailableError("The model download was cancelled.") from e
        return emb

    model_id = property(lambda self: self._emb().model_id)
    fingerprint = property(lambda self: self._emb().fingerprint)
    dim = property(lambda self: self._emb().dim)
    spec = property(lambda self: self._emb().spec)
    device = property(lambda self: self._emb().device)
    loaded = property(lambda self: self._emb().loaded)

    def load(self) -> None:
        self._emb()

    def unload(self) -> None:
        """The pool frees its models itself."""

    def encode_pixels(self, pixels: Any) -> Any:
        return self._emb().encode_pixels(pixels)

    def encode_text(self, texts: list[str]) -> Any:
        return self._emb().encode_text(texts)


class FolderWatch(QObject):
    """Keeps at most one LibraryWatcher, for the selected library, while the "watch" setting is on."""

    batch = Signal(object)  # WatchBatch, on the GUI thread
    _relay = Signal(object)  # from the watcher's thread

    def __init__(self, pool: EmbedderPool, settings: AppSettings, **watch_args: Any):
        super().__init__()
        self.pool, self.settings = pool, settings
        self.watch_args = watch_args  # debounce, max_delay, rescan_every...: tests make them short
        self.library: Library | None = None
        self.watcher: LibraryWatcher | None = None
        self._starter: threading.Thread | None = None
        self._stopping: threading.Thread | None = None  # the watcher being stopped (see stop)
        self._paused = 0
        self._closed = False
        self._relay.connect(self._on_batch, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        return self.watcher is not None

    @Slot(object)
    def follow(self, library: Library | None) -> None:
        """The library shown changed (None: none, or it is being renamed or removed): stop watching the old one.
        The new one is watched once it could be read (`readable`): a damaged catalog is left alone."""
        if library is self.library:
            return
        self.stop()
        self.library = library

    @Slot(object)
    def readable(self, _summary: object = None) -> None:
        """The library's summary was read: watch it, if not yet (catching up on what changed meanwhile)."""
        self._start(index_on_start=True)

    def setting_changed(self) -> None:
        if self.settings.watch and self.watcher is None:
            self._start(index_on_start=True)
        elif not self.settings.watch:
            self.stop()

    def _start(self, index_on_start: bool) -> None:
        lib = self.library
        if lib is None or self._closed or self._paused or not self.settings.watch or self.watcher is not None:
            return
        embedder = PooledEmbedder(self.pool, lib, self.settings.model)
        w = LibraryWatcher(
            lib, embedder, on_batch=self._relay.emit, index_on_start=index_on_start, **self.watch_args
        )
        previous = self._stopping

        def start() -> None:
            if previous is not None:
                previous.join()  # the watcher before has let go of its library
            w.start()

        # start() walks the folders to watch them (inotify: every subfolder): not on the GUI thread.
        starter = threading.Thread(target=start, name=f"{THREAD_PREFIX}start-{lib.name}", daemon=True)
        self.watcher, self._starter = w, starter
        starter.start()
        log.info("watching the folders of %s", lib.name)

    def _detach(self) -> Callable[[], None]:
        """Forget the watcher; returns what stops it (waits for a batch in progress: committed work is kept)."""
        w, starter, self.watcher, self._starter = self.watcher, self._starter, None, None
        previous = self._stopping

        def stop() -> None:
            if previous is not None:
                previous.join()
            if starter is not None:
                starter.join()
            if w is not None:
                w.stop()

        return stop

    def stop(self) -> None:
        """Stop watching (a switch, the setting turned off), without waiting on the GUI thread: a run in
        progress is cancelled on a thread of its own (up to a second at a million photos, measured), keeping
        what it committed; a watcher started next starts after it."""
        if self.watcher is None and self._starter is None:
            return
        t = threading.Thread(target=self._detach(), name=f"{THREAD_PREFIX}stop", daemon=True)
        self._stopping = t
        t.start()

    def pause(self) -> Callable[[], None]:
        """A job of the app's own is about to hold the library: call what this returns on that job's thread
        before it starts, and `resume` on the GUI thread when it is done."""
        self._paused += 1
        return self._detach()

    def resume(self) -> None:
        self._paused = max(0, self._paused - 1)
        self._start(index_on_start=False)  # the job just brought the library up to date

    def shutdown(self) -> None:
        """The app is closing: stop watching and wait for it (what a run committed is kept)."""
        self._closed = True
        self._detach()()
        self._stopping = None

    @Slot(object)
    def _on_batch(self, batch: WatchBatch) -> None:
        if batch.report is not None and not batch.report.cancelled or batch.error:
            self.batch.emit(batch)


def describe(report: IndexReport) -> str:
    """A one-line summary of what a watcher's run changed ("" when nothing did)."""
    parts = []
    if report.indexed:
        parts.append(f"{report.indexed:,} new photo{'s' if report.indexed != 1 else ''} indexed")
    if report.reused:
        parts.append(f"{report.reused:,} moved or copied")
    if report.removed:
        parts.append(f"{report.removed:,} removed")
    if report.skipped:
        parts.append(f"{len(report.skipped):,} skipped")
    return ", ".join(parts)
