"""Photo paths at the edge of Qt: file URLs built from the exact bytes, and names fit to show.

A path is a `str` that may hold surrogate escapes (a name that is not UTF-8, e.g. b"caf\\xe9.jpg"). Qt's
`QUrl.fromLocalFile` and `toLocalFile` go through UTF-16 and lose such a name, and a label silently drops the
escapes, so every URL handed to the desktop (open, show in folder, copy, drag out) is made here from the bytes,
every dropped URL is read back to the bytes here, and every name shown goes through `display_path`.
"""

from __future__ import annotations

import os
import urllib.parse

from PySide6.QtCore import QBuffer, QByteArray, QMimeData, QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QImageReader

from photofinder.core.paths import display_path


def file_url(path: str) -> QUrl:
    """A file:// URL naming exactly the file `path` names (the bytes percent-encoded, not re-encoded text)."""
    raw = os.fsencode(os.path.abspath(path))
    return QUrl.fromEncoded(b"file://" + urllib.parse.quote(raw, safe="/").encode("ascii"))


def local_path(url: QUrl) -> str | None:
    """The exact local path a file URL names (as the OS would give it to us), or None for other URLs."""
    if not url.isLocalFile():
        return None
    encoded = url.path(QUrl.ComponentFormattingOption.FullyEncoded)
    return os.fsdecode(urllib.parse.unquote_to_bytes(encoded))


def shown_name(path: str) -> str:
    """The file's name as a person should see it (never an escape such as \\udce9)."""
    return display_path(os.path.basename(path))


def open_paths(paths: list[str]) -> None:
    """Open photos in the desktop's viewer (at most 20: a slip of Ctrl+A must not open thousands of windows)."""
    for p in paths[:20]:
        QDesktopServices.openUrl(file_url(p))


def show_in_folder(path: str) -> None:
    QDesktopServices.openUrl(file_url(os.path.dirname(path)))


def copy_paths(paths: list[str]) -> None:
    """Copied as text (readable) and as file URLs (exact: pasted into a file manager, it is the real file)."""
    md = QMimeData()
    md.setUrls([file_url(p) for p in paths])
    md.setText("\n".join(display_path(p) for p in paths))
    QGuiApplication.clipboard().setMimeData(md)
    _hand_over_at_exit()


_HANDOVER = False


def _hand_over_at_exit() -> None:
    """Before the process ends, swap our QMimeData for text Qt owns itself.

    With a QMimeData made in Python still on the clipboard, PySide 6.12 crashes while the interpreter shuts down
    (segmentation fault after the app closed, seen offscreen; also on the test runner's exit). The copied text
    stays on the clipboard for a clipboard manager to keep.
    """
    global _HANDOVER
    if _HANDOVER:
        return
    _HANDOVER = True
    import atexit

    def hand_over() -> None:
        if QGuiApplication.instance() is not None:
            cb = QGuiApplication.clipboard()
            if cb.ownsClipboard() or cb.mimeData() is not None:
                cb.setText(cb.text())

    atexit.register(hand_over)


def read_image(path: str, side: int) -> QImage:
    """The picture at `path`, upright, no larger than `side` (JPEGs decode scaled); a null QImage if unreadable.

    Read by Python, which opens any name (Qt can't open one that is not UTF-8).
    """
    try:
        with open(path, "rb") as f:
            data = QByteArray(f.read())
    except OSError:
        return QImage()
    buffer = QBuffer(data)  # kept in a name: the reader does not own it, and a temporary is freed under it
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > side:
        reader.setScaledSize(size.scaled(QSize(side, side), Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()
