"""Browsing a whole library page by page, newest first, with a keyset query (cheap at any depth).

TODO(core): this reads `Catalog._db` because the core has no paged listing yet. Replace `browse_page` with
`Catalog.recent_page(after, limit)` once it exists (see the GUI report for issue 13), and drop this module.
"""

from __future__ import annotations

import os
from typing import Any

from ..core.catalog import Catalog
from ..core.search import SearchResult

PAGE = 500  # photos per browse page
BrowseKey = tuple[int, str, int, int]  # (taken is null, taken or "", mtime_ns, id): where a page ended

# The same order as Catalog.recent (date taken, then file time), with the id to break ties.
_PAGE_SQL = """
SELECT id, path, hash, (taken IS NULL), coalesce(taken, ''), mtime_ns FROM photos
WHERE status = 'indexed' {after}
ORDER BY taken IS NULL, coalesce(taken, '') DESC, mtime_ns DESC, id DESC LIMIT ?
"""
# (taken IS NULL) in brackets: SQLite would read `taken IS NULL > ?` as `taken IS (NULL > ?)`.
_AFTER = ("AND ((taken IS NULL) > ? OR ((taken IS NULL) = ? AND (coalesce(taken, '') < ? OR (coalesce(taken, '') = ?"
          " AND (mtime_ns < ? OR (mtime_ns = ? AND id < ?))))))")


def browse_page(catalog: Catalog, after: BrowseKey | None, limit: int = PAGE
                ) -> tuple[list[SearchResult], BrowseKey | None]:
    """One page of the library's photos after `after`, and the key to ask for the next (None at the end).

    Photos deleted since they were indexed are left out (never a dead tile), but still move the key on.
    """
    db: Any = catalog._db
    if after is None:
        rows = db.execute(_PAGE_SQL.format(after=""), (limit,)).fetchall()
    else:
        n, t, m, i = after
        rows = db.execute(_PAGE_SQL.format(after=_AFTER), (n, n, t, t, m, m, i, limit)).fetchall()
    found = [SearchResult(r[0], r[1], None, r[2]) for r in rows if os.path.exists(r[1])]
    last = rows[-1] if rows else None
    key = (int(last[3]), str(last[4]), int(last[5]), int(last[0])) if last is not None and len(rows) == limit \
        else None
    return found, key
