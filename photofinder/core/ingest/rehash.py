"""Libraries upgraded from schema 1 earn their identities again: each row's old partial fingerprint (size + first
and last 64 KiB, which four scanned pages of one size can share) is replaced by the whole file's SHA-256 before
any hash is used to reuse a vector or to call two files identical.

Run once, at the start of the first index run after the upgrade (about 2 ms a 3.5 MB photo, reading it all); a
file changed or unreadable since gets no identity (its row is re-read by the run if it changed).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from photofinder.core.photos.scanner import content_hash
from photofinder.core.photos.thumbnails import thumb_path
from photofinder.core.store.catalog import Catalog

log = logging.getLogger(__name__)

BATCH = 500


def rehash_legacy(
    catalog: Catalog,
    thumbs_dir: Path | None,
    notify: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Replace every old partial fingerprint of the live catalog by a whole-file hash; returns how many rows."""
    rows = catalog.legacy_rows()
    if not rows:
        catalog.replace_hashes({}, done=True)
        return 0
    log.info("re-hashing %d photos indexed by an older photofinder (whole files this time)", len(rows))
    shared = Counter(r[4] for r in rows)
    batch: dict[int, str | None] = {}
    for n, (pid, path, size, mtime_ns, old) in enumerate(rows, 1):
        if cancelled is not None and cancelled():
            catalog.replace_hashes(batch, done=False)
            return n - 1
        batch[pid] = new = _whole_hash(path, size, mtime_ns)
        if thumbs_dir is not None:
            _move_thumbnail(thumbs_dir, old, new if shared[old] == 1 else None)
        if len(batch) >= BATCH:
            catalog.replace_hashes(batch, done=False)
            batch = {}
        if notify is not None:
            notify(n, len(rows), path)
    catalog.replace_hashes(batch, done=True)
    return len(rows)


def _whole_hash(path: str, size: int, mtime_ns: int) -> str | None:
    """The file's SHA-256, if it is still the file the row describes (same size and time)."""
    try:
        st = os.stat(path)
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
            return None
        h = content_hash(path)
        st = os.stat(path)
        return h if (st.st_size, st.st_mtime_ns) == (size, mtime_ns) else None
    except OSError:
        return None


def _move_thumbnail(thumbs_dir: Path, old: str, new: str | None) -> None:
    """The cached thumbnail follows the new key (the same file: the same picture); one whose old key several
    files shared may show another of them, and goes (it is made again from the file)."""
    src = thumb_path(thumbs_dir, old)
    try:
        if new is None:
            src.unlink(missing_ok=True)
            return
        dst = thumb_path(thumbs_dir, new)
        if src.exists() and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
    except OSError as e:
        log.debug("thumbnail of %s not moved: %s", old, e)
