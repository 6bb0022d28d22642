"""A result described in one line: match score, date taken, size (MB and pixels), place, words read, folder.

Used by the grid's tooltip, the details line in the status bar and the preview's caption.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QAbstractItemView

from photofinder.core.find.search import SearchResult
from photofinder.core.paths import display_path
from photofinder.core.photos.places import Place
from photofinder.gui.fileurls import shown_name
from photofinder.gui.window.status_area import ElidedLabel


def describe(r: SearchResult, *, name: bool = True, folder: bool = True) -> str:
    """“sunset.jpg · match 0.31 (good) · 2023-06-01 14:02 · 2.4 MB · 4032×3024 · /home/me/Pictures”."""
    parts = [shown_name(r.path)] if name else []
    if r.score is not None:
        parts.append(f"match {r.score:.3f}" + (" (good)" if r.good else ""))
    if r.taken:
        parts.append(r.taken[:16].replace("T", " "))
    if r.size is not None:
        parts.append(f"{r.size / 1e6:.1f} MB" if r.size >= 100_000 else f"{r.size / 1e3:.0f} KB")
    if r.width and r.height:
        parts.append(f"{r.width}×{r.height}")
    if r.place:
        parts.append(str(Place.from_key(r.place)))
    if r.words:
        words = " / ".join(r.words.splitlines())
        parts.append(f"text “{words[:80]}{'…' if len(words) > 80 else ''}”")
    if folder:
        parts.append(display_path(r.folder))
    return " · ".join(parts)


class DetailsLine(ElidedLabel):
    """The selected result's details, in the status area (elided there; the tooltip has the whole line)."""

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName("Selected photo")

    def show_result(self, r: SearchResult | None) -> None:
        full = "" if r is None else describe(r)
        self.setToolTip(full)
        self.setText(full)

    def follow(self, view: QAbstractItemView) -> None:
        """Describe the view's current result as the user moves through the grid."""

        def changed(index: QModelIndex, _previous: QModelIndex) -> None:
            self.show_result(view.model().result(index.row()) if index.isValid() else None)

        view.selectionModel().currentChanged.connect(changed)
