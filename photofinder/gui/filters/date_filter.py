"""The "Date taken" filter: a bar per year (or per month of one year), chosen by mouse or keyboard."""

from __future__ import annotations

import calendar
from datetime import date

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget


class YearHistogram(QWidget):
    """A bar per year, as tall as its photo count; click a year to keep it, drag across bars for a range,
    click the chosen year again to let all years through. Double-click a year (or its "Months" button) to see
    that year's twelve months as bars, chosen the same way; "All years" goes back."""

    rangeChanged = Signal(object)  # (first day, last day) of what is chosen, or None
    viewChanged = Signal()  # the year shown by month, or the years again, or what is chosen changed

    def __init__(self) -> None:
        super().__init__()
        self.years: dict[int, int] = {}
        self.months: dict[str, int] = {}  # 'YYYY-MM': photos
        self.selected: tuple[int, int] | None = None  # years
        self.year: int | None = None  # the year shown by month; None: the years
        self.selected_months: tuple[str, str] | None = None  # 'YYYY-MM' keys, within `year`
        self._press: int | str | None = None
        self._after_double_click = False
        self.setMinimumHeight(84)
        self.setMouseTracking(True)
        # Reachable by Tab: Left/Right choose a bar, Shift widens the range, Enter opens a year's months,
        # Esc (or Backspace) goes back to the years, Delete lets every date through.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Date taken")
        self.setAccessibleDescription("Left and Right choose a year or month, Enter shows a year's months")

    # -- data ----------------------------------------------------------------------------------------------
    def set_years(self, years: dict[int, int]) -> None:
        self.years = dict(sorted(years.items()))
        if self.selected and not any(self.selected[0] <= y <= self.selected[1] for y in self.years):
            self.selected = None
        if self.year is not None and self.year not in self.years:
            self.year, self.selected_months = None, None
        self._changed()

    def set_months(self, months: dict[str, int]) -> None:
        self.months = dict(sorted(months.items()))
        self._changed()

    def keys(self) -> list:
        """The bars shown: years, or the twelve 'YYYY-MM' of the year shown by month."""
        if self.year is None:
            return list(self.years)
        return [f"{self.year:04d}-{m:02d}" for m in range(1, 13)]

    def count(self, key: int | str) -> int:
        return self.years.get(key, 0) if isinstance(key, int) else self.months.get(key, 0)

    def date_range(self) -> tuple[date, date] | None:
        """The first and last day let through: the months chosen, else the year shown, else the years chosen."""
        if self.year is not None and self.selected_months:
            (y1, m1), (y2, m2) = (map(int, k.split("-")) for k in self.selected_months)
            return date(y1, m1, 1), date(y2, m2, calendar.monthrange(y2, m2)[1])
        if self.year is not None:
            return date(self.year, 1, 1), date(self.year, 12, 31)
        if self.selected:
            return date(self.selected[0], 1, 1), date(self.selected[1], 12, 31)
        return None

    # -- by month --------------------------------------------------------------------------------------------
    def show_months(self, year: int) -> None:
        """Show `year` by month (and let that year through)."""
        self.year, self.selected, self.selected_months = year, (year, year), None
        self._changed()
        self.rangeChanged.emit(self.date_range())

    def show_years(self) -> None:
        """Back to every year, none chosen: "‹ All years" says all years (it kept the year shown, chosen)."""
        if self.year is None:
            return
        self.year, self.selected, self.selected_months = None, None, None
        self._changed()
        self.rangeChanged.emit(self.date_range())

    def clear_choice(self) -> None:
        """Nothing chosen, the years shown (no signal: the caller says what changed)."""
        self.selected, self.year, self.selected_months = None, None, None
        self._changed()

    def _changed(self) -> None:
        name = (lambda k: k) if self.year is None else (lambda k: calendar.month_name[int(k[5:])])
        self.setToolTip("\n".join(f"{name(k)}: {self.count(k):,} photos" for k in self.keys()))
        self.update()
        self.viewChanged.emit()

    # -- geometry and the mouse ----------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(220, 84)

    def bar_rect(self, key: int | str) -> QRect:
        """Where a bar's column is (bar, count and label): what a click on it hits. `key`: a year, or 'YYYY-MM'."""
        keys = self.keys()
        w = self.width() / max(1, len(keys))
        i = keys.index(key)
        return QRect(round(i * w), 0, max(1, round(w)), self.height())

    def key_at(self, x: float) -> int | str | None:
        keys = self.keys()
        if not keys:
            return None
        i = int(x / (self.width() / len(keys)))
        return keys[max(0, min(len(keys) - 1, i))]

    year_at = key_at

    def _chosen(self) -> tuple | None:
        return self.selected if self.year is None else self.selected_months

    def _choose(self, chosen: tuple | None) -> None:
        if self.year is None:
            self.selected = chosen
        else:
            self.selected_months = chosen

    def mousePressEvent(self, e: QMouseEvent) -> None:
        self._press = self.key_at(e.position().x())

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        k = self.key_at(e.position().x())
        if self._press is not None and k is not None and e.buttons() & Qt.MouseButton.LeftButton:
            self._choose((min(self._press, k), max(self._press, k)))  # brushing a range
            self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        start, self._press = self._press, None
        end = self.key_at(e.position().x())
        if self._after_double_click:  # the release that ends a double-click: the double-click did it all
            self._after_double_click = False
            return
        if start is None or end is None:
            return
        if start == end and self._chosen() == (start, start):
            self._choose(None)  # clicked the chosen bar again: all years (or the whole year shown)
        else:
            self._choose((min(start, end), max(start, end)))
        self._changed()
        self.rangeChanged.emit(self.date_range())

    def keyPressEvent(self, e: QKeyEvent) -> None:
        key, keys = e.key(), self.keys()
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and keys:
            chosen = self._chosen()
            step = 1 if key == Qt.Key.Key_Right else -1
            if chosen is None:
                i = 0 if step > 0 else len(keys) - 1
                anchor = keys[i]
            else:
                end = chosen[1] if step > 0 else chosen[0]
                i = max(0, min(len(keys) - 1, keys.index(end) + step)) if end in keys else 0
                anchor = chosen[0] if step > 0 else chosen[1]
            k = keys[i]
            wide = e.modifiers() & Qt.KeyboardModifier.ShiftModifier and chosen is not None
            self._choose((min(anchor, k), max(anchor, k)) if wide else (k, k))
            self._changed()
            self.rangeChanged.emit(self.date_range())
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.year is None:
            s = self.selected
            if s and s[0] == s[1]:
                self.show_months(s[0])
        elif key in (Qt.Key.Key_Escape, Qt.Key.Key_Backspace) and self.year is not None:
            self.show_years()
        elif key == Qt.Key.Key_Delete and (self.selected or self.year is not None):
            self.clear_choice()
            self.rangeChanged.emit(None)
        else:
            super().keyPressEvent(e)

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:
        k = self.key_at(e.position().x())
        if self.year is None and isinstance(k, int):
            self._after_double_click = True
            self.show_months(k)

    def paintEvent(self, e: QPaintEvent) -> None:
        p = QPainter(self)
        pal = self.palette()
        fm = self.fontMetrics()
        keys = self.keys()
        top = max((self.count(k) for k in keys), default=1) or 1
        label_h = fm.height()
        chosen = self._chosen()
        small = QFont(self.font())
        small.setPointSizeF(self.font().pointSizeF() * 0.85)
        sfm = QFontMetrics(small)
        w = self.width() / max(1, len(keys))
        # Every bar's count, or none (the tooltip has them): a few numbers missing would read as zeros.
        counts = [_short(self.count(k)) for k in keys]
        show_counts = all(sfm.horizontalAdvance(c) <= w - 1 for c in counts)
        labels = self._labels(keys, w, fm.horizontalAdvance)
        for k, count, label in zip(keys, counts, labels):
            n = self.count(k)
            r = self.bar_rect(k)
            lit = chosen is not None and chosen[0] <= k <= chosen[1]
            room = r.height() - 2 * label_h - 4
            h = max(2, round(room * n / top)) if n else 1
            bar = QRect(r.x() + 2, r.y() + label_h + 2 + room - h, max(2, r.width() - 4), h)
            p.fillRect(bar, pal.color(QPalette.ColorRole.Highlight if lit else QPalette.ColorRole.Mid))
            p.setPen(pal.color(QPalette.ColorRole.Text))
            if show_counts and n:
                p.setFont(small)
                p.drawText(
                    QRect(r.x(), bar.y() - label_h - 1, r.width(), label_h),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                    count,
                )
                p.setFont(self.font())
            p.drawText(
                QRect(r.x(), r.bottom() - label_h, r.width(), label_h), Qt.AlignmentFlag.AlignCenter, label
            )
        if not keys:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no dates yet")
        if self.hasFocus():  # a focus ring: the keyboard is here
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 2))
            p.drawRect(self.rect().adjusted(1, 1, -1, -1))
        p.end()

    @staticmethod
    def _labels(keys: list, width: float, advance) -> list[str]:
        """The bars' names, all in one form: 2019 or '19; Jan or J."""
        if keys and isinstance(keys[0], int):
            full = [str(k) for k in keys]
            short = [f"'{k % 100:02d}" for k in keys]
        else:
            full = [calendar.month_abbr[int(k[5:])] for k in keys]
            short = [f[0] for f in full]
        return full if all(advance(f) + 2 <= width for f in full) else short


def _short(n: int) -> str:
    """A count in at most four characters: 823, 1.2k, 12k, 1.1M."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1e6:.1f}M"


def _month_range(first: str, last: str) -> str:
    a, b = calendar.month_abbr[int(first[5:])], calendar.month_abbr[int(last[5:])]
    return f"{a} {first[:4]}" if first == last else f"{a}–{b} {first[:4]}"


class DateFilter(QWidget):
    """The date histogram with its way between the years and one year's months."""

    def __init__(self) -> None:
        super().__init__()
        self.histogram = YearHistogram()
        self.back_button = QToolButton()
        self.back_button.setText("‹ All years")
        self.back_button.setAutoRaise(True)
        self.back_button.setToolTip("Show every year again")
        self.back_button.clicked.connect(self.histogram.show_years)
        self.months_button = QToolButton()
        self.months_button.setAutoRaise(True)
        self.months_button.setToolTip("Show this year month by month (or double-click a year)")
        self.months_button.clicked.connect(self._months)
        self.title = QLabel()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.back_button)
        row.addWidget(self.title)
        row.addStretch(1)
        row.addWidget(self.months_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(row)
        lay.addWidget(self.histogram)
        self.histogram.viewChanged.connect(self._update_row)
        self._update_row()

    def _single_year(self) -> int | None:
        s = self.histogram.selected
        return s[0] if s and s[0] == s[1] and self.histogram.year is None else None

    def _months(self) -> None:
        year = self._single_year()
        if year is not None:
            self.histogram.show_months(year)

    def _update_row(self) -> None:
        h = self.histogram
        by_month = h.year is not None
        self.back_button.setVisible(by_month)
        year = self._single_year()
        self.months_button.setVisible(year is not None)
        self.months_button.setText(f"{year} by month ›" if year is not None else "")
        self.title.setToolTip("Photos in the dates chosen")
        if by_month and h.selected_months:
            a, b = h.selected_months
            n = sum(v for k, v in h.months.items() if a <= k <= b)
            self.title.setText(f"<b>{_month_range(a, b)}</b> · {n:,}")
        elif by_month:
            self.title.setText(f"<b>{h.year}</b> · {h.years.get(h.year, 0):,}")
        elif h.selected:
            a, b = h.selected
            n = sum(v for k, v in h.years.items() if a <= k <= b)
            self.title.setText(f"<b>{a if a == b else f'{a}–{b}'}</b> · {n:,}")
        else:
            self.title.setText(f"All years · {sum(h.years.values()):,}" if h.years else "")
