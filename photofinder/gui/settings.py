"""User settings that persist between runs, kept in the data directory (not the registry or ~/.config)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from ..core.embedder import DEFAULT_MODEL

DEVICES = ("auto", "cpu", "gpu")


class AppSettings:
    def __init__(self, data_dir: Path):
        self._s = QSettings(str(data_dir / "settings.ini"), QSettings.Format.IniFormat)

    def _get(self, key: str, default: str) -> str:
        v = self._s.value(key, default)
        return str(v) if v is not None else default

    @property
    def model(self) -> str:
        return self._get("model", DEFAULT_MODEL)

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
