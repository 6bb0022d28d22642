"""User settings that persist between runs, kept in the data directory (not the registry or ~/.config)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

from photofinder.core.encode.torch_encoder import DEFAULT_MODEL

DEVICES = ("auto", "cpu", "gpu")
RUNTIMES = ("auto", "onnx", "torch")  # the order of the Settings dialog's choices
OCR_MODES = ("auto", "all", "off")  # the words pass (core.wordpass); the order of the dialog's choices


class AppSettings:
    def __init__(self, data_dir: Path):
        path = data_dir / "settings.ini"
        _private_file(path)  # Qt keeps an existing file's mode when it saves: 0600, as the README promises
        self._s = QSettings(str(path), QSettings.Format.IniFormat)

    def _get(self, key: str, default: str) -> str:
        v = self._s.value(key, default)
        return str(v) if v is not None else default

    @property
    def model(self) -> str:
        return self._get("model", DEFAULT_MODEL)

    def has_model(self) -> bool:
        """Whether a model was ever chosen (else `model` is the default of libraries made before the menu)."""
        return bool(self._s.contains("model"))

    @model.setter
    def model(self, value: str) -> None:
        self._s.setValue("model", value)

    @property
    def device(self) -> str:
        d = self._get("device", "auto")
        return d if d in DEVICES else "auto"

    @device.setter
    def device(self, value: str) -> None:
        self._s.setValue("device", value)

    @property
    def runtime(self) -> str:
        """What encodes: "auto" (ONNX Runtime on a CPU, torch on a GPU), "onnx" or "torch"."""
        r = self._get("runtime", "auto")
        return r if r in RUNTIMES else "auto"

    @runtime.setter
    def runtime(self, value: str) -> None:
        self._s.setValue("runtime", value)

    @property
    def ocr(self) -> str:
        """Which photos the words pass reads after indexing: "auto" (those that look like text), "all", "off"."""
        v = self._get("ocr", "auto")
        return v if v in OCR_MODES else "auto"

    @ocr.setter
    def ocr(self, value: str) -> None:
        self._s.setValue("ocr", value)

    @property
    def watch(self) -> bool:
        """Whether the selected library follows its folders while the app runs (new photos appear by themselves)."""
        return self._get("watch", "true").lower() in ("true", "1")

    @watch.setter
    def watch(self, value: bool) -> None:
        self._s.setValue("watch", "true" if value else "false")

    @property
    def hide_duplicates(self) -> bool:
        """Whether results show one tile per group of duplicates (View → Hide duplicates)."""
        return self._get("hide_duplicates", "false").lower() in ("true", "1")

    @hide_duplicates.setter
    def hide_duplicates(self, value: bool) -> None:
        self._s.setValue("hide_duplicates", "true" if value else "false")

    @property
    def thumb_size(self) -> int:
        try:
            return max(64, min(512, int(self._get("thumb_size", "160"))))
        except ValueError:
            return 160

    @thumb_size.setter
    def thumb_size(self, value: int) -> None:
        self._s.setValue("thumb_size", int(value))

    @property
    def last_library(self) -> str | None:
        v = self._get("last_library", "")
        return v or None

    @last_library.setter
    def last_library(self, value: str) -> None:
        self._s.setValue("last_library", value)

    @property
    def geometry(self) -> bytes | None:
        v = self._s.value("window/geometry")
        return bytes(v) if v else None

    @geometry.setter
    def geometry(self, value: bytes) -> None:
        self._s.setValue("window/geometry", value)

    def sync(self) -> None:
        self._s.sync()


def _private_file(path: Path) -> None:
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        if os.name == "posix" and path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError:  # a read-only data dir: the settings stay as they are
        pass
