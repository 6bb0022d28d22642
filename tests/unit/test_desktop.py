"""`photofinder install-desktop` puts a launcher and icons where freedesktop menus look for them."""

from __future__ import annotations

import configparser
import sys

import pytest

from photofinder.desktop import install_desktop_entry


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="freedesktop only")
def test_installs_entry_and_icons_for_the_user(tmp_path):
    written = install_desktop_entry(tmp_path)
    entry = tmp_path / "applications" / "photofinder.desktop"
    assert entry in written
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(entry)
    d = cfg["Desktop Entry"]
    assert d["Type"] == "Application" and d["Icon"] == "photofinder" and d["Terminal"] == "false"
    assert d["Exec"].startswith(sys.executable) and d["Exec"].endswith("-m photofinder gui")
    for size in (16, 48, 256):
        png = tmp_path / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "photofinder.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "photofinder.svg").exists()
