"""`photofinder install-desktop`: a freedesktop menu entry and icons for the current user (Linux, BSD)."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from importlib import resources
from pathlib import Path

from photofinder.core.errors import PhotofinderError


def install_desktop_entry(data_home: Path | None = None) -> list[Path]:
    """Write the .desktop file and icons under $XDG_DATA_HOME; returns the files written."""
    if sys.platform in ("win32", "darwin"):
        raise PhotofinderError(
            "install-desktop is for Linux desktops. On Windows, launch photofinder-gui (Start menu or a shortcut); "
            "on macOS build the app bundle described in packaging/README.md."
        )
    home = data_home or Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    res = resources.files("photofinder.resources")
    written: list[Path] = []
    apps = home / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    # Exec names this very interpreter, so the entry works whatever PATH the desktop session has.
    exec_line = f"{shlex.quote(sys.executable)} -m photofinder gui"
    entry = (
        (res / "photofinder.desktop")
        .read_text(encoding="utf-8")
        .replace("Exec=photofinder gui", f"Exec={exec_line}")
    )
    target = apps / "photofinder.desktop"
    target.write_text(entry, encoding="utf-8")
    target.chmod(0o755)
    written.append(target)
    icons = home / "icons" / "hicolor"
    for size in (16, 32, 48, 64, 128, 256):
        d = icons / f"{size}x{size}" / "apps"
        d.mkdir(parents=True, exist_ok=True)
        with resources.as_file(res / f"photofinder-{size}.png") as src:
            shutil.copyfile(src, d / "photofinder.png")
        written.append(d / "photofinder.png")
    d = icons / "scalable" / "apps"
    d.mkdir(parents=True, exist_ok=True)
    with resources.as_file(res / "photofinder.svg") as src:
        shutil.copyfile(src, d / "photofinder.svg")
    written.append(d / "photofinder.svg")
    return written
