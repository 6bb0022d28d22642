"""LibraryController: which library is shown, its summary, and library and folder upkeep."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from photofinder.core.errors import CatalogDamagedError, LibraryBusyError, PhotofinderError
from photofinder.core.store.library import Library, LibraryStore, LibrarySummary
from photofinder.gui.results.thumbnail_loader import ThumbnailLoader
from photofinder.gui.settings import AppSettings
from photofinder.gui.workers.search_thread import SearchController


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
