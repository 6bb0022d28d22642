"""Results the grid shows, made from catalog rows: the lists that need no vector (browsing within a filter, a
words-only search) and the details every result carries (date, size, words, place, where its words are)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import datetime

import numpy as np

from photofinder.core.find.results import QueryResults, SearchResult
from photofinder.core.store.catalog import Catalog


def by_words(catalog: Catalog, ranked: list[int], top: int) -> QueryResults:
    """Photos whose words match, in the order given (best match first), those still on disk."""
    info = catalog.photos(ranked[: top * 2])
    results = [
        SearchResult(i, info[i][0], None, info[i][1], good=True)
        for i in ranked[: top * 2]
        if i in info and os.path.exists(info[i][0])
    ][:top]
    return QueryResults(with_details(catalog, results), len(results), None)


def browse_filtered(catalog: Catalog, allowed: np.ndarray, top: int) -> QueryResults:
    """The newest `top` of the photos a filter allows (no query to match)."""
    info = catalog.details(allowed.tolist()) if len(allowed) <= 50_000 else {}
    if info:
        newest = sorted(info, key=lambda i: info[i][0] or iso(info[i][1]), reverse=True)[: top * 2]
    else:
        # ids grow as photos are indexed; the filter's scan may come back in path order
        newest = np.sort(allowed)[-top * 2 :].tolist()[::-1]
    paths = catalog.photos(newest)
    results = [
        SearchResult(i, paths[i][0], None, paths[i][1])
        for i in newest
        if i in paths and os.path.exists(paths[i][0])
    ][:top]
    return QueryResults(with_details(catalog, results), 0, None, judged=False)


def with_details(catalog: Catalog, results: list[SearchResult]) -> list[SearchResult]:
    """The results with what the grid and the details show: date taken, size, words, place."""
    info = catalog.details(r.id for r in results)
    extra = catalog.words_and_places(r.id for r in results)
    out = []
    for r in results:
        d = info.get(r.id)
        r = replace(r, taken=d[0] or iso(d[1]), size=d[2], width=d[3], height=d[4]) if d else r
        w = extra.get(r.id)
        if w:
            gps = (w[2], w[3]) if w[2] is not None and w[3] is not None else None
            r = replace(r, words=w[0] or None, place=w[1], gps=gps)
        out.append(r)
    return out


def word_boxes(catalog: Catalog, content_hash: str | None, lines: tuple[str, ...]) -> tuple:
    """Where `lines` of a photo's words are: (x0, y0, x1, y1) as fractions of the upright photo."""
    stored = catalog.words_boxes(content_hash) if content_hash and lines else None
    if not stored:
        return ()
    try:
        boxes = json.loads(stored[1])
    except ValueError:
        return ()
    return tuple(tuple(float(v) for v in b[:4]) for b in boxes if len(b) == 5 and b[4] in lines)


def iso(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9).isoformat(timespec="seconds")
