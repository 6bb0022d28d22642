"""Thumbnails made on a small thread pool, keyed by (path, size, device pixel ratio).

Jobs build QImages; the GUI thread turns them into QPixmaps. A job that fails, for any reason, reports it,
so nothing stays pending forever.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage

from photofinder.core.paths import display_path
from photofinder.core.photos.decode import UnreadableImage
from photofinder.core.photos.thumbnails import load_thumbnail
from photofinder.gui.fileurls import read_image

log = logging.getLogger(__name__)
ALPHA_FORMATS = (".png", ".webp", ".gif", ".tif", ".tiff", ".heic", ".avif")


class ThumbKey(NamedTuple):
    path: str
    size: int  # logical pixels (the tile)
    dpr: float  # device pixel ratio of the screen it is shown on

    @property
    def pixels(self) -> int:
        return max(1, round(self.size * self.dpr))


class _ThumbSignals(QObject):
    loaded = Signal(object, QImage)
    failed = Signal(object)


class _ThumbJob(QRunnable):
    def __init__(
        self, signals: _ThumbSignals, key: ThumbKey, content_hash: str | None, thumbs_dir: Path | None
    ):
        super().__init__()
        self.signals, self.key, self.hash, self.thumbs_dir = signals, key, content_hash, thumbs_dir

    def run(self) -> None:
        try:
            if self.key.path.lower().endswith(ALPHA_FORMATS):
                # the cached thumbnail (and the decode the model sees) is flattened onto white; the tile keeps
                # the transparency, drawn over a checkerboard
                qimg = read_image(self.key.path, self.key.pixels)
                if not qimg.isNull() and qimg.hasAlphaChannel():
                    self.signals.loaded.emit(self.key, qimg)
                    return
            img = load_thumbnail(self.key.path, self.hash, self.thumbs_dir, self.key.pixels)
            data = img.convert("RGB").tobytes()
            qimg = QImage(data, img.width, img.height, img.width * 3, QImage.Format.Format_RGB888).copy()
        except (UnreadableImage, OSError) as e:
            log.info("no thumbnail for %s: %s", display_path(self.key.path), e)
            self.signals.failed.emit(self.key)
        except Exception:
            log.exception("thumbnail for %s failed", display_path(self.key.path))
            self.signals.failed.emit(self.key)
        else:
            self.signals.loaded.emit(self.key, qimg)  # QImage here; QPixmap only on the GUI thread


class ThumbnailLoader(QObject):
    """Makes thumbnails on a small thread pool; each key is asked for at most once at a time."""

    loaded = Signal(object, QImage)  # ThumbKey, image
    failed = Signal(object)  # ThumbKey

    def __init__(self, threads: int = 2):
        super().__init__()
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(threads)
        self._signals = _ThumbSignals()
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)
        self._pending: set[ThumbKey] = set()

    def request(self, key: ThumbKey, content_hash: str | None, thumbs_dir: Path | None) -> None:
        if key in self._pending:
            return
        self._pending.add(key)
        self._pool.start(_ThumbJob(self._signals, key, content_hash, thumbs_dir))

    def is_pending(self, key: ThumbKey) -> bool:
        return key in self._pending

    def clear_pending(self) -> None:
        """Drop queued jobs that have not started (a new result list replaced the old one)."""
        self._pool.clear()
        self._pending.clear()

    def drain(self, msecs: int = 5000) -> None:
        """Drop queued jobs and wait for running ones (before a library's thumbnail folder goes away)."""
        self.clear_pending()
        self._pool.waitForDone(msecs)

    @Slot(object, QImage)
    def _on_loaded(self, key: ThumbKey, image: QImage) -> None:
        self._pending.discard(key)
        self.loaded.emit(key, image)

    @Slot(object)
    def _on_failed(self, key: ThumbKey) -> None:
        self._pending.discard(key)
        self.failed.emit(key)

    def shutdown(self) -> None:
        self._pool.clear()
        self._pool.waitForDone()
