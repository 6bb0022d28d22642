"""Browsing a whole library page by page, newest first (the core's keyset query: cheap at any depth)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime

from photofinder.core.find.search import SearchResult
from photofinder.core.store.catalog import Catalog, PageKey

PAGE = 500  # photos per browse page
BrowseKey = PageKey


def browse_page(
    catalog: Catalog, after: BrowseKey | None, limit: int = PAGE
) -> tuple[list[SearchResult], BrowseKey | None]:
    """One page of the library's photos after `after`, and the key to ask for the next (None at the end).

    Photos deleted since they were indexed are left out (never a dead tile), but still move the key on.
    """
    rows, key = catalog.recent_page(after, limit)
    info = catalog.details(i for i, _, _ in rows)  # what a tile's tooltip and the details line show
    extra = catalog.words_and_places(i for i, _, _ in rows)
    results = []
    for i, p, h in rows:
        if os.path.exists(p):
            d = info.get(i)
            taken = d and (d[0] or datetime.fromtimestamp(d[1] / 1e9).isoformat(timespec="seconds"))
            r = SearchResult(i, p, None, h, None, taken, *d[2:]) if d else SearchResult(i, p, None, h)
            w = extra.get(i)
            if w and (w[0] or w[1]):
                r = replace(r, words=w[0] or None, place=w[1])
            results.append(r)
    return results, key
