"""When a library needs more than a search: held by another process, damaged, or indexed with another model.

Each case is told in the panel under the grid, never in a dialog that stops the user, and comes with the one
action that helps (Repair, Re-index) where there is one. The action runs off the GUI thread like everything else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from photofinder.core.encode.models import model_identity
from photofinder.core.ingest.indexer import IndexReport
from photofinder.core.paths import display_path
from photofinder.core.store.library import Library
from photofinder.gui.library.index_run import DAMAGED
from photofinder.gui.settings import AppSettings
from photofinder.gui.window.first_run import window_line

REPAIR, REINDEX, REBUILD = "Repair", "Re-index now", "Re-index with the new model"


@dataclass(frozen=True)
class Notice:
    """A message for the panel under the grid, and the label of the action it offers ("" for none)."""

    text: str
    action: str = ""
    error: bool = False


class LibraryCare(QObject):
    """Turns faults and a model change into notices with an action; `act` runs the action last offered."""

    notice = Signal(object)  # Notice

    def __init__(self, libraries, indexing, settings: AppSettings):  # untyped: controllers import this module
        super().__init__()
        self.libraries, self.indexing, self.settings = libraries, indexing, settings
        self._action: Callable[[], None] | None = None
        libraries.busy.connect(self._on_busy)
        libraries.damaged.connect(self._on_damaged)
        libraries.repaired.connect(self._on_repaired)
        libraries.libraryChanged.connect(self._on_library_changed)
        indexing.failed.connect(self._on_index_failed)
        indexing.finished.connect(self._on_index_finished)
        indexing.informed.connect(self._on_informed)

    def act(self) -> None:
        """The user pressed the notice's button."""
        action, self._action = self._action, None
        if action is not None:
            action()

    def _tell(
        self, text: str, action: str = "", run: Callable[[], None] | None = None, error: bool = False
    ) -> None:
        self._action = run
        self.notice.emit(Notice(text, action if run else "", error))

    # Slots are methods: see AppController on lambdas as slots.
    @Slot(str)
    def _on_busy(self, message: str) -> None:
        self._tell(message, error=True)

    @Slot(str)
    def _on_informed(self, message: str) -> None:
        self._tell(message)

    @Slot(object)
    def _on_library_changed(self, _library: object) -> None:
        self._action = None  # an offer was for the library shown before

    @Slot(object)
    def _on_damaged(self, library: Library) -> None:
        self._tell(
            f"The catalog of the library “{library.name}” is damaged, so it can't be searched. Repair "
            "sets the damaged file aside (it is kept) and starts the library again from its folders.",
            REPAIR,
            self.libraries.repair,
            error=True,
        )

    @Slot(object)
    def _on_repaired(self, aside: Path | None) -> None:
        kept = f" The damaged catalog was kept as {display_path(aside.name)}." if aside else ""
        self._tell(
            f"The library was repaired.{kept} Re-index it to search its photos again.", REINDEX, self._reindex
        )

    def _reindex(self) -> None:
        self.indexing.start([])

    @Slot(str, str)
    def _on_index_failed(self, message: str, kind: str) -> None:
        if kind == DAMAGED and self.libraries.library is not None:
            self._on_damaged(self.libraries.library)
        else:  # another process holding the library is told the same way: it passes
            self._tell(window_line(message), error=True)  # one line: no CLI flag, no hub error text

    @Slot(object)
    def _on_index_finished(self, report: IndexReport) -> None:
        if self.indexing.rebuilding and report.cancelled:
            self._tell(
                "Re-indexing with the new model was cancelled: the library still uses its old model, "
                "and nothing was lost.",
                REBUILD,
                self.indexing.rebuild,
            )

    def model_changed(self) -> None:
        """The model in the settings changed: offer to re-index the library shown, if it was indexed with another."""
        s = self.libraries.summary
        if s is None or not s.model_id or s.model_id == model_identity(self.settings.model):
            return
        self._tell(
            f"The library “{s.name}” was indexed with {_short(s.model_id)}. Re-index it with "
            f"{_short(self.settings.model)} to search with the new model; until that is complete, searches "
            "keep using the old one.",
            REBUILD,
            self.indexing.rebuild,
        )


def _short(model: str) -> str:
    model = display_path(model.rstrip("/"))
    return model if len(model) < 48 else "…" + model[-46:]
