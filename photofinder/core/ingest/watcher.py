"""Watched folders: a library that follows its folders by itself.

File-system events (watchdog: inotify, FSEvents, ReadDirectoryChangesW) that can change a photo (created,
written and closed, modified, moved, deleted; never opened, read or closed without a write: an image viewer,
a backup or the app's own thumbnails read photos all day) collect the paths they name; once the folders have
been quiet for `debounce` seconds (or at the latest `max_delay` after the first event, so a 2,000-photo card
import becomes a few batches, not 2,000 runs), an index run over those paths alone (a file, or a folder that was
added, moved or deleted: Indexer.run(paths=...)) brings the library up to date: new and edited photos are
encoded, moved and renamed ones reuse their vectors (hashing, no model), deleted ones leave. A periodic full
rescan is the safety net for network drives and missed events. Folders that are unplugged are watched again
when they come back (a full scan of that folder). One run at a time holds the library's lock; when another
process holds it, the watcher tries again later.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from photofinder.core.errors import LibraryBusyError, PhotofinderError, first_line
from photofinder.core.ingest.indexer import CancelToken, Indexer, IndexReport
from photofinder.core.photos.decode import is_photo_name
from photofinder.core.store.library import Library

log = logging.getLogger(__name__)

# What can change a photo. "modified" is a write in progress (and the only sign of one where the platform has
# no close event); "opened", "closed_no_write" and reads are not changes.
CHANGE_EVENTS = frozenset({"created", "deleted", "moved", "modified", "closed"})
MAX_PATHS = 20_000  # more changed paths than this in one batch: one full scan is cheaper than following each


@dataclass
class WatchBatch:
    """What one catch-up run did, and why it ran."""

    report: IndexReport | None
    reason: str  # "changes", "rescan" or "start"
    events: int
    error: str | None = None


class LibraryWatcher:
    """Keeps one library current while it runs. `start()`, then `stop()` (from any thread)."""

    def __init__(
        self,
        library: Library,
        embedder: Any,
        *,
        on_batch: Callable[[WatchBatch], None] | None = None,
        debounce: float = 2.0,
        max_delay: float = 15.0,
        rescan_every: float = 600.0,
        recheck_folders: float = 10.0,
        index_on_start: bool = True,
    ):
        self.library = library
        self.embedder = embedder
        self.on_batch = on_batch or (lambda b: None)
        self.debounce = debounce
        self.max_delay = max_delay
        self.rescan_every = rescan_every
        self.recheck_folders = recheck_folders
        self.index_on_start = index_on_start
        self._wake = threading.Condition()
        self._events = 0
        self._paths: set[str] | None = set()  # what the pending events named (None: scan every folder)
        self._first_event: float | None = None
        self._last_event = 0.0
        self._stopping = False
        self._cancel = CancelToken()
        self._observer: Any = None
        self._watched: dict[str, Any] = {}  # folder -> watchdog watch
        self._thread: threading.Thread | None = None
        self.fatal: str | None = None  # why the watcher stopped by itself (an error it can't go on after)

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        from watchdog.observers import Observer

        self._observer = Observer()
        self._observer.daemon = True
        self._sync_watches()
        self._observer.start()
        self._thread = threading.Thread(target=self._loop, name=f"watch-{self.library.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching; a run in progress is cancelled (what it committed is kept)."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        self._cancel.cancel()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- events --------------------------------------------------------------------------------------------
    def _on_event(self, event: Any) -> None:
        kind = getattr(event, "event_type", "")
        if kind not in CHANGE_EVENTS or (event.is_directory and kind in ("modified", "closed")):
            return  # a read, or a folder's own time changing: its entries' events say what changed
        paths = [getattr(event, "src_path", ""), getattr(event, "dest_path", "")]
        paths = [os.fsdecode(p) for p in paths if p]
        # each side of a move on its own: a download's hidden temporary renamed to its photo's name counts
        paths = [
            p
            for p in paths
            if not os.path.basename(p).startswith(".")
            and (event.is_directory or is_photo_name(os.path.basename(p)))
        ]
        if not paths:
            return  # a text file, a sidecar, a hidden file: not a photo
        with self._wake:
            now = time.monotonic()
            self._events += 1
            if self._paths is not None:
                self._paths.update(paths)
                if len(self._paths) > MAX_PATHS:
                    self._paths = None
            self._last_event = now
            if self._first_event is None:
                self._first_event = now
            self._wake.notify_all()

    def _sync_watches(self) -> None:
        """Watch every library folder that exists; forget watches of folders that went away (unplugged)."""
        from watchdog import events as ev

        handler = ev.FileSystemEventHandler()
        handler.on_any_event = self._on_event  # type: ignore[method-assign]
        # asked of the system itself (inotify): reads, opens and closes without a write are never even reported
        changes = [
            ev.FileCreatedEvent,
            ev.DirCreatedEvent,
            ev.FileDeletedEvent,
            ev.DirDeletedEvent,
            ev.FileMovedEvent,
            ev.DirMovedEvent,
            ev.FileModifiedEvent,
            ev.FileClosedEvent,
        ]
        try:
            with self.library.open_catalog() as c:
                folders = c.folders()
        except PhotofinderError as e:
            log.warning("watch %s: %s", self.library.name, e)
            return
        for folder in list(self._watched):
            if folder not in folders or not os.path.isdir(folder):
                try:
                    self._observer.unschedule(self._watched.pop(folder))
                except (KeyError, ValueError, OSError):
                    pass
                log.info("watch %s: %s is gone; watching again when it is back", self.library.name, folder)
        for folder in folders:
            if folder not in self._watched and os.path.isdir(folder):
                try:
                    self._watched[folder] = self._observer.schedule(
                        handler, folder, recursive=True, event_filter=changes
                    )
                    if self._observer.is_alive():  # a folder that came back: what changed meanwhile
                        self._on_event(_Marker(folder))
                except OSError as e:  # out of inotify watches, or it vanished again: the rescan covers it
                    log.warning(
                        "watch %s: can't watch %s (%s); a rescan every %.0f s covers it",
                        self.library.name,
                        folder,
                        e,
                        self.rescan_every,
                    )

    # -- the catch-up loop ---------------------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            self._catch_up()
        except Exception as e:  # noqa: BLE001 - a bug or an error it can't go on after: stop, and say why
            first = first_line(e)
            self.fatal = f"{type(e).__name__}: {first}"[:300]
            log.error("watch %s stopped: %s", self.library.name, self.fatal)
            log.debug("watch %s: the error's traceback", self.library.name, exc_info=True)

    def _catch_up(self) -> None:
        last_rescan = time.monotonic()
        last_check = last_rescan
        if self.index_on_start:
            self._run("start", 0)
        while True:
            with self._wake:
                if self._stopping:
                    return
                now = time.monotonic()
                due = self._due(now)
                if due is None:
                    wait = min(self.recheck_folders, max(0.0, last_rescan + self.rescan_every - now))
                    self._wake.wait(timeout=max(wait, 0.05))
                    now = time.monotonic()
                    due = self._due(now)
                if due is not None and due > now:
                    self._wake.wait(timeout=due - now)
                    continue
                if self._stopping:
                    return
                events = self._events if due is not None else 0
                paths = self._paths
                if due is not None:
                    self._events, self._first_event, self._paths = 0, None, set()
            if now - last_check >= self.recheck_folders:
                self._sync_watches()
                last_check = now
            if due is not None:
                self._run("changes", events, paths)
            elif now - last_rescan >= self.rescan_every:
                self._run("rescan", 0)
                last_rescan = time.monotonic()

    def _due(self, now: float) -> float | None:
        """When the pending changes should be indexed: after `debounce` quiet seconds, at most `max_delay`."""
        if self._first_event is None:
            return None
        return min(self._last_event + self.debounce, self._first_event + self.max_delay)

    def _run(self, reason: str, events: int, paths: set[str] | None = None) -> None:
        """An index run: over `paths` for changes (None: every folder), every folder for a start or rescan."""
        try:
            report = Indexer(self.library, self.embedder).run(
                cancel=self._cancel, paths=paths if reason == "changes" else None
            )
            self.on_batch(WatchBatch(report, reason, events))
        except (
            LibraryBusyError
        ) as e:  # someone else is indexing it: their run sees the same changes; look again
            log.info("watch %s: %s", self.library.name, e)
            with self._wake:
                self._events += events
                if reason != "changes" or paths is None or self._paths is None:
                    self._paths = None  # a start or rescan that could not run: the next run scans it all
                else:
                    self._paths |= paths
                now = time.monotonic()
                self._first_event = self._first_event or now
                self._last_event = now + 5.0
            self.on_batch(WatchBatch(None, reason, events, str(e)))
        except PhotofinderError as e:
            log.warning("watch %s: %s", self.library.name, e)
            self.on_batch(WatchBatch(None, reason, events, str(e)))


class _Marker:
    """A synthetic event: "look at this folder again"."""

    is_directory = True
    event_type = "created"

    def __init__(self, path: str):
        self.src_path = path
