"""The grid (issue 20, item 9): tiles of one size whatever the stored thumbnail, rows justified, a zoom slider
with Ctrl+= / Ctrl+- / Ctrl+wheel, transparency drawn over a checkerboard."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QStandardItem, QStandardItemModel, QWheelEvent
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem

from photofinder.gui.results.results_view import ResultsView
from photofinder.gui.results.tile_delegate import ALPHA_ROLE


def render_tile(view: ResultsView, pm: QPixmap, alpha: bool = False) -> QImage:
    model = QStandardItemModel()
    item = QStandardItem("x.png")
    item.setData(pm, Qt.ItemDataRole.DecorationRole)
    item.setData(alpha, ALPHA_ROLE)
    model.appendRow(item)
    size = view.delegate.tile_size()
    img = QImage(size, QImage.Format.Format_RGB32)
    img.fill(QColor(0, 0, 255))
    p = QPainter(img)
    opt = QStyleOptionViewItem()
    opt.rect = QRect(QPoint(0, 0), size)
    opt.palette = view.palette()
    opt.font = view.font()
    opt.fontMetrics = view.fontMetrics()
    view.delegate.paint(p, opt, model.index(0, 0))
    p.end()
    return img


def red_width(img: QImage) -> int:
    xs = [
        x
        for x in range(img.width())
        for y in (img.height() // 3,)
        if QColor(img.pixel(x, y)) == QColor(255, 0, 0)
    ]
    return max(xs) - min(xs) + 1 if xs else 0


def solid(side: int, color=Qt.GlobalColor.red) -> QPixmap:
    pm = QPixmap(side, side)
    pm.fill(color)
    return pm


def test_tiles_are_one_size_whatever_the_stored_thumbnail(qtbot):
    view = ResultsView(160)
    qtbot.addWidget(view)
    assert red_width(render_tile(view, solid(60))) == red_width(render_tile(view, solid(480))) == 160


def test_transparent_images_sit_on_a_checkerboard_not_white(qtbot):
    view = ResultsView(160)
    qtbot.addWidget(view)
    img = render_tile(view, solid(100, Qt.GlobalColor.transparent), alpha=True)
    row = img.height() // 3
    colours = {img.pixel(x, row) for x in range(30, 130)}
    assert len(colours) >= 2  # two shades of squares
    assert QColor(255, 255, 255).rgb() not in colours and QColor(0, 0, 255).rgb() not in colours


def test_rows_are_justified_with_no_gap_at_the_right(qtbot):
    view = ResultsView(160)
    qtbot.addWidget(view)
    model = QStandardItemModel()
    for i in range(30):
        model.appendRow(QStandardItem(f"{i}.jpg"))
    view.setModel(model)
    for width in (700, 815, 1013):
        view.resize(width, 500)
        view.show()
        qtbot.waitUntil(lambda: view.viewport().width() > 0)
        qtbot.wait(20)
        row = [model.index(i, 0) for i in range(30) if view.visualRect(model.index(i, 0)).top() < 20]
        right = max(view.visualRect(i).right() for i in row)
        left = min(view.visualRect(i).left() for i in row)
        gap_right = view.viewport().width() - right
        assert gap_right - left < 30, (
            width,
            left,
            gap_right,
        )  # the spare room is shared, not left at the right


def test_zoom_with_the_slider_the_keys_and_ctrl_wheel(qtbot, window):
    view, slider = window.view, window.results_bar.zoom
    slider.setValue(160)
    start = view.delegate.thumb_size
    assert (
        slider.isVisibleTo(window.results_bar)
        and slider.accessibleName() == "Tile size"
        and slider.value() == start
    )
    window.activateWindow()
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert view.delegate.thumb_size > start and slider.value() == view.delegate.thumb_size
    assert (
        window.results.thumb_size == view.delegate.thumb_size and window.settings.thumb_size == slider.value()
    )
    qtbot.keyClick(window.view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert view.delegate.thumb_size == start
    pos = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(
        pos,
        QPointF(view.viewport().mapToGlobal(pos.toPoint())),
        QPoint(),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.delegate.thumb_size < start and slider.value() == view.delegate.thumb_size
    slider.setValue(256)
    assert view.delegate.thumb_size == 256
