"""Starting the app: QApplication, logging to a file, a last-resort error dialog, and the screenshot mode."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from importlib import resources
from pathlib import Path

log = logging.getLogger("photofinder")


def setup_file_logging(data_dir: Path) -> Path:
    from logging.handlers import RotatingFileHandler

    class PrivateRotatingFileHandler(RotatingFileHandler):
        """The log names the user's photos and folders: readable by the user alone (0600), rotated files too."""

        def _open(self):  # type: ignore[no-untyped-def]
            fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            if os.name == "posix":
                os.fchmod(fd, 0o600)  # a log written 0644 by an earlier version
            return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)

    path = data_dir / "photofinder.log"
    # A name that is not UTF-8 in a message (ours or the core's) is escaped, not a "Logging error" traceback.
    handler = PrivateRotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=2, encoding="utf-8", errors="backslashreplace"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return path


def icon_path() -> Path:
    return Path(str(resources.files("photofinder.resources") / "photofinder.svg"))


def run_app(args: argparse.Namespace | None) -> int:
    if _no_display():
        if args is not None and args.screenshot:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
        else:
            print(
                "photofinder: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset). "
                "Over SSH, use the command line: photofinder --help",
                file=sys.stderr,
            )
            return 1
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from photofinder.core.paths import data_dir
    from photofinder.gui.crash import ErrorReporter
    from photofinder.gui.window.main_window import MainWindow
    from photofinder.gui.workers.threads import keep_the_window_responsive

    keep_the_window_responsive()
    data = data_dir()
    log_path = setup_file_logging(data)
    QCoreApplication.setApplicationName("photofinder")
    QCoreApplication.setOrganizationName("photofinder")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setWindowIcon(QIcon(str(icon_path())))
    app.setDesktopFileName("photofinder")
    sys.excepthook = ErrorReporter(log_path)
    window = MainWindow(data)
    if args is not None and args.library:
        if args.library not in window.app.store.names():
            print(f"photofinder: there is no library named {args.library!r}", file=sys.stderr)
            return 1
        window.app.libraries.select(args.library)
    if args is not None and args.screenshot:
        w, _, h = args.size.partition("x")
        window.remember_geometry = False
        window.resize(int(w), int(h))
        window.show()
        return take_screenshot(app, window, args.query, Path(args.screenshot))
    window.show()
    if args is not None and args.query:
        window.search_bar.edit.setText(args.query)
        window.search_bar.edit.returnPressed.emit()  # as typed: `-words` become chips
    window.raise_()
    window.search_bar.edit.setFocus(Qt.FocusReason.OtherFocusReason)
    return app.exec()


def _no_display() -> bool:
    """On Linux without X or Wayland Qt would abort (SIGABRT); say why instead."""
    return (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )


def take_screenshot(app, window, query: str | None, out: Path, timeout: float = 60.0) -> int:
    """Render the window (with `query`'s results and their thumbnails) to a PNG, then close it."""
    deadline = time.monotonic() + timeout

    def pump(until) -> None:
        while not until() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)

    pump(lambda: window.app.summary is not None or window.progress.isVisible())  # or a notice (damaged)
    if query:
        window.search_bar.edit.setText(query)
        window.search_bar.edit.returnPressed.emit()  # as typed: `-words` become chips
        pump(
            lambda: (
                window.app.query.last_request is not None
                and window.results.total > 0
                or window.pages.currentWidget() is window.message
                and "No " in window.message.text()
            )
        )
        pump(
            lambda: (
                window.results.total == 0
                or all(window.results.has_thumbnail(r) for r in window.view.visible_rows())
            )
        )
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    ok = window.grab().save(str(out), "PNG")
    window.close()
    if not ok:
        print(f"photofinder: could not write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0
