"""Small widgets the main window is built from."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.ingest.indexer import IndexReport, Progress
from photofinder.core.paths import display_path
from photofinder.gui.controllers.pages import format_duration
from photofinder.gui.window.theme import muted


class ProgressPanel(QWidget):
    """Indexing progress (count, photos/s, time left, Cancel), afterwards the summary; and notices that need no
    dialog (a library busy elsewhere, a damaged one), with the one action that helps."""

    cancelRequested = Signal()
    showSkipped = Signal()
    actionRequested = Signal()

    def __init__(self) -> None:
        super().__init__()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(260)
        self.bar.setTextVisible(False)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)  # a long notice wraps; it never widens the window
        self.label.linkActivated.connect(lambda _: self.showSkipped.emit())
        self.action = QPushButton()
        self.action.clicked.connect(self._on_action)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancelRequested)
        self.rebuilding = False
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        lay.addWidget(self.bar)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.action)
        lay.addWidget(self.cancel)
        lay.addWidget(self.close_button)
        self.hide()

    def start(self, rebuild: bool = False) -> None:
        self.rebuilding = rebuild
        self.bar.setRange(0, 0)
        self.bar.show()
        self.action.hide()
        self.cancel.show()
        self.cancel.setEnabled(True)
        self.close_button.hide()
        self.label.setText(
            "Re-indexing with the new model… searches use the old one until it is done."
            if rebuild
            else "Looking for photos…"
        )
        self.show()

    def update_progress(self, p: Progress) -> None:
        if p.phase == "scanning":
            self.bar.setRange(0, 0)
            self.label.setText(f"Looking for photos… {p.done:,} found")
            return
        if p.phase != "indexing":
            return
        self.bar.setRange(0, max(1, p.total))
        self.bar.setValue(p.done)
        parts = [
            f"{'Re-indexing with the new model' if self.rebuilding else 'Indexing'} {p.done:,} of {p.total:,}"
        ]
        if p.rate > 0:
            parts.append(f"{p.rate:.1f} photos/s")
        if p.eta is not None and p.done < p.total:
            parts.append(f"about {format_duration(p.eta)} left")
        name = display_path(os.path.basename(p.current))
        self.label.setText(
            " · ".join(parts)
            + (f" · <span style='color:{muted(self.palette())}'>{_esc(name)}</span>" if name else "")
        )

    def stopping(self) -> None:
        self.cancel.setEnabled(False)
        self.label.setText("Stopping… (what is indexed so far is kept)")

    def finish(self, report: IndexReport) -> None:
        self.bar.hide()
        self.action.hide()
        self.cancel.hide()
        self.close_button.show()
        new = report.indexed + report.reused
        head = "Indexing cancelled" if report.cancelled else "Indexing done"
        text = f"{head}: {new:,} new, {report.unchanged:,} unchanged"
        if report.rebuilt:
            text = f"Re-indexed with the new model: {new:,} photos"
        if report.removed:
            text += f", {report.removed:,} removed"
        text += f" in {format_duration(report.seconds)}."
        if report.skipped:
            text += f" <a href='skipped'>{len(report.skipped):,} skipped</a>"
        for m in report.missing_folders:
            text += f" · Folder {_esc(display_path(m.path))}: {m.reason}, its photos are kept."
        self.label.setText(text)
        self.show()

    def error(self, message: str) -> None:
        self.show_notice(message, error=True)

    def show_notice(self, text: str, action: str = "", error: bool = False) -> None:
        """A message in place of the progress, with a button for `action` ("" for none)."""
        self.bar.hide()
        self.cancel.hide()
        self.close_button.show()
        self.action.setText(action)
        self.action.setVisible(bool(action))
        self.label.setText(f"<span style='color:#b00020'>{_esc(text)}</span>" if error else _esc(text))
        self.show()

    def _on_action(self) -> None:
        self.action.hide()
        self.actionRequested.emit()


class EmptyPage(QWidget):
    """What a new user sees: one clear thing to do."""

    addFolder = Signal()

    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        title = QLabel("Add a folder of photos")
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 1.8)
        f.setBold(True)
        title.setFont(f)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint = QLabel(
            "photofinder looks at every photo once, on this computer, so you can find them by what is "
            "in them:<br>type <i>dog on a beach at sunset</i>, drop a photo, or right-click one → "
            "<i>Find similar</i>.<br>Your photos are never changed or uploaded."
        )
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        self.button = QPushButton("Add folder…")
        self.button.setDefault(True)
        self.button.setMinimumWidth(180)
        self.button.clicked.connect(self.addFolder)
        drop = QLabel("or drop a folder onto this window (Ctrl+O)")
        drop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        drop.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # muted, ≥ 4.5:1 (gray was 3.4:1)
        lay.addWidget(title)
        lay.addSpacing(8)
        lay.addWidget(hint)
        lay.addSpacing(16)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.button)
        row.addStretch()
        lay.addLayout(row)
        lay.addWidget(drop)
        lay.addStretch(3)


class MessagePage(QLabel):
    """A centred line of text in place of the grid ("No matches", "Indexing… search will work as it goes")."""

    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet("font-size: 14pt")
        self.setForegroundRole(QPalette.ColorRole.PlaceholderText)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
