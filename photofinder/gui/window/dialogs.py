"""Dialogs: settings, skipped files, model download and model problems."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.encode.torch_encoder import DEFAULT_MODEL
from photofinder.core.paths import display_path
from photofinder.gui.settings import DEVICES, OCR_MODES, RUNTIMES, AppSettings
from photofinder.gui.workers.model_pool import EmbedderPool


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        form = QFormLayout(self)
        self.model = QLineEdit(settings.model)
        self.model.setPlaceholderText(DEFAULT_MODEL)
        self.model.setToolTip(
            "A Hugging Face model id (downloaded once) or a local CLIP or SigLIP model folder.\n"
            "A library keeps the model it was indexed with."
        )
        from photofinder.gui.window.first_run import menu_items

        self.menu = QComboBox()
        self.menu.setAccessibleName("Model menu")
        self.menu.addItem("Choose from the menu…", "")
        for ref, label in menu_items():
            self.menu.addItem(label, ref)
        self.menu.activated.connect(
            lambda i: self.menu.itemData(i) and self.model.setText(self.menu.itemData(i))
        )
        browse = QPushButton("Folder…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.menu)
        row.addWidget(browse)
        form.addRow("Model:", row)
        self.device = QComboBox()
        self.device.addItems(["Automatic (GPU if present)", "CPU", "GPU"])
        self.device.setCurrentIndex(DEVICES.index(settings.device))
        form.addRow("Device:", self.device)
        self.runtime = QComboBox()
        self.runtime.addItems(["Automatic", "ONNX Runtime (CPU)", "torch"])
        self.runtime.setCurrentIndex(RUNTIMES.index(settings.runtime))
        self.runtime.setToolTip(
            "Automatic: ONNX Runtime on the CPU (faster there; text searches start without "
            "torch), torch on a GPU."
        )
        form.addRow("Runtime:", self.runtime)
        self.ocr = QComboBox()
        self.ocr.addItems(["Automatic (photos that look like text)", "Every photo", "Off"])
        self.ocr.setCurrentIndex(OCR_MODES.index(settings.ocr))
        self.ocr.setToolTip(
            "After indexing, read the words in photos (signs, receipts, screenshots, documents) so that\n"
            'text:"open 24 hours" finds them. Automatic reads the photos that look like text; every photo\n'
            "costs far more time. Offline: nothing is sent anywhere."
        )
        form.addRow("Read words:", self.ocr)
        self.watch = QCheckBox("Watch folders for changes")
        self.watch.setChecked(settings.watch)
        self.watch.setToolTip(
            "New, edited and deleted photos are indexed by themselves while photofinder runs."
        )
        form.addRow("", self.watch)
        self.thumb = QSpinBox()
        self.thumb.setRange(64, 512)
        self.thumb.setSingleStep(16)
        self.thumb.setSuffix(" px")
        self.thumb.setValue(settings.thumb_size)
        form.addRow("Thumbnail size:", self.thumb)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.model.setText(folder)

    def accept(self) -> None:
        self.settings.model = self.model.text().strip() or DEFAULT_MODEL
        self.settings.device = DEVICES[self.device.currentIndex()]
        self.settings.runtime = RUNTIMES[self.runtime.currentIndex()]
        self.settings.ocr = OCR_MODES[self.ocr.currentIndex()]
        self.settings.watch = self.watch.isChecked()
        self.settings.thumb_size = self.thumb.value()
        self.settings.sync()
        super().accept()


class SkippedDialog(QDialog):
    """The files indexing could not read, with the reason for each."""

    def __init__(self, skipped: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Skipped files ({len(skipped):,})")
        self.resize(760, 420)
        lay = QVBoxLayout(self)
        self.table = QTableWidget(len(skipped), 2)
        self.table.setHorizontalHeaderLabels(["File", "Reason"])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for i, (path, reason) in enumerate(skipped):
            self.table.setItem(i, 0, QTableWidgetItem(display_path(path)))
            self.table.setItem(i, 1, QTableWidgetItem(reason))
        lay.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


class DownloadDialog(QProgressDialog):
    """First-use model download: size, speed, cancel."""

    def __init__(self, model: str, parent: QWidget | None = None):
        super().__init__(f"Getting the model {model}…", "Cancel", 0, 0, parent)
        self.setWindowTitle("Preparing photofinder")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumDuration(400)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.model = model
        self._start: tuple[float, int] | None = None

    def update_bytes(self, done: int, total: int, now: float) -> None:
        if self._start is None:
            self._start = (now, done)
        t0, d0 = self._start
        speed = (done - d0) / (now - t0) if now > t0 else 0.0
        if total > 0:
            self.setRange(0, 1000)
            self.setValue(int(1000 * done / total))
        self.setLabelText(
            f"Downloading {self.model} (first use only)\n{done / 1e6:,.0f} of {total / 1e6:,.0f} MB"
            f" · {speed / 1e6:.1f} MB/s"
        )


class DownloadPrompt(QObject):
    """Shows a DownloadDialog while a model downloads; its Cancel stops the download."""

    def __init__(self, parent: QWidget, pool: EmbedderPool):
        super().__init__(parent)
        self._parent, self._pool = parent, pool
        self.dialog: DownloadDialog | None = None

    def progress(self, model: str, done: int, total: int) -> None:
        if self.dialog is None:
            self.dialog = DownloadDialog(model, self._parent)
            self.dialog.canceled.connect(self._cancel)
        self.dialog.update_bytes(done, total, time.monotonic())

    def _cancel(self) -> None:
        self._pool.cancel_downloads()
        self.close()

    def close(self) -> None:
        dialog, self.dialog = self.dialog, None  # closing it can re-enter here (it emits canceled)
        if dialog is not None:
            dialog.close()
            dialog.deleteLater()


def ask_for_model_folder(parent: QWidget, message: str) -> str | None:
    """Explain why the model is unavailable; let the user pick a local model folder. Returns it, or None."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Model not available")
    box.setText("photofinder needs its CLIP model, and could not get it.")
    box.setInformativeText(message)
    choose = box.addButton("Choose model folder…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.exec()
    if box.clickedButton() is not choose:
        return None
    folder = QFileDialog.getExistingDirectory(parent, "Choose a CLIP model folder")
    return folder or None


def show_about(parent: QWidget, data_dir: object) -> None:
    from photofinder import __version__

    QMessageBox.about(
        parent,
        "About photofinder",
        f"<b>photofinder {__version__}</b><p>Find photos by what is in them, on your own computer."
        f"<p>Data folder: {data_dir}",
    )


def confirm(parent: QWidget, title: str, text: str, act: str) -> bool:
    """Ask before something that can't be undone; Enter and Esc both keep things as they are.

    The safe button is the default: a user who presses Enter by habit destroys nothing.
    """
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton, parent)
    doit = box.addButton(act, QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.exec()
    return box.clickedButton() is doit
