"""Library → Find duplicates…: the groups of duplicate photos side by side, the suggested keeper marked, the
others checked; then the similar shots (bursts, brackets), nothing checked. The last unchecked photo of a group
can't be checked: one always stays. "Move checked to trash…" says per group what moves and what stays, asks,
then sends them to the system trash (never a delete), each checked on disk right before; any that changed stay.

The search for duplicates and the move to the trash run on a thread of their own (the first takes minutes on a
big library); thumbnails are read there too, as QImages, and become pixmaps here.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QLocale, QObject, Qt, QTime, Signal, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from photofinder.core.duplicates.finder import Group, Member, TrashReport, find_groups, trash
from photofinder.core.errors import PhotofinderError
from photofinder.core.paths import display_path
from photofinder.core.store.library import Library
from photofinder.gui.fileurls import shown_name
from photofinder.gui.window import dialogs
from photofinder.gui.workers.threads import new_thread

log = logging.getLogger(__name__)

THUMB = 160
SHOWN_GROUPS = 200  # more would make a very long page; the biggest groups come first
send_to_trash: Callable[[str], None] | None = (
    None  # None: the system trash (send2trash); tests put a fake here
)


def human_date(taken: str | None, mtime_ns: int) -> str:
    """The date a photo was taken (or else last changed), in the user's locale's short format, not ISO."""
    when = None
    if taken:
        try:
            when = datetime.datetime.fromisoformat(taken.replace("Z", "+00:00"))
        except ValueError:
            return taken  # a date the camera wrote its own way: shown as it is
    when = when or datetime.datetime.fromtimestamp(mtime_ns / 1e9)
    qdt = QDateTime(QDate(when.year, when.month, when.day), QTime(when.hour, when.minute))
    return QLocale().toString(qdt, QLocale.FormatType.ShortFormat)


class DuplicatesWorker(QObject):
    """On its own thread: finds the groups (with their thumbnails), and moves confirmed photos to the trash."""

    progress = Signal(str, int, int)
    found = Signal(object, object)  # [Group] (duplicates, then similar shots), {path: QImage}
    trashed = Signal(object)  # TrashReport
    failed = Signal(str)

    @Slot(object)
    def find(self, library: Library) -> None:
        try:
            with library.open_catalog() as c:
                found = find_groups(library, c, progress=self.progress.emit)
                groups = found.duplicates[:SHOWN_GROUPS]
                groups += found.similar[: max(0, SHOWN_GROUPS - len(groups))]
                images = self._thumbnails(library, c, [m for g in groups for m in g.members])
            self.found.emit(groups, images)
        except PhotofinderError as e:
            self.failed.emit(str(e))
        except Exception as e:
            log.exception("finding duplicates failed")
            self.failed.emit(f"Finding duplicates failed unexpectedly ({type(e).__name__}: {e}).")

    @staticmethod
    def _thumbnails(library: Library, catalog: Any, members: list[Member]) -> dict[str, QImage]:
        from photofinder.core.photos.thumbnails import load_thumbnail

        info = catalog.photos([m.id for m in members])
        images: dict[str, QImage] = {}
        for m in members:
            try:
                im = load_thumbnail(m.path, info[m.id][1], library.thumbs_dir, THUMB).convert("RGB")
            except Exception as e:  # noqa: BLE001 - a photo that can't be read shows without its picture
                log.info("no thumbnail for %s: %s", display_path(m.path), e)
                continue
            data = im.tobytes()
            images[m.path] = QImage(
                data, im.width, im.height, 3 * im.width, QImage.Format.Format_RGB888
            ).copy()
        return images

    @Slot(object, object, object)
    def trash(
        self, library: Library, plan: list[tuple[Group, list[Member]]], before: Callable[[], None]
    ) -> None:
        try:
            before()  # the folder watcher lets go of the library
            self.trashed.emit(trash(library, plan, send=send_to_trash))
        except PhotofinderError as e:
            self.failed.emit(str(e))
        except Exception as e:
            log.exception("moving duplicates to the trash failed")
            self.failed.emit(f"Moving to the trash failed unexpectedly ({type(e).__name__}: {e}).")


class MemberCard(QFrame):
    """One photo of a group: thumbnail, size, resolution, date, folder; a checkbox to move it to the trash."""

    def __init__(self, member: Member, keep: bool, image: QImage | None, group: Group | None = None):
        super().__init__()
        self.member = member
        self.group = group
        self.gone = False  # moved to the trash
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        pic = QLabel()
        pic.setFixedSize(THUMB, THUMB)
        pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if image is not None and not image.isNull():
            pic.setPixmap(QPixmap.fromImage(image))
        lay.addWidget(pic)
        size = f"{member.bytes / 1e6:.1f} MB" if member.bytes >= 100_000 else f"{member.bytes / 1e3:.0f} KB"
        res = f"{member.width} × {member.height}" if member.width and member.height else "size unknown"
        when = human_date(member.taken, member.mtime_ns)
        self.info = QLabel(
            f"<b>{shown_name(member.path)}</b><br>{size} · {res}<br>{when}<br>"
            f"<small>{display_path(member.folder)}</small>"
        )
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setWordWrap(True)
        self.info.setFixedWidth(THUMB + 40)
        lay.addWidget(self.info)
        self.keep = keep
        self.check = QCheckBox("Move to trash")
        similar = group is not None and group.similar
        self.check.setChecked(not keep and not similar and not member.link)
        if keep and not similar:
            self.setStyleSheet("MemberCard { border: 2px solid palette(highlight); }")
            self.info.setText("<b>Suggested to keep</b><br>" + self.info.text())
        if member.link:  # moving a link frees nothing, and its target may be the photo kept
            self.check.setEnabled(False)
            self.check.setText("A link: stays")
        lay.addWidget(self.check)


class DuplicatesDialog(QDialog):
    """The duplicates of the library shown; the app's library and grid follow what is moved to the trash."""

    _find = Signal(object)
    _trash = Signal(object, object, object)
    changed = Signal(int)  # photos moved to the trash

    def __init__(self, app: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.app = app
        self.library: Library | None = app.library
        self.setWindowTitle("Duplicates" + (f" in “{self.library.name}”" if self.library else ""))
        self.resize(980, 640)
        self.cards: list[MemberCard] = []
        self.groups: list[Group] = []
        lay = QVBoxLayout(self)
        self.label = QLabel("Looking for duplicates…")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.list = QWidget()
        self.rows = QVBoxLayout(self.list)
        self.rows.addStretch(1)
        self.area.setWidget(self.list)
        lay.addWidget(self.area, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.trash_button = QPushButton("Move checked to trash…")
        self.trash_button.setEnabled(False)
        self.trash_button.clicked.connect(self.move_checked_to_trash)
        buttons.addButton(self.trash_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self._thread = new_thread("duplicates")
        self._worker = DuplicatesWorker()
        self._worker.moveToThread(self._thread)
        self._find.connect(self._worker.find)
        self._trash.connect(self._worker.trash)
        self._worker.progress.connect(self._on_progress)
        self._worker.found.connect(self._on_found)
        self._worker.trashed.connect(self._on_trashed)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()
        self._resume = False
        app.libraries.libraryChanged.connect(
            self.close
        )  # another library shown, or this one renamed or removed
        if self.library is not None:
            self._find.emit(self.library)
        else:
            self._on_failed("Add a folder of photos first.")

    @Slot(str, int, int)
    def _on_progress(self, phase: str, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        unit = "photos" if phase == "comparing" else "pairs"  # the pixel checks and close looks go by pairs
        self.label.setText(f"Looking for duplicates: {phase} {done:,} of {total:,} {unit}…")

    @Slot(object, object)
    def _on_found(self, groups: list[Group], images: dict[str, QImage]) -> None:
        self.groups = groups
        self.bar.hide()
        dups = [g for g in groups if not g.similar]
        extra = sum(len(g.others) for g in dups)
        similar = len(groups) - len(dups)
        self.label.setText(
            (
                f"{len(dups):,} groups of duplicates, {extra:,} photos more than needed. The suggested "
                "keeper of each group is framed; the others are checked."
                if dups
                else "No duplicates in this library."
            )
            + (f" {similar:,} sets of similar shots below: none is checked." if similar else "")
        )
        for g in groups:
            box = QGroupBox(
                f"{len(g.members)} similar shots · pick the ones you don't want"
                if g.similar
                else f"{len(g.members)} copies" + (" · identical files" if g.exact else " · the same picture")
            )
            row = QHBoxLayout(box)
            for m in g.members:
                card = MemberCard(m, m is g.keep, images.get(m.path), g)
                card.check.toggled.connect(self._update_button)
                self.cards.append(card)
                row.addWidget(card)
            row.addStretch(1)
            self.rows.insertWidget(self.rows.count() - 1, box)
        self._update_button()

    def checked(self) -> list[str]:
        return [c.member.path for c in self.cards if c.check.isChecked() and not c.gone]

    def plan(self) -> list[tuple[Group, list[Member]]]:
        """What "Move checked to trash" would move, group by group."""
        out: dict[int, tuple[Group, list[Member]]] = {}
        for c in self.cards:
            if c.group is not None and c.check.isChecked() and not c.gone:
                out.setdefault(id(c.group), (c.group, []))[1].append(c.member)
        return list(out.values())

    def _guard_last(self) -> None:
        """In each group, the last photo not checked can't be checked: one always stays."""
        by_group: dict[int, list[MemberCard]] = {}
        for c in self.cards:
            if not c.gone and not c.member.link:  # a link staying is no photo kept: it may point at one moved
                by_group.setdefault(id(c.group), []).append(c)
        for cards in by_group.values():
            open_ = [c for c in cards if not c.check.isChecked()]
            for c in cards:
                last = not c.check.isChecked() and len(open_) == 1
                c.check.setEnabled(not last)
                c.check.setToolTip("One photo of each group stays" if last else "")

    def _update_button(self) -> None:
        self._guard_last()
        n = len(self.checked())
        self.trash_button.setEnabled(n > 0)
        self.trash_button.setText(f"Move {n:,} checked to trash…" if n else "Move checked to trash…")

    def confirmation(self, plan: list[tuple[Group, list[Member]]]) -> str:
        """What will move, group by group, and what stays of each."""
        n = sum(len(moves) for _, moves in plan)
        lines = [f"Move {n:,} photo{'s' if n != 1 else ''} to the trash?", ""]
        for i, (g, moves) in enumerate(plan):
            if i == 12:
                lines.append(f"… and {len(plan) - i:,} more groups")
                break
            picked = {m.id for m in moves}
            kept = [m for m in g.members if m.id not in picked]
            lines.append(
                f"{'Similar shots' if g.similar else 'Copies'}: moves "
                + ", ".join(shown_name(m.path) for m in moves)
                + "; keeps "
                + ", ".join(shown_name(m.path) for m in kept)
            )
        lines += [
            "",
            "Each is checked right before it moves: one that changed stays where it is. They can be "
            "restored from the system trash; photofinder forgets them.",
        ]
        return "\n".join(lines)

    def move_checked_to_trash(self) -> None:
        plan = self.plan()
        paths = [m.path for _, moves in plan for m in moves]
        if not paths or self.library is None:
            return
        if not dialogs.confirm(self, "Move to trash", self.confirmation(plan), "Move to trash"):
            return
        self.trash_button.setEnabled(False)
        self.label.setText(f"Moving {len(paths):,} photos to the trash…")
        stop = self.app.libraries.pause_watch()
        self._resume = True
        self._trash.emit(self.library, plan, stop)

    @Slot(object)
    def _on_trashed(self, report: TrashReport) -> None:
        self._resume_watch()
        gone = set(report.moved)
        for c in self.cards:
            if c.member.path in gone:
                c.gone = True
                c.setEnabled(False)
                c.check.setChecked(False)
                c.check.setText("In the trash")
        text = f"{len(report.moved):,} photos moved to the trash."
        if report.left:
            text += f" {len(report.left):,} left where they were:\n" + "\n".join(
                f"{shown_name(p)}: {why}" for p, why in report.left[:10]
            )
        self.label.setText(text)
        self._update_button()
        self.changed.emit(len(report.moved))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._resume_watch()
        self.bar.hide()
        self.label.setText(message)
        self._update_button()

    def _resume_watch(self) -> None:
        if self._resume:
            self._resume = False
            self.app.libraries.resume_watch()

    def done(self, result: int) -> None:
        self._thread.quit()
        self._thread.wait()  # a search for duplicates is read-only; waiting for it here is waiting for its end
        self._resume_watch()
        super().done(result)
