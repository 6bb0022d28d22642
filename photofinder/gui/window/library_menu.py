"""The Library menu's actions that ask the user first: new, rename, remove a library, remove a folder."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QWidget

from photofinder.core.paths import display_path
from photofinder.gui.controllers import AppController
from photofinder.gui.window import dialogs


class LibraryActions(QObject):
    """Asks (name, confirmation), then hands the decision to the library controller."""

    def __init__(self, window: QWidget, app: AppController):
        super().__init__(window)
        self.window, self.app = window, app
        self.duplicates = None

    def new_library(self) -> None:
        name, ok = QInputDialog.getText(self.window, "New library", "Name of the new library:")
        if ok and name.strip():
            self.app.libraries.create(name.strip())

    def rename_library(self) -> None:
        lib = self.app.library
        if lib is None or self._busy("rename a library"):
            return
        name, ok = QInputDialog.getText(
            self.window, "Rename library", f"New name for {lib.name!r}:", text=lib.name
        )
        if ok and name.strip() and name.strip() != lib.name:
            self.app.libraries.rename(name.strip())

    def remove_library(self) -> None:
        lib = self.app.library
        if lib is None or self._busy("remove a library"):
            return
        if dialogs.confirm(
            self.window,
            "Remove library",
            f"Remove the library {lib.name!r}?\n\nThis deletes photofinder's "
            "index and thumbnails for it. Your photos are not touched.",
            "Remove library",
        ):
            self.app.libraries.remove()

    def fill_remove_folder_menu(self, menu: QMenu) -> None:
        menu.clear()
        folders = self.app.summary.folders if self.app.summary else []
        if not folders:
            menu.addAction("(no folders)").setEnabled(False)
        for f in folders:
            menu.addAction(display_path(f), lambda f=f: self.remove_folder(f))

    def remove_folder(self, folder: str) -> None:
        if self.app.library is None or self._busy("remove a folder"):
            return
        if dialogs.confirm(
            self.window,
            "Remove folder",
            f"Stop searching {display_path(folder)}?\n\nThe photos in it are not touched.",
            "Remove folder",
        ):
            self.app.libraries.remove_folder(folder)

    def find_duplicates(self) -> None:
        """Library → Find duplicates…: a window of its own; the grid follows what it moves to the trash."""
        from photofinder.gui.library.duplicates_dialog import DuplicatesDialog

        if self.app.library is None or self._busy("look for duplicates"):
            return
        self.duplicates = DuplicatesDialog(self.app, self.window)
        self.duplicates.changed.connect(self.app.live.photos_trashed)
        self.duplicates.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.duplicates.open()

    def close_dialogs(self) -> None:
        """The window closes: a duplicates window stops its thread."""
        d, self.duplicates = self.duplicates, None
        if d is not None:
            try:
                d.close()
            except RuntimeError:  # already deleted (closed by the user)
                pass

    def _busy(self, what: str) -> bool:
        message = self.app.busy_message(what)
        if message:
            QMessageBox.information(self.window, "photofinder", message)
        return message is not None
