"""The search field: typed text, then chips — images dropped or pasted, "Find similar" photos, `-words` to exclude.

The field is one framed box that grows with the window; the chips sit inside it after the typed text (the query
reads left to right) in a strip that scrolls rather than pushing the text field out of sight. Each chip has a
weight (a small number: mouse wheel, or click it) and one ✕ to remove it; the bar says `termsChanged` whenever
the query changes (text after a short pause or on Enter, a chip added, weighed or removed). Chip icons are read
off the GUI thread (drop_zone.ChipIcons).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QKeyEvent, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from photofinder.core.find.query import IMAGE, PHOTO, TEXT, QueryError, Term, parse_search_bar
from photofinder.gui.query.drop_zone import ChipIcons

WEIGHTS = (0.5, 1.0, 2.0, 3.0)
_CHIP = (
    "QFrame#chip {{ border: 1px solid {border}; border-radius: 11px; background: {fill}; }}"
    "QToolButton#weight {{ border: 1px solid palette(mid); border-radius: 8px; padding: 0 4px;"
    " font-weight: bold; background: palette(button); }}"
    "QToolButton#weight::menu-indicator {{ image: none; width: 0; }}"
)
_FIELD = (
    "QFrame#searchfield { border: 1px solid palette(mid); border-radius: 6px; background: palette(base); }"
    'QFrame#searchfield[focused="true"] { border: 2px solid palette(highlight); }'
)


def weight_text(weight: float) -> str:
    """A weight as the chip shows it: ½, 1, 2, 3 (never "×", which is the remove glyph's look)."""
    return "½" if weight == 0.5 else f"{weight:g}"


def short_label(label: str, limit: int = 28) -> str:
    """A chip's text: long names keep their start and their extension."""
    return label if len(label) <= limit else f"{label[:13]}…{label[-14:]}"


class Chip(QFrame):
    """One term of the query: its icon (images), its text, its weight and an ✕ to remove it."""

    removed = Signal()
    weightChanged = Signal()

    def __init__(self, term: Term, icon: QPixmap | None = None):
        super().__init__()
        self.setObjectName("chip")
        self.term = term
        neg = term.negative
        self.setStyleSheet(
            _CHIP.format(
                border="#c0392b" if neg else "palette(mid)",
                fill="rgba(192,57,43,30)" if neg else "palette(base)",
            )
        )
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 1, 2, 1)
        lay.setSpacing(3)
        self.icon = QLabel()
        self.icon.setFixedSize(20, 20)
        self.icon.setScaledContents(False)
        self.icon.setVisible(term.kind in (IMAGE, PHOTO))
        self.label = QLabel(("− " if neg else "") + short_label(term.label or str(term.value)))
        self.weight = QToolButton()
        self.weight.setObjectName("weight")
        self.weight.setToolTip("Weight of this term (or turn the mouse wheel over the chip)")
        self.weight.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.weight)
        for w in WEIGHTS:
            menu.addAction(f"Weight {weight_text(w)}", lambda _=False, w=w: self.set_weight(w))
        self.weight.setMenu(menu)
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setToolTip("Remove from the query")
        name = term.label or str(term.value)
        self.remove_button.setAccessibleName(f"Remove chip {name}")
        self._name = name
        self.remove_button.clicked.connect(self.removed)
        self.setAccessibleName(("Excluded: " if neg else "Search term: ") + name)
        for w in (self.icon, self.label, self.weight, self.remove_button):
            lay.addWidget(w)
        self.setToolTip(("Excluded: " if neg else "") + (term.label or str(term.value)))
        self.set_icon(icon)
        self._show_weight()

    def set_icon(self, icon: QPixmap | None) -> None:
        if icon is not None and not icon.isNull():
            self.icon.setPixmap(
                icon.scaled(
                    QSize(20, 20),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )

    def has_icon(self) -> bool:
        pm = self.icon.pixmap()
        return pm is not None and not pm.isNull()

    def set_weight(self, weight: float) -> None:
        if weight != self.term.weight:
            self.term = replace(self.term, weight=weight)
            self._show_weight()
            self.weightChanged.emit()

    def _show_weight(self) -> None:
        self.weight.setText(weight_text(self.term.weight))
        self.weight.setAccessibleName(f"Weight of {self._name}")
        self.weight.setAccessibleDescription(f"{weight_text(self.term.weight)}: how much this term counts")

    def wheelEvent(self, event: QWheelEvent) -> None:
        step = 1 if event.angleDelta().y() > 0 else -1 if event.angleDelta().y() < 0 else 0
        i = min(range(len(WEIGHTS)), key=lambda k: abs(WEIGHTS[k] - self.term.weight))
        self.set_weight(WEIGHTS[max(0, min(len(WEIGHTS) - 1, i + step))])
        event.accept()


class ChipStrip(QScrollArea):
    """The chips, in a strip that asks for their width but can shrink to a sliver (it scrolls, with the wheel
    turning chip weights and Shift+wheel or the chip order scrolling it): the text field beside it keeps its room."""

    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }")
        self.setAccessibleName("Search chips")
        inner = QWidget()
        self.row = QHBoxLayout(inner)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(4)
        self.setWidget(inner)
        self.horizontalScrollBar().rangeChanged.connect(
            lambda _lo, hi: self.horizontalScrollBar().setValue(hi)
        )
        self.horizontalScrollBar().valueChanged.connect(self._count_hidden)
        self.hidden_label = QToolButton()  # "+3": chips scrolled out of sight; click to see the first
        self.hidden_label.setAutoRaise(True)
        self.hidden_label.clicked.connect(self._scroll)
        self.hidden_label.hide()
        self.hide()

    def _count_hidden(self, value: int) -> None:
        chips = [self.row.itemAt(i).widget() for i in range(self.row.count())]
        hidden = [c for c in chips if c is not None and c.geometry().left() < value]
        self.hidden_label.setVisible(bool(hidden))
        self.hidden_label.setText(f"+{len(hidden)}")
        names = ", ".join(c.toolTip() for c in hidden)
        self.hidden_label.setToolTip(f"Also in the search: {names} (click to scroll)")
        self.hidden_label.setAccessibleName(f"{len(hidden)} more search terms: {names}")

    def _scroll(self) -> None:
        bar = self.horizontalScrollBar()
        bar.setValue(0 if bar.value() else bar.maximum())

    def sizeHint(self) -> QSize:
        return QSize(self.widget().sizeHint().width(), self.widget().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        """Room for the last chip (up to 170 px): the newest term is always seen whole."""
        last = self.row.itemAt(self.row.count() - 1) if self.row.count() else None
        w = min(170, last.widget().sizeHint().width()) if last is not None and last.widget() else 0
        return QSize(w, self.widget().sizeHint().height())

    def changed(self) -> None:
        self.setVisible(self.row.count() > 0)
        if not self.row.count():
            self.hidden_label.hide()
        self.updateGeometry()  # the strip scrolls to its end as its range grows: the chip just added is seen


class QueryBar(QFrame):
    """Typed text, then chips, in one framed field; the whole query goes out as `termsChanged(tuple[Term, ...])`."""

    termsChanged = Signal(object)  # tuple[Term, ...]; empty: back to browsing
    DEBOUNCE_MS = 350

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("searchfield")
        self.setStyleSheet(_FIELD)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.setSpacing(4)
        self.chips: list[Chip] = []
        self.edit = QLineEdit()
        self.edit.setFrame(False)
        self.edit.setPlaceholderText('Describe a photo, e.g. "dog on a beach" -people — or drop a photo here')
        self.edit.setClearButtonEnabled(True)
        self.edit.setMinimumWidth(110)
        self.edit.setAccessibleName("Search photos")
        self.edit.setAccessibleDescription("Describe a photo; -word excludes a word; Esc clears the search")
        self.edit.setStyleSheet("QLineEdit { background: transparent; }")
        lay.addWidget(self.edit, 1)
        self.strip = ChipStrip()
        self.chip_row = self.strip.row
        lay.addWidget(self.strip.hidden_label)
        lay.addWidget(self.strip)
        self.setFocusProxy(self.edit)
        self.icons = ChipIcons()
        self.icons.ready.connect(self._on_icon)
        self._waiting: dict[int, Chip] = {}  # icon token -> its chip
        self._text_terms: tuple[Term, ...] = ()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.DEBOUNCE_MS)
        self._timer.timeout.connect(self._changed)
        self.edit.textEdited.connect(self._on_edited)
        self.edit.returnPressed.connect(self._changed)
        self.edit.installEventFilter(self)

    # -- the query -----------------------------------------------------------------------------------------
    def terms(self) -> tuple[Term, ...]:
        """The typed text first, then the chips, in the order they were added."""
        return self._text_terms + tuple(c.term for c in self.chips)

    def add_term(self, term: Term, icon: QPixmap | QImage | str | None = None, emit: bool = True) -> Chip:
        """A chip for `term`; `icon` is a pixmap to show, or an image (path or QImage) to read one from."""
        chip = Chip(term, icon if isinstance(icon, QPixmap) else None)
        if isinstance(icon, (str, QImage)):
            self._waiting[self.icons.request(icon)] = chip
        chip.removed.connect(lambda: self.remove_chip(chip))
        chip.weightChanged.connect(self._changed)
        self.chips.append(chip)
        self.chip_row.addWidget(chip)
        self.strip.changed()
        if emit:
            self._changed()
        return chip

    def add_image(self, image: str | QImage, label: str) -> None:
        self.add_term(Term(IMAGE, image, label=label), image)

    def add_photo(self, photo_id: int, label: str, thumb: QPixmap | None) -> None:
        self.add_term(Term(PHOTO, photo_id, label=label), thumb)

    def remove_chip(self, chip: Chip) -> None:
        if chip in self.chips:
            self.chips.remove(chip)
            chip.hide()
            self.chip_row.removeWidget(chip)
            chip.deleteLater()
            self.strip.changed()
            self._changed()
            self.edit.setFocus()

    def clear(self, emit: bool = False) -> None:
        """Empty the bar (another library was opened; Esc)."""
        self._timer.stop()
        self.edit.clear()
        self._text_terms = ()
        for c in self.chips:
            c.hide()
            self.chip_row.removeWidget(c)
            c.deleteLater()
        self.chips.clear()
        self.strip.changed()
        self._waiting.clear()
        if emit:
            self.termsChanged.emit(())

    def _changed(self) -> None:
        self._timer.stop()
        self._absorb_text()
        self.termsChanged.emit(self.terms())

    # -- typing --------------------------------------------------------------------------------------------
    def _on_edited(self, text: str) -> None:
        if text.strip():
            self._timer.start()
        else:  # emptied: the chips alone, or browsing
            self._changed()

    def _absorb_text(self) -> None:
        """The typed text as terms: `-word` and `-"two words"` leave the field as negative chips."""
        try:
            terms = parse_search_bar(self.edit.text())
        except QueryError:
            terms = [Term(TEXT, self.edit.text().strip(), label=self.edit.text().strip())]
        keep = [t for t in terms if t.kind == TEXT and not t.negative][:1]
        for t in terms:
            if t not in keep:
                self.add_term(t, t.value if t.kind == IMAGE else None, emit=False)
        if len(keep) != len(terms):
            self.edit.setText(keep[0].value if keep else "")
        self._text_terms = tuple(keep)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.edit and event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self.setProperty("focused", event.type() == QEvent.Type.FocusIn)  # the field's focus ring
            self.style().unpolish(self)
            self.style().polish(self)
        if watched is self.edit and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Escape and (self.edit.text() or self.chips):
                self.clear(emit=True)  # Esc: back to browsing the library
                return True
            if event.key() == Qt.Key.Key_Backspace and not self.edit.text() and self.chips:
                self.remove_chip(self.chips[-1])
                return True
        return False

    @Slot(int, QImage)
    def _on_icon(self, token: int, image: QImage) -> None:
        chip = self._waiting.pop(token, None)
        if chip is not None and chip in self.chips and not image.isNull():
            chip.set_icon(QPixmap.fromImage(image))

    def shutdown(self) -> None:
        self.icons.shutdown()
