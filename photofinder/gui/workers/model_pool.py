"""The models the app has loaded: one per (model, device, runtime), let go of when switched away from or idle."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from photofinder.core.encode.choose import gpu_available, open_embedder
from photofinder.core.encode.torch_encoder import DownloadCancelled

log = logging.getLogger(__name__)

IDLE_UNLOAD_MS = 10 * 60 * 1000  # a CLIP model is ~600 MB: give it back after 10 idle minutes
# factory(model, device, download_progress, runtime=..., purpose=...) -> an embedder
EmbedderFactory = Callable[..., Any]
RUNTIME_NAMES = {"onnx": "ONNX", "onnx-int8": "ONNX int8", "torch": "torch"}


def make_embedder(
    model: str,
    device: str,
    progress: Callable[[int, int], None],
    *,
    runtime: str = "auto",
    purpose: str = "index",
) -> Any:
    """The app's default factory: the core's choice of encoder (ONNX Runtime on a CPU, torch on a GPU)."""
    return open_embedder(model, device=device, runtime=runtime, purpose=purpose, download_progress=progress)


class EmbedderPool(QObject):
    """Lazily made embedders shared by the index and search threads (making and loading are locked).

    Searches ask for purpose "search" and index runs for "index". They share one embedder unless the choice
    depends on it (device and runtime both automatic on a machine with a GPU: torch on the GPU for indexing,
    ONNX Runtime on the CPU for text queries, which then never import torch).

    Only the current (model, device, runtime) is kept, plus any an index run holds; after `idle_ms` with no use the
    pool lets go of them all. Searchers keep a reference too: `unloaded` tells their owner to drop them, and then
    to call `unload_dropped`, which frees the weights (never under a search that is still encoding).
    """

    downloadProgress = Signal(str, int, int)  # model, done bytes, total bytes
    unloaded = Signal()
    _used = Signal()  # emitted from any thread; restarts the idle timer on the GUI thread

    def __init__(
        self,
        device: str = "auto",
        factory: EmbedderFactory = make_embedder,
        idle_ms: int = IDLE_UNLOAD_MS,
        runtime: str = "auto",
    ):
        super().__init__()
        self.device = device
        self.runtime = runtime
        self._factory = factory
        self._gpu: bool | None = None  # asked once, on the indexing path (it imports torch)
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str, str, str], Any] = {}  # (model, device, runtime, role) -> embedder
        self._held: Counter[tuple[str, str, str, str]] = Counter()
        self._dropped: list[Any] = []  # out of the pool, weights not freed yet
        self._cancel = threading.Event()
        self._closed = False
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(idle_ms)
        self._idle.timeout.connect(self.unload_idle)
        self._used.connect(self._idle.start)

    def get(self, model: str, purpose: str = "search") -> Any:
        """The embedder for `model` on the current device and runtime (not loaded yet, perhaps)."""
        return self._get(model, purpose, hold=False)

    def _role(self, purpose: str, device: str, runtime: str) -> str:
        """ "index-gpu" where an index run gets another encoder than a search would, else "" (shared)."""
        if purpose != "index" or device != "auto" or runtime != "auto":
            return ""
        if self._gpu is None:
            self._gpu = gpu_available()
        return "index-gpu" if self._gpu else ""

    def _get(self, model: str, purpose: str, hold: bool) -> Any:
        device, runtime = self.device, self.runtime
        role = self._role(purpose, device, runtime)  # outside the lock: it may import torch
        with self._lock:  # made and held in one step: a switch on another thread can't drop it in between
            key = (model, device, runtime, role)
            # Any other model no index run holds is let go of: after a switch, or after a rebuild that held the new
            # model while searches still used the old one. The other role of the same model stays.
            dropped = self._drop(
                [k for k in self._models if k[:3] != key[:3] and not self._held[k]], "switched away"
            )
            emb = self._models.get(key)
            if emb is None:
                emb = self._models[key] = self._factory(
                    model,
                    device,
                    self._progress_for(model),
                    runtime=runtime,
                    purpose="index" if role else "search",
                )
            if hold:
                self._held[key] += 1
        self._used.emit()
        if dropped:
            self.unloaded.emit()
        return emb

    def _drop(self, keys: list[tuple[str, str]], why: str) -> bool:
        """Take models out of the pool (lock held); their weights are freed by `unload_dropped`."""
        for key in keys:
            log.info("letting go of the model %s (%s, %s): %s", key[0], key[1], key[2], why)
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
        return self._get(model, "index", hold=True)

    def release(self, model: str, device: str) -> None:
        """An index run is done with the model it held (`device`: the pool's device when it started)."""
        with self._lock:
            key = next((k for k in self._held if k[:2] == (model, device)), None)
            if key is not None:
                self._held[key] -= 1
                if self._held[key] <= 0:
                    del self._held[key]
        self._used.emit()

    @property
    def loaded_models(self) -> list[tuple[str, str]]:
        """(model, device) of each model the pool keeps."""
        with self._lock:
            return list(dict.fromkeys(k[:2] for k in self._models))

    def _loaded(self, model: str) -> Any:
        with self._lock:
            mine = [e for k, e in self._models.items() if k[:3] == (model, self.device, self.runtime)]
        return next((e for e in mine if getattr(e, "loaded", False)), None)

    def loaded_device(self, model: str) -> str | None:
        """The device `model` runs on, if it is loaded (asking never loads it)."""
        emb = self._loaded(model)
        return emb.device if emb is not None else None

    def loaded_runtime(self, model: str) -> str | None:
        """ "ONNX", "ONNX int8" or "torch" for `model`, if it is loaded (asking never loads it)."""
        emb = self._loaded(model)
        if emb is None:
            return None
        return RUNTIME_NAMES.get(getattr(emb, "runtime", "torch"), str(getattr(emb, "runtime", "torch")))

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
