"""Issue 17: the app's log and settings.ini name the user's photos and folders: 0600, as the README promises."""

from __future__ import annotations

import logging


def test_the_log_and_the_settings_are_private(data_dir):
    from photofinder.gui.app import setup_file_logging
    from photofinder.gui.settings import AppSettings

    mode = lambda p: p.stat().st_mode & 0o777  # noqa: E731
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    log_path = setup_file_logging(data_dir)
    try:
        logging.getLogger("photofinder").info("a line naming a photo")
    finally:
        for h in root.handlers[:]:
            if h not in handlers:
                root.removeHandler(h)
                h.close()
        root.setLevel(level)
    assert mode(log_path) == 0o600 and "naming a photo" in log_path.read_text()
    s = AppSettings(data_dir)
    s.model = "/some/model"
    s._s.sync()
    assert mode(data_dir / "settings.ini") == 0o600
    assert "/some/model" in (data_dir / "settings.ini").read_text()
