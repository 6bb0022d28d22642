"""Light and dark palettes that follow the system's colour scheme, with grey text readable on them.

Fusion's own greys (disabled text, placeholders) are about 1.6–3.4:1 on its window colour; WCAG asks 4.5:1
for text, so the muted roles are set here, and labels that want muted text use the PlaceholderText role.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

_LIGHT = {
    "Window": "#efefef",
    "WindowText": "#1a1a1a",
    "Base": "#ffffff",
    "AlternateBase": "#f5f5f5",
    "Text": "#1a1a1a",
    "Button": "#e8e8e8",
    "ButtonText": "#1a1a1a",
    "Highlight": "#2f65ca",
    "HighlightedText": "#ffffff",
    "Mid": "#b8b8b8",
    "ToolTipBase": "#ffffdc",
    "ToolTipText": "#1a1a1a",
    "Link": "#1d4fa8",
}
_DARK = {
    "Window": "#2b2b2b",
    "WindowText": "#e8e8e8",
    "Base": "#1e1e1e",
    "AlternateBase": "#262626",
    "Text": "#e8e8e8",
    "Button": "#363636",
    "ButtonText": "#e8e8e8",
    "Highlight": "#3d7bd9",
    "HighlightedText": "#ffffff",
    "Mid": "#5a5a5a",
    "ToolTipBase": "#3a3a3a",
    "ToolTipText": "#e8e8e8",
    "Link": "#8ab4f8",
}
MUTED = {"light": "#616161", "dark": "#a3a3a3"}  # ≥ 4.5:1 on both Window and Base of their palette


def palette_for(scheme: Qt.ColorScheme) -> QPalette:
    """The palette for a colour scheme (Unknown counts as light)."""
    dark = scheme == Qt.ColorScheme.Dark
    pal = QPalette()
    for role, colour in (_DARK if dark else _LIGHT).items():
        pal.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    muted = QColor(MUTED["dark" if dark else "light"])
    pal.setColor(QPalette.ColorRole.PlaceholderText, muted)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, muted)
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.PlaceholderText, muted)
    return pal


def follow_system(app: QApplication) -> None:
    """Use Fusion with the palette of the system's scheme, now and whenever the user switches it."""
    if getattr(app, "_photofinder_theme", False):
        return
    app._photofinder_theme = True  # type: ignore[attr-defined]
    app.setStyle(QStyleFactory.create("Fusion"))
    hints = QGuiApplication.styleHints()
    app.setPalette(palette_for(hints.colorScheme()))
    hints.colorSchemeChanged.connect(lambda scheme: app.setPalette(palette_for(scheme)))


def muted(widget_palette: QPalette) -> str:
    """The muted text colour of a palette, for rich text (a `<span style='color:…'>`)."""
    return widget_palette.color(QPalette.ColorRole.PlaceholderText).name()
