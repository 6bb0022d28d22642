"""Selection, focus and names (issue 20, item 7): what a keyboard or screen-reader user meets."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractButton, QApplication, QStyle, QStyleOptionViewItem, QWidget

from photofinder.core.find.query import TEXT, Term
from photofinder.gui.results.results_view import ResultsView


def focusable(window) -> list[QWidget]:
    return [
        w
        for w in window.findChildren(QWidget)
        if w.isVisibleTo(window) and w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.isEnabled()
    ]


def name_of(w: QWidget) -> str:
    if w.accessibleName():
        return w.accessibleName()
    if isinstance(w, QAbstractButton) and any(c.isalpha() for c in w.text()):
        return w.text()  # a button's own words name it
    return ""


def test_every_focusable_widget_has_a_name(qtbot, window):
    window.search_bar.add_term(Term(TEXT, "dogs", label="dogs"), emit=False)
    qtbot.wait(20)
    unnamed = [f"{type(w).__name__}:{w.objectName()}" for w in focusable(window) if not name_of(w)]
    assert unnamed == []
    panel = window.filters.panel
    assert window.search_bar.edit.accessibleName() == "Search photos"
    assert panel.folders.accessibleName() == "Folders"
    assert panel.orientation.accessibleName() == "Orientation filter"
    assert panel.min_size.accessibleName() == "Minimum size filter"
    chip = window.search_bar.chips[0]
    assert chip.remove_button.accessibleName() == "Remove chip dogs"
    assert chip.weight.accessibleName() == "Weight of dogs"


def contrast(a: QColor, b: QColor) -> float:
    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_grey_text_has_a_contrast_of_at_least_4_5(qtbot, window):
    pal = window.palette()
    assert contrast(pal.color(QPalette.ColorRole.PlaceholderText), pal.color(QPalette.ColorRole.Base)) >= 4.5
    dis = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    assert contrast(dis, pal.color(QPalette.ColorRole.Window)) >= 4.5
    for label in (window.status, window.details, window.message):  # the message page's grey line too
        fg = label.palette().color(label.foregroundRole())
        assert contrast(fg, label.palette().color(QPalette.ColorRole.Window)) >= 4.5, label
    assert "gray" not in window.message.styleSheet()


def test_the_whole_selected_tile_is_highlighted_and_the_current_one_ringed(qtbot):
    view = ResultsView(100)
    qtbot.addWidget(view)
    model = QStandardItemModel()
    model.appendRow(QStandardItem("x.jpg"))
    size = view.delegate.tile_size()

    def render(state) -> QImage:
        img = QImage(size, QImage.Format.Format_RGB32)
        img.fill(QColor(0, 0, 0))
        p = QPainter(img)
        opt = QStyleOptionViewItem()
        opt.rect = QRect(QPoint(0, 0), size)
        opt.palette, opt.font, opt.fontMetrics, opt.widget = (
            view.palette(),
            view.font(),
            view.fontMetrics(),
            view,
        )
        opt.state = QStyle.StateFlag.State_Enabled | state
        view.delegate.paint(p, opt, model.index(0, 0))
        p.end()
        return img

    hi = view.palette().color(QPalette.ColorRole.Highlight).rgb()
    sel = render(QStyle.StateFlag.State_Selected)
    # above the caption band (the photo's square, around it): the highlight, not only under the caption
    assert sel.pixel(size.width() // 2, 3) == hi and sel.pixel(5, size.height() // 3) == hi
    ring = render(QStyle.StateFlag.State_HasFocus)
    assert ring.pixel(size.width() // 2, 2) != QColor(0, 0, 0).rgb()  # a ring at the tile's edge


def test_the_year_bars_are_reached_and_chosen_by_keyboard(qtbot, window):
    hist = window.filters.panel.years
    hist.set_months({"2022-01": 3, "2023-07": 5})
    hist.set_years({2022: 3, 2023: 5})
    assert hist.focusPolicy() & Qt.FocusPolicy.TabFocus and hist.accessibleName()
    hist.setFocus()
    with qtbot.waitSignal(hist.rangeChanged) as got:
        qtbot.keyClick(hist, Qt.Key.Key_Right)  # the first year, then on
    qtbot.keyClick(hist, Qt.Key.Key_Right)
    assert hist.selected == (2023, 2023) and got.args
    qtbot.keyClick(hist, Qt.Key.Key_Return)  # by month
    assert hist.year == 2023
    qtbot.keyClick(hist, Qt.Key.Key_Escape)  # the years again, none chosen
    assert hist.year is None
    qtbot.keyClick(hist, Qt.Key.Key_Delete)
    assert hist.selected is None


def test_the_palette_follows_the_system_colour_scheme(qtbot, window):
    from photofinder.gui.window.theme import palette_for

    dark, light = palette_for(Qt.ColorScheme.Dark), palette_for(Qt.ColorScheme.Light)
    assert dark.color(QPalette.ColorRole.Window).lightness() < 100
    assert light.color(QPalette.ColorRole.Window).lightness() > 180
    for pal in (dark, light):
        assert (
            contrast(pal.color(QPalette.ColorRole.PlaceholderText), pal.color(QPalette.ColorRole.Base)) >= 4.5
        )
    assert QApplication.instance() is not None
