"""How one tile of the grid is painted: the photo fitted into a square, resting on its caption; a tile that
stands for a group of duplicates wears a badge with the group's size."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

PAD = 4  # around the photo, inside the tile
COPIES_ROLE = Qt.ItemDataRole.UserRole + 3  # results_model.CopiesRole (the model's module imports this one)
WEAKER_ROLE = Qt.ItemDataRole.UserRole + 5  # 0 a good match (or not judged), 1 weaker, 2 the first weaker
ALPHA_ROLE = Qt.ItemDataRole.UserRole + 4  # the thumbnail has real transparency (not the placeholder's)


def checkerboard(palette: QPalette) -> QBrush:
    """Light and mid grey squares (a shade of the theme's base): what is transparent in a picture."""
    base = palette.color(QPalette.ColorRole.Base)
    light, dark = (
        (base.darker(106), base.darker(124))
        if base.lightness() > 128
        else (base.lighter(170), base.lighter(130))
    )
    pm = QPixmap(16, 16)
    pm.fill(light)
    p = QPainter(pm)
    p.fillRect(0, 0, 8, 8, dark)
    p.fillRect(8, 8, 8, 8, dark)
    p.end()
    return QBrush(pm)


def tile_shape(s: int, dpr: float, fill: QColor, cross: QColor | None) -> QPixmap:
    """A rounded square of side `s`: where a thumbnail will be, or (with a cross) where one could not be made."""
    pm = QPixmap(round(s * dpr), round(s * dpr))
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(fill)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(4, 4, s - 8, s - 8, 8, 8)
    if cross is not None:
        p.setPen(QPen(cross, 2))
        m = s // 3
        p.drawLine(m, m, s - m, s - m)
        p.drawLine(s - m, m, m, s - m)
    p.end()
    return pm


class TileDelegate(QStyledItemDelegate):
    """Every tile is the same size (the grid uses uniform item sizes), so a 4:3 or portrait photo never
    spills over its caption and captions line up across a row. The photo keeps its device pixel ratio."""

    def __init__(self, parent: QWidget | None = None, thumb_size: int = 160):
        super().__init__(parent)
        self.thumb_size = thumb_size
        self.width = 0  # the view widens tiles to justify its rows (0: the tile's own width)

    def tile_size(self) -> QSize:
        return QSize(self.thumb_size + 20, self.thumb_size + 36)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        t = self.tile_size()
        return QSize(max(t.width(), self.width), t.height())

    def photo_rect(self, cell: QRect) -> QRect:
        """The square the photo is fitted into, at the top of the tile."""
        s = self.thumb_size
        return QRect(cell.x() + (cell.width() - s) // 2, cell.y() + PAD, s, s)

    def paint_badge(self, painter: QPainter, opt: QStyleOptionViewItem, photo: QRectF, copies: int) -> None:
        """“×3” in a pill on the photo's top right corner: this tile stands for 3 copies."""
        font = QFont(opt.font)
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        fm = QFontMetrics(font)
        text = f"×{copies}"
        h = fm.height() + 2
        w = max(h, fm.horizontalAdvance(text) + 10)
        rect = QRectF(photo.right() - w - 4, photo.top() + 4, w, h)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(255, 255, 255, 220))
        painter.setBrush(opt.palette.color(QPalette.ColorRole.Highlight))
        painter.drawRoundedRect(rect, h / 2, h / 2)
        painter.setFont(font)
        painter.setPen(opt.palette.color(QPalette.ColorRole.HighlightedText))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()

    def paint_tile(self, painter: QPainter, opt: QStyleOptionViewItem) -> None:
        """The whole tile in the highlight colour when selected (the platform style coloured only the caption
        band), a lighter wash under the mouse, and a ring round the current tile while the grid has focus."""
        state = opt.state
        hi = opt.palette.color(QPalette.ColorRole.Highlight)
        rect = QRectF(opt.rect).adjusted(1.5, 1.5, -1.5, -1.5)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if state & QStyle.StateFlag.State_Selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(hi)
            painter.drawRoundedRect(rect, 6, 6)
        elif state & QStyle.StateFlag.State_MouseOver:
            wash = QColor(hi)
            wash.setAlpha(45)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(wash)
            painter.drawRoundedRect(rect, 6, 6)
        if state & QStyle.StateFlag.State_HasFocus:
            text = opt.palette.color(QPalette.ColorRole.Text)
            ring = QPen(text if state & QStyle.StateFlag.State_Selected else hi, 2)
            painter.setPen(ring)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 5, 5)

    def paint_divider(self, painter: QPainter, opt: QStyleOptionViewItem) -> None:
        """The first weaker match: a bar at its left and a "Weaker matches" heading on it."""
        hi = opt.palette.color(QPalette.ColorRole.Highlight)
        r = opt.rect
        painter.fillRect(QRect(r.x(), r.y() + 2, 3, r.height() - 4), hi)
        font = QFont(opt.font)
        font.setBold(True)
        fm = QFontMetrics(font)
        text = "Weaker matches"
        box = QRectF(r.x() + 8, r.y() + 6, fm.horizontalAdvance(text) + 12, fm.height() + 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(hi)
        painter.drawRoundedRect(box, box.height() / 2, box.height() / 2)
        painter.setFont(font)
        painter.setPen(opt.palette.color(QPalette.ColorRole.HighlightedText))
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)

    def caption_rect(self, cell: QRect, line_height: int) -> QRect:
        return QRect(cell.x() + 8, self.photo_rect(cell).bottom() + 1 + PAD, cell.width() - 16, line_height)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        painter.save()
        self.paint_tile(painter, opt)
        pm = index.data(Qt.ItemDataRole.DecorationRole)
        square = self.photo_rect(opt.rect)
        if isinstance(pm, QPixmap) and not pm.isNull():
            # always fitted to the square: a thumbnail stored at 160 px and one at 480 px make the same tile
            size = pm.deviceIndependentSize().scaled(
                square.width(), square.height(), Qt.AspectRatioMode.KeepAspectRatio
            )
            target = QRectF(
                square.x() + (square.width() - size.width()) / 2,
                square.y() + square.height() - size.height(),
                size.width(),
                size.height(),
            )
            if pm.hasAlphaChannel() and index.data(ALPHA_ROLE):
                painter.fillRect(target, checkerboard(opt.palette))  # transparency shown as such, not white
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            weaker = index.data(WEAKER_ROLE) or 0
            if weaker:
                painter.setOpacity(0.55)  # set apart from the good matches
            painter.drawPixmap(target, pm, QRectF(pm.rect()))
            painter.setOpacity(1.0)
            if weaker == 2:
                self.paint_divider(painter, opt)
        else:
            target = QRectF(square)
        copies = index.data(COPIES_ROLE)
        if isinstance(copies, int) and copies > 1:
            self.paint_badge(painter, opt, target, copies)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        fm = opt.fontMetrics
        caption = self.caption_rect(opt.rect, fm.height())
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(opt.palette.color(role))
        painter.setFont(opt.font)
        painter.drawText(
            caption,
            int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
            fm.elidedText(text, Qt.TextElideMode.ElideMiddle, caption.width()),
        )
        painter.restore()
