"""IndexingFlow: index runs as the user asks for them, one at a time, later ones queued."""

from __future__ import annotations

import os

from PySide6.QtCore import QObject, Signal, Slot

from photofinder.core.errors import PhotofinderError
from photofinder.core.ingest.indexer import IndexReport
from photofinder.core.ingest.planner import nested_folders
from photofinder.core.paths import display_path
from photofinder.core.photos.scanner import normalise_folder
from photofinder.core.store.library import DEFAULT_LIBRARY
from photofinder.gui.controllers.library import LibraryController
from photofinder.gui.library.index_run import IndexController
from photofinder.gui.library.words_run import WordsController
from photofinder.gui.settings import AppSettings


class IndexingFlow(QObject):
    """Index runs as the user asks for them: one at a time, later folders queued behind the running one."""

    started = Signal(bool)  # whether it is a rebuild with a new model
    progress = Signal(object)
    finished = Signal(object)  # IndexReport
    failed = Signal(str, str)  # message, kind (index_run.MODEL, BUSY, DAMAGED or OTHER)
    modelLoading = Signal(str)
    queued = Signal(str)  # a passing message
    informed = Signal(str)  # why nothing was done, told without a dialog
    problem = Signal(str)  # something the user must be told

    def __init__(
        self,
        runner: IndexController,
        libraries: LibraryController,
        settings: AppSettings,
        words: WordsController | None = None,
    ):
        super().__init__()
        self.runner, self.libraries, self.settings = runner, libraries, settings
        self.words = words  # the words pass that follows each completed run
        self._words_again = False
        if words is not None:
            words.finished.connect(self._on_words_finished)
        self.closing = False
        self.rebuilding = False  # the run in progress re-encodes the library with a new model
        self._pending: list[str] = []
        self._pending_rebuild = False
        runner.progress.connect(self.progress)
        runner.modelLoading.connect(self.modelLoading)
        runner.finished.connect(self._on_finished)
        runner.failed.connect(self._on_failed)

    @property
    def running(self) -> bool:
        return self.runner.running

    def add_folder(self, folder: str) -> None:
        path = normalise_folder(folder)
        if not os.path.isdir(path):
            self.problem.emit(f"{display_path(folder)} is not a folder.")
            return
        if not os.access(path, os.R_OK | os.X_OK):
            self.problem.emit(f"photofinder is not allowed to read {display_path(folder)}.")
            return
        inside = self._already_in_library(path)
        if inside is not None:
            self.informed.emit(f"{display_path(folder)} is already part of the library{inside}.")
            return
        if self.libraries.library is None:
            try:
                self.libraries.store.get_or_create(DEFAULT_LIBRARY)
            except PhotofinderError as e:
                self.problem.emit(str(e))
                return
            self.libraries.reload(DEFAULT_LIBRARY)
        self.start([path])

    def _already_in_library(self, path: str) -> str | None:
        """ "" for a folder of the library, " (inside X)" for one inside a folder X of it, else None.

        A parent of the library's folders is welcome: the core merges them into it.
        """
        s = self.libraries.summary
        folders = s.folders if s is not None else []
        if path in folders:
            return ""
        parent = nested_folders([*folders, path]).get(path)
        return f" (inside {display_path(parent)})" if parent else None

    def start(self, add_folders: list[str]) -> None:
        lib = self.libraries.library
        if lib is None:
            return
        if self.runner.running:
            self._pending += add_folders
            self.queued.emit("Indexing is running: the new folder will be indexed next.")
            return
        self.rebuilding = False
        self.started.emit(False)
        if self.words is not None:
            self.words.cancel()  # it goes on after this run, from where it stopped
        self.runner.start(lib, self.settings.model, add_folders, before=self.libraries.pause_watch())

    def rebuild(self) -> None:
        """Re-encode the whole library with the model in the settings; it switches only when complete."""
        lib = self.libraries.library
        if lib is None:
            return
        if self.runner.running:
            self._pending_rebuild = True
            self.queued.emit("Indexing is running: re-indexing with the new model starts when it is done.")
            return
        self.rebuilding = True
        self.started.emit(True)
        if self.words is not None:
            self.words.cancel()
        self.runner.start(lib, self.settings.model, [], rebuild=True, before=self.libraries.pause_watch())

    def cancel(self) -> None:
        self.runner.cancel()

    @Slot(object)
    def _on_finished(self, report: IndexReport) -> None:
        self.libraries.resume_watch()  # before the next queued run, which pauses it again
        self.finished.emit(report)
        if self.closing:
            return
        if not report.cancelled and not self._pending and not self._pending_rebuild:
            self.read_words()
        if self._pending:
            pending, self._pending = self._pending, []
            self.start(pending)
        elif self._pending_rebuild:
            self._pending_rebuild = False
            self.rebuild()

    @Slot(str, str)
    def _on_failed(self, message: str, kind: str) -> None:
        self.libraries.resume_watch()
        self.failed.emit(message, kind)

    def read_words(self) -> None:
        """Start the words pass (words and places) on the shown library, after the one running, if any."""
        lib = self.libraries.library
        if self.words is None or lib is None or self.closing:
            return
        if self.words.running:
            self._words_again = True
            self.words.cancel()
            return
        self.words.start(lib, self.settings.model, self.settings.ocr)

    @Slot(object)
    def _on_words_finished(self, _report: object) -> None:
        if self._words_again and not self.runner.running:
            self._words_again = False
            self.read_words()

    def shutdown(self) -> None:
        self.closing = True
        if self.words is not None:
            self.words.shutdown()
        self.runner.shutdown()
