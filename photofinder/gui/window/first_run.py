"""First run without a model: a welcome that says what the one-time download is, lets the user pick the model or
a local model folder before any folder is added, and checks a folder before it is kept as the model."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from photofinder.core.encode.menu import choices, recommended
from photofinder.core.encode.models import DEFAULT_MODEL, model_kind
from photofinder.core.errors import ModelUnavailableError

log = logging.getLogger(__name__)


def menu_items() -> list[tuple[str, str]]:
    """(hub id, what the user reads) for each model of the core's menu: the welcome and Settings show these."""
    items = []
    for c in choices():
        size = (
            f"about {c.download_mb / 1000:.1f} GB" if c.download_mb >= 1000 else f"about {c.download_mb} MB"
        )
        langs = "English only" if c.languages == "English only" else "many languages"
        mark = " (recommended)" if c.recommended else ""
        items.append((c.id, f"{c.name} — {langs}, {size}{mark}"))
    return items


def model_on_disk(ref: str) -> bool:
    """Whether the model can be loaded without a download: a local folder, or the hub id in the local cache."""
    if Path(ref).expanduser().is_dir():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(ref, "config.json"), str)
    except Exception:  # noqa: BLE001 - a malformed id or an odd cache: "not there", the download says why
        return False


def check_model_folder(folder: str) -> str | None:
    """Why `folder` can't be a CLIP or SigLIP model (one line), or None when it looks like one."""
    p = Path(folder).expanduser()
    if not p.is_dir():
        return f"{p} is not a folder."
    if not (p / "config.json").is_file():
        return f"{p.name} is not a model folder: it has no config.json."
    if not any(p.glob("*.safetensors")) and not (p / "pytorch_model.bin").is_file():
        return f"{p.name} has no model weights (a .safetensors file)."
    try:
        model_kind(str(p))
    except ModelUnavailableError as e:
        return str(e).replace(str(p), p.name)
    return None


def window_line(message: str) -> str:
    """A model problem as one line for the window: no command-line flag, no library's error text."""
    line = re.sub(r"\(--model /path/to/[\w-]+, or Settings > Model\)", "(Settings ▸ Model)", message)
    line = re.sub(r"could not be downloaded \([^)]*\)", "could not be downloaded", line)
    return line.splitlines()[0] if line else "The model is not available."


class Welcome(QFrame):
    """Shown above "Add a folder" while the model is not on this computer yet."""

    modelChosen = Signal(str)  # a hub id or a checked local folder

    def __init__(self, current: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMaximumWidth(620)
        lay = QVBoxLayout(self)
        title = QLabel("<b>First, the model that understands your photos</b>")
        text = QLabel(
            "photofinder uses a CLIP-family model to see what is in a photo. It is downloaded <b>once</b> from "
            "Hugging Face when you add your first folder (a few minutes on a good connection) and then "
            "works offline; your photos never leave this computer."
        )
        text.setWordWrap(True)
        self.models = QComboBox()
        self.models.setAccessibleName("Model to download")
        for ref, label in menu_items():
            self.models.addItem(label, ref)
        # the untouched default of a first run: the menu's recommended model, preselected
        i = self.models.findData(recommended().id if current == DEFAULT_MODEL else current)
        if i < 0 and not Path(current).expanduser().is_dir():
            self.models.addItem(current, current)
            i = self.models.count() - 1
        self.models.setCurrentIndex(max(0, i))
        self.models.activated.connect(lambda _: self.modelChosen.emit(self.models.currentData()))
        self.folder_button = QPushButton("Use a model folder…")
        self.folder_button.setToolTip(
            "A CLIP or SigLIP model already on this computer (a folder with config.json)"
        )
        self.folder_button.clicked.connect(self.choose_folder)
        row = QHBoxLayout()  # the model's whole label fits at 800x600 (beside the folder button it was cut)
        row.addWidget(QLabel("Model:"))
        row.addWidget(self.models, 1)
        below = QHBoxLayout()
        below.addStretch(1)
        below.addWidget(self.folder_button)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        for w in (title, text):
            lay.addWidget(w)
        lay.addLayout(row)
        lay.addLayout(below)
        lay.addWidget(self.problem, 0, Qt.AlignmentFlag.AlignLeft)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if not folder:
            return
        why = check_model_folder(folder)
        if why is not None:
            log.warning("model folder refused: %s", why)
            self.problem.setText(why + " Choose the folder that holds config.json and the weights.")
            return
        self.problem.setText(f"Using the model in {Path(folder).name}: nothing to download.")
        self.modelChosen.emit(folder)
