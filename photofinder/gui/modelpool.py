"""The models the app has loaded: one per (model, device), let go of when switched away from or idle."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..core.embedder import ClipEmbedder, DownloadCancelled

log = logging.getLogger(__name__)

IDLE_UNLOAD_MS = 10 * 60 * 1000  # a CLIP model is ~600 MB: give it back after 10 idle minutes
EmbedderFactory = Callable[[str, str, Callable[[int, int], None]], Any]


class EmbedderPool(QObject):
    """Lazily made embedders shared by the index and search threads (making and loading are locked).

    Only the current (model, device) is kept, plus any an index run holds; after `idle_ms` with no use the
    pool lets go of them all. Searchers keep a reference too: `unloaded` tells their owner to drop them, and then
    to call `unload_dropped`, which frees the weights (never under a search that is still encoding).
    """

    downloadProgress = Signal(str, int, int)  # model, done bytes, total bytes
    unloaded = Signal()
    _used = Signal()  # emitted from any thread; restarts the idle timer on the GUI thread

    def __init__(self, device: str = "auto", factory: EmbedderFactory = ClipEmbedder,
                 idle_ms: int = IDLE_UNLOAD_MS):
        super().__init__()
        self.device = device
        self._factory = factory
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str], Any] = {}
        self._held: Counter[tuple[str, str]] = Counter()
        self._dropped: list[Any] = []  # out of the pool, weights not freed yet
        self._cancel = threading.Event()
        self._closed = False
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(idle_ms)
        self._idle.timeout.connect(self.unload_idle)
        self._used.connect(self._idle.start)

    def get(self, model: str) -> Any:
        """The embedder for `model` on the current device (not loaded yet, perhaps)."""
        return self._get(model, hold=False)

    def _get(self, model: str, hold: bool) -> Any:
        with self._lock:  # made and held in one step: a switch on another thread can't drop it in between
            key = (model, self.device)
            # Any other model no index run holds is let go of: after a switch, or after a rebuild that held the new
            # model while searches still used the old one.
            dropped = self._drop([k for k in self._models if k != key and not self._held[k]], "switched away")
            emb = self._models.get(key)
            if emb is None:
                emb = self._models[key] = self._factory(model, self.device, self._progress_for(model))
            if hold:
                self._held[key] += 1
        self._used.emit()
        if dropped:
            self.unloaded.emit()
        return emb

    def _drop(self, keys: list[tuple[str, str]], why: str) -> bool:
        """Take models out of the pool (lock held); their weights are freed by `unload_dropped`."""
        for key in keys:
            log.info("letting go of the model %s (%s): %s", *key, why)
            self._dropped.append(self._models.pop(key))
        return bool(keys)

    def unload_dropped(self) -> None:
        """Free the weights of the models let go of. Call it where no search can be using them: on the search
        thread, after its searchers were closed (index runs hold theirs, so those are never dropped)."""
        with self._lock:
            dropped, self._dropped = self._dropped, []
        for emb in dropped:
            unload = getattr(emb, "unload", None)
            if unload is not None:
                unload()

    def load(self, embedder: Any, on_loading: Callable[[str], None] | None = None) -> None:
        """Load `embedder` now. A download cancelled earlier does not cancel this one."""
        if getattr(embedder, "loaded", True):
            self._used.emit()  # a model in use is not idle
            return
        if not self._closed:
            self._cancel.clear()
        if on_loading is not None:
            on_loading(embedder.model_id)
        embedder.load()
        self._used.emit()

    def hold(self, model: str) -> Any:
        """The embedder for an index run; it is not let go of until `release`."""
        return self._get(model, hold=True)

    def release(self, model: str, device: str) -> None:
        with self._lock:
            self._held[(model, device)] -= 1
            if self._held[(model, device)] <= 0:
                del self._held[(model, device)]
        self._used.emit()

    @property
    def loaded_models(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._models)

    def loaded_device(self, model: str) -> str | None:
        """The device `model` runs on, if it is loaded (asking never loads it)."""
        with self._lock:
            emb = self._models.get((model, self.device))
        return emb.device if emb is not None and getattr(emb, "loaded", False) else None

    @Slot()
    def unload_idle(self) -> None:
        """Let go of every model no index run holds (the timer calls this after a quiet spell)."""
        with self._lock:
            gone = self._drop([k for k in self._models if not self._held[k]], "idle")
        if gone:
            self.unloaded.emit()

    def cancel_downloads(self) -> None:
        """Stop the download in progress (the user pressed Cancel). The next load starts afresh."""
        self._cancel.set()

    @property
    def download_cancelled(self) -> bool:
        return self._cancel.is_set()

    def close(self) -> None:
        """Shutting down: stop any download for good."""
        self._closed = True
        self._cancel.set()
        self._idle.stop()

    def _progress_for(self, model: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            if self._cancel.is_set():
                raise DownloadCancelled()
            self.downloadProgress.emit(model, done, total)

        return report
