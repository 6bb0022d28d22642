"""Sending chosen duplicates to the system trash, each file checked on disk right before (file_check.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from photofinder.core.duplicates.file_check import check_file
from photofinder.core.duplicates.members import Group, Member
from photofinder.core.store.library import Library

log = logging.getLogger(__name__)


@dataclass
class TrashReport:
    moved: list[str]
    left: list[tuple[str, str]]  # (path, why it stayed): one line each for the user


def trash(
    library: Library,
    choices: Iterable[tuple[Group, Iterable[Member]]],
    send: Callable[[str], None] | None = None,
) -> TrashReport:
    """Send the chosen members of each group to the system trash, each checked on disk right before, then forget
    those moved.

    A file moves only if, at that moment, it is a regular file reached without a symbolic link, inside the
    library's folders, with the size, time and whole-file hash its group was judged on; and a member of its
    group that stays is there with its own hash. A group is never emptied. Anything else stays where it is and
    is reported. Never a permanent delete: without a trash (send2trash missing, a trash-less drive) a photo stays
    put.
    """
    if send is None:
        from send2trash import send2trash as send  # type: ignore[no-redef]
    report = TrashReport([], [])
    with library.lock(), library.open_catalog() as catalog:
        roots = catalog.folders()
        index = library.load_vectors(catalog, save=False)
        ids = []
        for group, chosen in choices:
            picked = {m.id for m in chosen}
            victims = [m for m in group.members if m.id in picked]
            kept = [m for m in group.members if m.id not in picked]
            if not kept:
                report.left += [
                    (m.path, "every photo of its group was chosen: one must stay") for m in victims
                ]
                continue
            # The keeper first: the one suggested if it stays, else whichever stays.
            kept.sort(key=lambda m: m is not group.keep)
            for m in victims:
                why = _why_kept_fails(kept, roots)
                if why is None:
                    why = check_file(m.path, roots, m.bytes, m.mtime_ns, m.hash)
                if why is None and catalog.embedding_for_path(m.path) is None:
                    why = "not a photo of this library any more"
                if why is not None:
                    report.left.append((m.path, why))
                    log.warning("not trashed: %s: %s", m.path, why)
                    continue
                try:
                    send(m.path)
                except Exception as e:  # noqa: BLE001 - any trash failure leaves the photo where it was
                    report.left.append((m.path, f"could not move it to the trash: {e}"[:300]))
                    log.warning("could not move %s to the trash: %s", m.path, e)
                    continue
                ids.append(m.id)
                report.moved.append(m.path)
        hashes = catalog.delete(ids)
        index.remove(np.array(ids, np.int64))
        library.save_vectors(index, catalog)
        library.drop_thumbnails(catalog, hashes)
    return report


def _why_kept_fails(kept: list[Member], roots: list[str]) -> str | None:
    """None when a photo of the group that stays is on disk as judged; else why none is."""
    reasons = []
    for k in kept:
        why = check_file(k.path, roots, k.bytes, k.mtime_ns, k.hash)
        if why is None:
            return None
        reasons.append(why)
    return f"the copy that would stay, {kept[0].path}, is not there as it was ({reasons[0]})"
