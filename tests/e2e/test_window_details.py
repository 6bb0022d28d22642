"""Small things a person notices (issue 20, item 10): each against the real widgets, no index run needed."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, QSize, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from photofinder.gui.filters.date_filter import DateFilter
from photofinder.gui.query.query_state import MatchCount
from photofinder.gui.results.results_bar import ResultsBar


def test_all_years_clears_the_year_it_showed_by_month(qtbot):
    d = DateFilter()
    qtbot.addWidget(d)
    d.show()
    d.histogram.set_months({"2022-01": 3, "2023-07": 5})
    d.histogram.set_years({2022: 3, 2023: 5})
    d.histogram.show_months(2023)
    assert d.back_button.isVisible()
    with qtbot.waitSignal(d.histogram.rangeChanged) as got:
        qtbot.mouseClick(d.back_button, Qt.MouseButton.LeftButton)
    assert got.args == [None] and d.histogram.selected is None  # every year, as the button says
    assert d.title.text().startswith("All years")


def test_the_disabled_sort_box_says_newest_first_while_browsing(qtbot):
    bar = ResultsBar()
    qtbot.addWidget(bar)
    bar.show_count(None)  # browsing
    assert not bar.sort.isEnabled() and bar.sort.currentData() == "date"
    bar.show_count(MatchCount(3, 3, 10, True))  # a query: the user's order (best match) again
    assert bar.sort.isEnabled() and bar.sort.currentData() == "match"


def test_duplicates_show_dates_in_the_locale_format_not_iso():
    from photofinder.gui.library.duplicates_dialog import human_date

    shown = human_date("2023-07-10T14:30:00", 0)
    assert "2023-07-10" not in shown and "T14" not in shown and "10" in shown
    assert human_date(None, int(1_700_000_000 * 1e9)) != "2023-11-14 22:13"  # the file's time, same format


def test_the_preview_does_not_blow_up_a_small_image(qtbot, window):
    p = window.preview
    p.resize(900, 700)
    p._pixmap = QPixmap(60, 40)
    p._pixmap.fill(Qt.GlobalColor.red)
    p._fit()
    assert p.image.pixmap().size() == QSize(60, 40)  # 1:1, not stretched to the dialog
    p._pixmap = QPixmap(4000, 3000)
    p._fit()
    assert p.image.pixmap().width() <= p.image.width() * p.image.devicePixelRatioF()


def test_dragging_a_photo_over_the_window_highlights_where_it_drops(qtbot, window, tmp_path):
    f = tmp_path / "x.jpg"
    f.write_bytes(b"")
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(f))])
    pos = QPointF(window.pages.geometry().center())
    args = (Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    assert not window.drop_hint.isVisible()
    QApplication.sendEvent(window, QDragEnterEvent(pos, *args))
    assert window.drop_hint.isVisible() and "Drop a photo" in window.drop_hint.text()
    assert window.drop_hint.geometry().width() > window.pages.width() // 2
    QApplication.sendEvent(window, QDragLeaveEvent())
    assert not window.drop_hint.isVisible()
    QApplication.sendEvent(window, QDragEnterEvent(pos, *args))
    ignored = QMimeData()  # a drop of nothing droppable: the hint goes too
    QApplication.sendEvent(window, QDropEvent(pos, Qt.DropAction.CopyAction, ignored, *args[2:]))
    assert not window.drop_hint.isVisible()


def press_enter(monkeypatch, seen):
    def exec_(box):
        box.show()
        seen.append((box.text(), box.defaultButton().text()))
        QTest.keyClick(box, Qt.Key.Key_Return)
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)


def test_enter_on_remove_library_does_not_remove_it(qtbot, window, monkeypatch):
    window.app.store.create("Holidays")
    window.app.libraries.reload("Holidays")
    seen: list = []
    press_enter(monkeypatch, seen)
    window.library_actions.remove_library()
    qtbot.wait(100)
    assert seen and "Remove the library" in seen[0][0] and seen[0][1] == "Cancel"
    assert window.app.store.names() == ["Holidays"]


def test_enter_on_the_trash_confirmation_does_not_trash(qtbot, monkeypatch):
    from photofinder.gui.window import dialogs

    seen: list = []
    press_enter(monkeypatch, seen)
    parent = ResultsBar()
    qtbot.addWidget(parent)
    assert dialogs.confirm(parent, "Move to trash", "Move 2 photos to the trash?", "Move to trash") is False
    assert seen[0][1] == "Cancel"
