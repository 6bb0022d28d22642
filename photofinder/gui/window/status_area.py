"""The status area at the foot of the window: what is running now, the selected photo, the library's summary.

QStatusBar.showMessage draws over its normal widgets only, and the permanent widgets took the whole width, so
"Searching…" was set but never painted. Here the activity has a place of its own that the other two cannot
squeeze out: they elide their text instead.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QWidget

# The order busy states are told in when several run at once: the one that makes the others wait comes first.
BUSY_ORDER = ("model", "index", "search", "work")


class ElidedLabel(QLabel):
    """A one-line label that gives up width gracefully: its text ends in "…" instead of widening the window."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        r = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, r.width())
        p.drawText(r, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)
        p.end()


class ActivityLine(QWidget):
    """What runs now ("Searching…", "Loading the model… because", "Indexing 120 of 400"), with a busy bar; and
    passing notices ("3 photos moved to the trash") for a few seconds. Never hidden by the rest of the bar."""

    def __init__(self) -> None:
        super().__init__()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy: an animation, not a fraction
        self.bar.setFixedSize(48, 10)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Busy")
        self.bar.hide()
        self.label = ElidedLabel()
        self.label.setAccessibleName("Activity")
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        f = self.label.font()
        f.setBold(True)
        self.label.setFont(f)
        lay.addWidget(self.bar)
        lay.addWidget(self.label, 1)
        self.setMinimumWidth(260)
        self._busy: dict[str, str] = {}
        self._notice = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._notice_over)

    def text(self) -> str:
        return self.label.text()

    def set_busy(self, key: str, text: str) -> None:
        """`key` ("search", "model", "index", "work") is running and says `text`; an empty text: it is over."""
        if text:
            self._busy[key] = text
        else:
            self._busy.pop(key, None)
        self._show()

    def notice(self, text: str, ms: int = 5000) -> None:
        """A passing message (0 ms: until the next one; an empty text clears it)."""
        self._notice = text
        self._timer.stop()
        if text and ms > 0:
            self._timer.start(ms)
        self._show()

    def _notice_over(self) -> None:
        self._notice = ""
        self._show()

    def _show(self) -> None:
        busy = [self._busy[k] for k in BUSY_ORDER if k in self._busy]
        self.bar.setVisible(bool(busy))
        text = self._notice or " · ".join(busy)
        self.label.setText(text)
        self.label.setToolTip(text)
        self.label.update()


class StatusArea(QWidget):
    """Activity (left, first claim on the width), the selected photo's details, the library's summary."""

    def __init__(self, details: QLabel) -> None:
        super().__init__()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 0, 6, 0)
        lay.setSpacing(12)
        self.activity = ActivityLine()
        self.details = details
        self.summary = ElidedLabel()
        self.summary.setAccessibleName("Library summary")
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight)
        lay.addWidget(self.activity, 3)
        lay.addWidget(details, 3)
        lay.addWidget(self.summary, 3)
