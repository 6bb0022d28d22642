"""The main window's menus: Library, Edit, View, Help (MainWindow calls build_menus once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence

from photofinder.gui.window.dialogs import show_about
from photofinder.gui.window.library_menu import LibraryActions

if TYPE_CHECKING:
    from photofinder.gui.window.main_window import MainWindow


def build_menus(window: MainWindow) -> None:
    """Add the menus to `window`, keeping the actions tests and wiring reach for as its attributes."""
    m = window.menuBar().addMenu("&Library")
    a = window.library_actions = LibraryActions(window, window.app)
    m.addAction("&New library…", a.new_library)
    window.rename_action = m.addAction("&Rename library…", a.rename_library)
    window.remove_action = m.addAction("Remo&ve library…", a.remove_library)
    m.addSeparator()
    m.addAction(window.add_folder_action)
    window.remove_folder_menu = m.addMenu("Remove &folder")
    window.remove_folder_menu.aboutToShow.connect(
        lambda: a.fill_remove_folder_menu(window.remove_folder_menu)
    )
    window.reindex_action = m.addAction("Re-&index now", lambda: window.app.indexing.start([]))
    window.duplicates_action = m.addAction("Find &duplicates…", a.find_duplicates)
    m.addAction(window.explore.action)
    m.addSeparator()
    m.addAction("&Quit", QKeySequence.StandardKey.Quit, window.close)
    e = window.menuBar().addMenu("&Edit")
    window.find_action = e.addAction("&Find", QKeySequence.StandardKey.Find, window.focus_search)
    e.addAction("&Paste image to search", QKeySequence.StandardKey.Paste, window.paste)
    e.addSeparator()
    e.addAction("&Settings…", QKeySequence.StandardKey.Preferences, window.open_settings)
    v = window.menuBar().addMenu("&View")
    window.hide_duplicates_action = v.addAction("Hide &duplicates")
    window.hide_duplicates_action.setCheckable(True)
    window.hide_duplicates_action.setChecked(window.settings.hide_duplicates)
    window.hide_duplicates_action.setToolTip("One tile per group of copies, with a badge of its count")
    window.hide_duplicates_action.toggled.connect(window.app.query.set_hide_duplicates)
    v.addSeparator()
    window.zoom_in_action = v.addAction("&Bigger tiles", lambda: window.zoom(1))
    window.zoom_in_action.setShortcuts(_keys("Ctrl+=", "Ctrl++", QKeySequence.StandardKey.ZoomIn))
    window.zoom_out_action = v.addAction("&Smaller tiles", lambda: window.zoom(-1))
    window.zoom_out_action.setShortcuts(_keys("Ctrl+-", QKeySequence.StandardKey.ZoomOut))
    h = window.menuBar().addMenu("&Help")
    h.addAction(
        "Open &log folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(window.data_dir)))
    )
    h.addAction("&About photofinder", lambda: show_about(window, window.data_dir))


def _keys(*keys: str | QKeySequence.StandardKey) -> list[QKeySequence]:
    """Each key once: the same sequence twice on one action is ambiguous, and Qt then runs neither."""
    out: list[QKeySequence] = []
    for k in keys:
        for seq in (
            QKeySequence.keyBindings(k) if isinstance(k, QKeySequence.StandardKey) else [QKeySequence(k)]
        ):
            if seq not in out:
                out.append(seq)
    return out
