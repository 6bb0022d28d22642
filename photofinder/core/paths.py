"""Where photofinder keeps its own files (never next to the user's photos)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "photofinder"


def data_dir() -> Path:
    """The app's data directory: PHOTOFINDER_DATA_DIR if set (tests, portable installs), else the platform's."""
    override = os.environ.get("PHOTOFINDER_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path
