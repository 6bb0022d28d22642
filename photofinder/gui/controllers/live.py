"""LiveUpdates: the grid and the status line kept up to date as the library changes under the user.

Photos land while indexing runs, the folder watcher catches up, the words pass reads new words, photos go to the
trash or a folder is forgotten: each is said in passing (a notice) and the query shown is run again, except a
browse the user has scrolled down (shown when they are back at the top: the grid would jump to page one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from photofinder.core.find.query import WORDS
from photofinder.core.ingest.watcher import WatchBatch
from photofinder.gui.library.folder_watch import describe


class LiveUpdates(QObject):
    """Shows what changed in the library while the user looks at it; AppController wires it in."""

    LANDED_MS = 1500

    notice = Signal(str, int)  # a passing status-bar message and for how long (ms)

    def __init__(self, libraries, query, indexing, parent: QObject | None = None):  # the controllers
        super().__init__(parent)
        self.libraries, self.query, self.indexing = libraries, query, indexing
        self.quiet_browse = False  # a browse run by _show_landed: no busy line each time
        # The window says whether its grid shows its top rows: a watcher's new photos are not pushed into a
        # browse the user is scrolling through further down (the grid would jump back to page one).
        self.grid_at_top: Callable[[], bool] = lambda: True
        self._browse_behind = False  # new photos arrived while the user looked further down
        # While indexing, what the batches committed is shown every so often: the status count, the filters'
        # counts and (browsing, at the top of the grid) the photos themselves.
        self._landed = QTimer(self)
        self._landed.setSingleShot(True)
        self._landed.setInterval(self.LANDED_MS)
        self._landed.timeout.connect(self._show_landed)

    def index_progress(self, p: Any) -> None:
        if p.phase == "indexing" and not self._landed.isActive():
            self._landed.start()

    def _show_landed(self) -> None:
        if not self.indexing.running or self.indexing.rebuilding:  # a rebuild changes nothing until it ends
            return
        self.libraries.refresh_summary()  # the status line and the filters follow
        r = self.query.last_request
        if (r is None or r.kind == "browse") and self.grid_at_top():
            self.quiet_browse = True
            try:
                self.query.browse()
            finally:
                self.quiet_browse = False

    @Slot(object)
    def words_read(self, report: object) -> None:
        """New words and places: the Places counts and a query that asks for words are brought up to date."""
        if report is None or not getattr(report, "looked_at", 0) or self.indexing.closing:
            return
        self.libraries.refresh_summary()
        r = self.query.last_request
        if (
            r is not None
            and r.kind == "query"
            and (r.query.filters.text or r.query.filters.place or any(t.kind == WORDS for t in r.query.terms))
        ):
            self.query.rerun()

    @Slot(object)
    def watch_batch(self, batch: WatchBatch) -> None:
        """The folder watcher caught the library up: say so in passing, and show new photos in a browse."""
        if batch.report is None:
            if not self.indexing.running and "being indexed" not in (batch.error or ""):  # busy: it retries
                self.notice.emit(f"Watching the folders: {batch.error}", 8000)
            return
        text = describe(batch.report)
        if not text:
            return
        self.notice.emit(text[0].upper() + text[1:] + ".", 6000)
        self.libraries.refresh_summary()  # the fresh summary browses again when nothing else is shown
        r = self.query.last_request
        if r is not None and r.kind == "browse":
            if self.grid_at_top():
                self.query.rerun()
            else:  # shown when they scroll back to the top (back_at_top)
                self._browse_behind = True

    def back_at_top(self) -> None:
        """The grid was scrolled back to its top: show what the folder watcher added meanwhile."""
        if not self._browse_behind:
            return
        self._browse_behind = False
        r = self.query.last_request
        if r is not None and r.kind == "browse":
            self.query.rerun()

    def photos_trashed(self, n: int) -> None:
        """Photos were moved to the trash (the duplicates window): the status line and the grid follow."""
        self.notice.emit(f"{n:,} photo{'s' if n != 1 else ''} moved to the trash.", 5000)
        self.libraries.refresh_summary()
        self.query.rerun()

    def folder_removed(self, n: int) -> None:
        self.notice.emit(f"Folder removed: {n:,} photos forgotten.", 5000)
        r = self.query.last_request
        if r is not None and r.kind == "browse":
            self.query.last_request = None  # the fresh summary browses again, or shows the empty page
        else:
            self.query.rerun()
        self.libraries.refresh_summary()

    def shutdown(self) -> None:
        # No timer may outlive the controller's use: Python may free this QObject later from any thread (a
        # collection a worker thread happens to run), and a timer still registered then crashes the event loop.
        self._landed.stop()
