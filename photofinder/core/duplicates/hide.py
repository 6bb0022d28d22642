"""Results with their duplicates hidden: one result per group of copies, carrying the copies it stands for.

The groups are found among the results themselves, with the tests `find_duplicates` uses, so the cost follows
the page (a few hundred results), never the library:

1. the same whole-file content hash (here and on every page shown before);
2. vectors within CANDIDATE_SCORE of each other (all pairs of the page, and the page against the last
   WINDOW results already shown), and a RAW file and a JPEG of the same name in the same folder, each pair
   confirmed by the same pixel rule (likeness.py). Its verdicts are kept by content hash, so a query run
   again, or a page scrolled back to, checks nothing twice.

Pages (browsing a library) stay consistent: a photo of a group already shown never becomes a tile of its own
later; it joins that tile, whose copies grow (`Collapsed.grown`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from photofinder.core.duplicates.finder import CANDIDATE_SCORE
from photofinder.core.duplicates.likeness import compare
from photofinder.core.duplicates.members import WHOLE_HASH, read_members, shot_key, suggest_keep
from photofinder.core.duplicates.signatures import Signatures
from photofinder.core.find.search import SearchResult
from photofinder.core.store.catalog import Catalog
from photofinder.core.store.library import Library

log = logging.getLogger(__name__)

WINDOW = 10_000  # results already shown that a new page is compared with (a near-copy further back is not)
CHECKS = 400  # pixel checks at most per page (the likeliest pairs first): bounds a page of look-alikes
SIGNATURES = 300  # pixel signatures kept (147 KB each)


@dataclass(frozen=True)
class Collapsed:
    """A page with its duplicates hidden."""

    results: list[SearchResult]  # one per group, where its best-ranked member was; `.duplicates` the others
    grown: list[SearchResult]  # results of earlier pages that took in photos of this one (their new version)
    hidden: int  # photos of this page folded into a result


class DuplicateCollapser:
    """Hides duplicates among results, page after page. Uses `catalog` (vectors, details): one thread."""

    def __init__(self, library: Library, catalog: Catalog):
        self.library, self.catalog = library, catalog
        self._signatures = Signatures(library, keep=SIGNATURES)
        self._verdicts: dict[tuple[str, str], bool] = {}  # (hash, hash), sorted: the same picture or not
        self.start_over()

    def start_over(self) -> None:
        """Forget the pages shown (a new query, or browsing from the top); the pixel verdicts stay."""
        self._tiles: dict[int, SearchResult] = {}  # result id shown -> its current version
        self._tile_of: dict[int, int] = {}  # every result seen -> the id of the result that shows it
        self._by_hash: dict[str, int] = {}
        self._by_name: dict[tuple[str, str], list[tuple[int, bool]]] = {}  # (folder, stem) -> [(id, raw)]
        self._seen_ids = np.empty(0, np.int64)
        self._seen_vectors: np.ndarray | None = None
        self._seen: dict[int, SearchResult] = {}

    def collapse(self, results: list[SearchResult]) -> Collapsed:
        """A first page (or a query's whole answer): what was shown before is forgotten."""
        self.start_over()
        return self.more(results)

    def more(self, results: list[SearchResult]) -> Collapsed:
        """The next page of what `collapse` started."""
        page = [r for r in results if r.id not in self._tile_of]
        page = list({r.id: r for r in page}.values())  # a photo found twice is one
        if not page:
            return Collapsed([], [], 0)
        at = {r.id: i for i, r in enumerate(page)}
        found, vectors = self.catalog.vectors_for(at)
        order = np.argsort([at[int(i)] for i in found], kind="stable")
        found, vectors = found[order], vectors[order]
        groups = _UnionFind()
        for r in page:
            groups.find(r.id)
        joins: dict[int, int] = {}  # a photo of this page -> the earlier result it joins
        named = self._same_content(page, groups, joins)
        self._look_alikes(page, found, vectors, groups, joins, named)
        out, grown = self._tiles_for(page, groups, joins)
        self._remember(page, found, vectors)
        hidden = len(page) - len(out)
        if hidden:
            log.debug("%d duplicates hidden among %d results", hidden, len(page))
        return Collapsed(out, grown, hidden)

    # -- the tests -------------------------------------------------------------------------------------------
    def _same_content(
        self, page: list[SearchResult], groups: _UnionFind, joins: dict[int, int]
    ) -> list[tuple[int, int]]:
        """Identical bytes join, within the page and with the results shown before; returns the RAW + JPEG
        pairs of one name (page, page or shown before), which the pixel rule still has to confirm."""
        first: dict[str, int] = {}
        names: dict[tuple[str, str], list[tuple[int, bool]]] = {}
        named: list[tuple[int, int]] = []
        for r in page:
            if r.hash and len(r.hash) == WHOLE_HASH:  # schema 1's partial fingerprints prove nothing
                if r.hash in self._by_hash:
                    joins.setdefault(r.id, self._by_hash[r.hash])
                groups.union(first.setdefault(r.hash, r.id), r.id)
            key, raw = shot_key(r.path)
            named += [(r.id, other) for other, other_raw in self._by_name.get(key, []) if raw != other_raw]
            named += [(r.id, other) for other, other_raw in names.get(key, []) if raw != other_raw]
            names.setdefault(key, []).append((r.id, raw))
        return named

    def _look_alikes(
        self,
        page: list[SearchResult],
        ids: np.ndarray,
        vectors: np.ndarray,
        groups: _UnionFind,
        joins: dict[int, int],
        named: list[tuple[int, int]],
    ) -> None:
        """Pairs of close vectors (the page's own, and the page against the window shown before), and of RAW +
        JPEG names, checked."""
        by_id = {r.id: r for r in page}
        pairs: list[tuple[float, int, int]] = [(2.0, a, b) for a, b in named]  # checked first
        if len(ids):
            inner = vectors @ vectors.T
            a, b = np.nonzero(np.triu(inner >= CANDIDATE_SCORE, 1))
            pairs += [(float(inner[i, j]), int(ids[i]), int(ids[j])) for i, j in zip(a, b)]
        if len(ids) and self._seen_vectors is not None and len(self._seen_ids):
            outer = vectors @ self._seen_vectors.T
            a, b = np.nonzero(outer >= CANDIDATE_SCORE)
            pairs += [(float(outer[i, j]), int(ids[i]), int(self._seen_ids[j])) for i, j in zip(a, b)]
        pairs.sort(key=lambda p: -p[0])
        checks = 0
        for _score, x, y in pairs:
            earlier = y in self._tile_of
            if (y not in self._seen) if earlier else (y not in by_id):
                continue  # a RAW or JPEG name shown long ago, out of the window
            if (x in joins) if earlier else (groups.find(x) == groups.find(y)):
                continue  # settled already
            if checks == CHECKS:
                log.info("hiding duplicates: %d more look-alike pairs not checked", len(pairs) - checks)
                break
            checks += 1
            if self._same_picture(by_id[x], self._seen[y] if earlier else by_id[y]):
                if earlier:
                    joins[x] = self._tile_of[y]
                else:
                    groups.union(x, y)

    # -- the results -----------------------------------------------------------------------------------------
    def _tiles_for(
        self, page: list[SearchResult], groups: _UnionFind, joins: dict[int, int]
    ) -> tuple[list[SearchResult], list[SearchResult]]:
        members: dict[int, list[SearchResult]] = {}
        for r in page:
            members.setdefault(groups.find(r.id), []).append(r)
        out: list[SearchResult] = []
        grown: dict[int, SearchResult] = {}
        for group in members.values():  # in the order of each group's best-ranked member
            earlier = next((joins[r.id] for r in group if r.id in joins), None)
            if earlier is not None:  # a group shown on an earlier page: its tile takes these in
                tile = self._tiles[earlier]
                tile = replace(tile, duplicates=tile.duplicates + tuple(group), good=_good([tile, *group]))
                self._tiles[earlier] = grown[earlier] = tile
                for r in group:
                    self._tile_of[r.id] = earlier
                continue
            keep = group[0] if len(group) == 1 else self._keeper(group)
            others = tuple(r for r in group if r is not keep)
            tile = replace(keep, duplicates=others, good=_good(group)) if others else keep
            self._tiles[keep.id] = tile
            for r in group:
                self._tile_of[r.id] = keep.id
            out.append(tile)
        return out, list(grown.values())

    def _keeper(self, group: list[SearchResult]) -> SearchResult:
        """The one the duplicates window suggests keeping (most pixels, RAW, oldest), else the best ranked."""
        info = read_members(self.catalog, [r.id for r in group])
        known = [info[r.id] for r in group if r.id in info]
        if not known:
            return group[0]
        keep = suggest_keep(known).id
        return next(r for r in group if r.id == keep)

    def _remember(self, page: list[SearchResult], ids: np.ndarray, vectors: np.ndarray) -> None:
        for r in page:
            self._seen[r.id] = r
            if r.hash:
                self._by_hash.setdefault(r.hash, self._tile_of[r.id])
            key, raw = shot_key(r.path)
            self._by_name.setdefault(key, []).append((self._tile_of[r.id], raw))
        if len(ids):
            self._seen_ids = np.concatenate([self._seen_ids, ids])[-WINDOW:]
            old = self._seen_vectors if self._seen_vectors is not None else vectors[:0]
            self._seen_vectors = np.concatenate([old, vectors])[-WINDOW:]
        if len(self._seen) > 4 * WINDOW:  # the results themselves: only those still in the window
            keep = set(self._seen_ids.tolist())
            self._seen = {i: r for i, r in self._seen.items() if i in keep}

    # -- the pixel check -------------------------------------------------------------------------------------
    def _same_picture(self, a: SearchResult, b: SearchResult) -> bool:
        if not a.hash or not b.hash:
            return False
        ka, kb = _key(a), _key(b)
        key = (ka, kb) if ka < kb else (kb, ka)
        if key not in self._verdicts:
            sa = self._signatures.get(a.path, a.hash, (a.width or 0) * (a.height or 0))
            sb = self._signatures.get(b.path, b.hash, (b.width or 0) * (b.height or 0))
            self._verdicts[key] = sa is not None and sb is not None and compare(sa, sb).same
        return self._verdicts[key]


def hide_duplicates(library: Library, catalog: Catalog, results: list[SearchResult]) -> Collapsed:
    """`results` with their duplicates hidden (one page, e.g. a search's answer)."""
    return DuplicateCollapser(library, catalog).collapse(results)


def _key(r: SearchResult) -> str:
    """What a pixel verdict is remembered by: the content hash, or the path where the hash is schema 1's
    partial fingerprint (files that share one may differ)."""
    return r.hash if r.hash and len(r.hash) == WHOLE_HASH else "path:" + r.path


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _good(group: list[SearchResult]) -> bool | None:
    flags = [r.good for r in group]
    return None if all(g is None for g in flags) else any(bool(g) for g in flags)


__all__ = ["Collapsed", "DuplicateCollapser", "hide_duplicates"]
