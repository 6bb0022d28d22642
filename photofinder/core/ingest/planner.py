"""Deciding what an index run has to do: which photos are new, changed, gone, missing or worth another try.

Nothing here decodes or encodes; it only scans folders and compares them with the catalog. The rules that keep
a user's index safe live here:
- a folder that is gone, unreadable, suddenly empty, or now on another device (an unplugged drive, an
  unmounted NAS share) is *missing*, not emptied: its photos are kept until it is back;
- files under a subfolder that could not be read are not known to be gone, so they are kept too;
- a folder inside another folder of the library is merged into it, so every file is counted once;
- a photo skipped for a passing reason (vanished, permission denied, still being written) is tried again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from photofinder.core.gcpause import collector_paused
from photofinder.core.photos.formats import is_photo_name
from photofinder.core.photos.scanner import SKIP_DIRS, FileInfo, scan
from photofinder.core.store.catalog import Catalog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class Plan:
    work: list[FileInfo] = field(default_factory=list)  # new, changed and retried files, in scan order
    changed: dict[str, str | None] = field(default_factory=dict)  # known path -> the content hash it had
    removed: list[int] = field(default_factory=list)  # catalog ids of files that are gone
    unchanged: int = 0
    scan_errors: list[SkippedFile] = field(default_factory=list)
    missing_folders: list[SkippedFile] = field(default_factory=list)


def nested_folders(folders: list[str]) -> dict[str, str]:
    """{folder: the library folder that already contains it} for folders inside another one."""
    out: dict[str, str] = {}
    for f in sorted(folders, key=len):
        for top in folders:
            if top != f and f.startswith(top.rstrip(os.sep) + os.sep) and top not in out:
                out[f] = top
                break
    return out


def normalise_folders(catalog: Catalog) -> list[str]:
    """Merge folders that lie inside another folder of the library into it; returns the top-level folders."""
    for child, parent in nested_folders(catalog.folders()).items():
        log.info("folder %s lies inside %s: merged into it", child, parent)
        catalog.merge_folder(child, parent)
    return catalog.folders()


def plan(
    catalog: Catalog,
    progress: Callable[[int, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Plan:
    """Scan every folder of the library and compare with the catalog.

    Changes nothing but folder merges, and the stored photo counts should they have drifted from the rows.
    """
    catalog.check_counts()
    result = Plan()
    found_total = 0
    for folder in normalise_folders(catalog):
        if should_stop is not None and should_stop():
            break
        try:
            st = os.stat(folder)
            usable = os.path.isdir(folder) and os.access(folder, os.R_OK | os.X_OK)
        except OSError:
            st, usable = None, False
        if st is None or not usable:
            # An unplugged drive is not a deletion: keep its photos until it comes back.
            reason = "not found" if st is None else "can't be read"
            result.missing_folders.append(SkippedFile(folder, reason))
            continue
        # One indexed read of what the catalog holds, keyed by the stored bytes; one walk of the folder. No SQL
        # per file: a rescan of a million unchanged files is the walk's stat calls and a dict lookup each.
        errors: list[SkippedFile] = []
        found = 0
        work: list[FileInfo] = []
        changed: list[str] = []
        unchanged = 0
        on_error = lambda p, r, errors=errors: errors.append(SkippedFile(p, r))  # noqa: E731
        fsencode = os.fsencode
        with collector_paused():  # a million stamps made and dropped: no full collection pass over them
            known = catalog.file_stamps(folder)
            known_count = len(known)
            for info in scan(folder, on_error, should_stop):
                found += 1
                k = known.pop(fsencode(info.path), None)  # what is left at the end is gone
                if k is not None and k[0] == info.size and k[1] == info.mtime_ns and not k[2]:
                    unchanged += 1
                else:
                    work.append(info)
                    if k is not None:
                        changed.append(info.path)
                found_total += 1
                if progress is not None and found_total % 500 == 0:
                    progress(found_total, info.path)
        if should_stop is not None and should_stop():
            break
        gone = [(os.fsdecode(p), k[3]) for p, k in known.items()]
        why_missing = _looks_unmounted(catalog, folder, st.st_dev, known_count, found, len(gone))
        if why_missing:
            result.missing_folders.append(SkippedFile(folder, why_missing))
            continue
        if found:
            catalog.set_folder_device(folder, st.st_dev)
        result.work += work
        result.changed.update(catalog.hashes_for_paths(changed))
        result.unchanged += unchanged
        result.scan_errors += errors
        # Files under a subfolder that could not be read are not known to be gone: keep them. (A link that is
        # deliberately not followed is no such guard.)
        unreadable = tuple(e.path + os.sep for e in errors if not e.reason.startswith("a link to the folder"))
        result.removed += [i for p, i in gone if not (unreadable and p.startswith(unreadable))]
    return result


def plan_paths(
    catalog: Catalog, paths: Iterable[str], should_stop: Callable[[], bool] | None = None
) -> Plan | None:
    """Compare only `paths` (files and folders a watcher saw change) with the catalog: the work one event makes
    is that file's, or that folder's when a folder was added, moved or deleted, never the library's.

    Returns None when only a full `plan` will do: a library folder itself changed (unplugged, back, replaced).
    A path under no library folder is ignored. The same rules as `plan` keep photos: a library folder that is
    gone is missing (its photos kept), and files under a subfolder that could not be read are not gone.
    """
    folders = normalise_folders(catalog)
    tops = sorted(folders, key=len, reverse=True)
    by_top: dict[str, list[str]] = {}
    for p in sorted(set(paths)):
        top = next((f for f in tops if p == f or p.startswith(f.rstrip(os.sep) + os.sep)), None)
        if top is None:
            continue
        if p == top:
            return None
        mine = by_top.setdefault(top, [])
        if mine and p.startswith(mine[-1].rstrip(os.sep) + os.sep):
            continue  # under a folder already in the list (sorted: a parent comes first)
        mine.append(p)
    result = Plan()
    for top, scope in by_top.items():
        if should_stop is not None and should_stop():
            break
        if not (os.path.isdir(top) and os.access(top, os.R_OK | os.X_OK)):
            result.missing_folders.append(
                SkippedFile(top, "not found" if not os.path.exists(top) else "can't be read")
            )
            continue
        changed: list[str] = []
        for p in scope:
            known = catalog.stamps_under(top, p)
            errors: list[SkippedFile] = []
            for info in _found_under(top, p, errors, should_stop):
                k = known.pop(os.fsencode(info.path), None)
                if k is not None and k[0] == info.size and k[1] == info.mtime_ns and not k[2]:
                    result.unchanged += 1
                else:
                    result.work.append(info)
                    if k is not None:
                        changed.append(info.path)
            result.scan_errors += errors
            unreadable = tuple(
                e.path + os.sep for e in errors if not e.reason.startswith("a link to the folder")
            )
            gone = [(os.fsdecode(q), k[3]) for q, k in known.items()]
            result.removed += [i for q, i in gone if not (unreadable and q.startswith(unreadable))]
        result.changed.update(catalog.hashes_for_paths(changed))
    return result


def _found_under(
    top: str, path: str, errors: list[SkippedFile], should_stop: Callable[[], bool] | None
) -> Iterator[FileInfo]:
    """The photos at `path` (a file, or a folder walked as `scan` walks) as found under library folder `top`;
    nothing for a path in a hidden or skipped folder, or one that is gone."""
    parts = os.path.relpath(path, top).split(os.sep)
    if any(part.startswith(".") for part in parts) or any(part in SKIP_DIRS for part in parts[:-1]):
        return
    try:
        st = os.stat(path)
    except OSError:
        return
    if os.path.isdir(path) and not os.path.islink(path):
        if parts[-1] in SKIP_DIRS:
            return
        on_error = lambda q, r: errors.append(SkippedFile(q, r))  # noqa: E731
        for info in scan(path, on_error, should_stop):
            yield FileInfo(info.path, top, info.size, info.mtime_ns)
    elif is_photo_name(parts[-1]) and os.path.isfile(path):
        yield FileInfo(path, top, st.st_size, st.st_mtime_ns)


def _looks_unmounted(
    catalog: Catalog, folder: str, dev: int, known: int, found: int, gone: int
) -> str | None:
    """Why a folder that exists should still count as missing (its drive is away), or None."""
    if known and not found:
        return "empty now (a drive or share that is not mounted?)"
    stored = catalog.folder_device(folder)
    if stored is not None and stored != dev and gone * 2 > known:
        return "on another device than before, with most photos gone (a drive that is not mounted?)"
    return None
