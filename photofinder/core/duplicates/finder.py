"""Duplicate photos, and similar shots. Found without comparing every pair:

1. identical bytes: the same whole-file hash (one SQL query; an old partial fingerprint from schema 1 is never
   trusted, see Catalog.rehash_legacy);
2. candidates from the vector index's nearest neighbours (cosine >= CANDIDATE_SCORE): a batched search of the
   library's own index, the photos' vectors streamed from the catalog as queries (exact up to 50k photos;
   above, the IVF the indexer trained, SCAN_LISTS lists a query), and a RAW file and a JPEG of one name;
3. each candidate pair judged by the pixel rule (likeness.py): the same picture (a copy: re-saved, resized,
   re-compressed, re-tagged, cropped a little) or only a similar shot (a burst or pan frame, a bracket); two
   EXIF dates taken that differ are two exposures; and what the thumbnails call the same picture is looked at
   again on the files (closeup.py: a changed word, another colourway);
4. groups formed around their keeper, never through a chain: the best-ranked photo keeps every photo that is the
   same picture *as itself* (a pan whose neighbouring frames each look alike is not one group).

**Duplicates** are safe to trash: every member is the keeper's picture. **Similar shots** are for the user to
pick from; nothing in them is ever pre-selected.

Nothing is ever deleted here: `trash` checks each file on disk right before sending it to the system trash
(send2trash), leaves anything that fails a check where it is, and forgets what it moved.

This module finds the groups; members.py is what a group holds and which photo it keeps, signatures.py what the
pixel rule reads, trash.py the trashing. Their public names are exported here too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from photofinder.core.duplicates.closeup import close_look
from photofinder.core.duplicates.likeness import Verdict, compare
from photofinder.core.duplicates.members import (
    WHOLE_HASH,
    Group,
    Member,
    is_whole,
    keep_rank,
    read_members,
    shot_key,
    suggest_keep,
)
from photofinder.core.duplicates.signatures import Signatures
from photofinder.core.duplicates.trash import TrashReport, trash
from photofinder.core.paths import from_db
from photofinder.core.store.catalog import Catalog
from photofinder.core.store.library import Library

log = logging.getLogger(__name__)

CANDIDATE_SCORE = 0.90  # cosine of two photo vectors worth a look at the pixels
NEIGHBOURS = 8  # per photo
SCAN_LISTS = 8  # inverted lists an approximate neighbour search scans (a near-copy shares its photo's list)
CLOSE_LOOKS = 4  # pairs looked at on the files at once, at most (one a core)


@dataclass
class Findings:
    duplicates: list[Group]  # biggest groups first
    similar: list[Group]


def find_duplicates(
    library: Library,
    catalog: Catalog,
    *,
    preferred_folder: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Group]:
    """Every group of duplicate photos in the library, biggest groups first."""
    return find_groups(library, catalog, preferred_folder=preferred_folder, progress=progress).duplicates


def find_groups(
    library: Library,
    catalog: Catalog,
    *,
    preferred_folder: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Findings:
    """The library's duplicates (safe to trash) and similar shots (to pick from)."""
    notify = progress or (lambda phase, done, total: None)
    unit: dict[int, int] = {}  # photo -> the first photo of its identical-bytes set
    for ids in _same_hash(catalog):
        for i in ids:
            unit[i] = ids[0]
    candidates = set(_neighbour_pairs(library, catalog, notify)) | set(_raw_and_jpeg(catalog))
    ids = sorted({i for pair in candidates for i in pair} | set(unit))
    info = read_members(catalog, ids)
    pairs = {
        (min(ua, ub), max(ua, ub))
        for a, b in candidates
        if a in info and b in info and (ua := unit.get(a, a)) != (ub := unit.get(b, b))
    }
    looks = _Perceptual(library, info)
    verdicts: dict[tuple[int, int], Verdict] = {}
    for n, (a, b) in enumerate(sorted(pairs)):
        v = looks.compare(a, b)
        if v is not None:
            verdicts[(a, b)] = v
        if n % 50 == 0:
            notify("checking pixels", n, len(pairs))
    _look_closer(verdicts, info, notify)
    members_of: dict[int, list[Member]] = {}
    for i, m in info.items():
        members_of.setdefault(unit.get(i, i), []).append(m)

    def rank_of(u: int) -> tuple:
        return keep_rank(suggest_keep(members_of[u], preferred_folder), preferred_folder)

    same: dict[int, set[int]] = {}
    for (a, b), v in verdicts.items():
        if v.same:
            same.setdefault(a, set()).add(b)
            same.setdefault(b, set()).add(a)
    # Keeper first: each unit, best first, keeps the units still free that are its own picture. No chains.
    owner: dict[int, int] = {}
    order = sorted(set(members_of), key=rank_of)
    for u in order:
        if u in owner:
            continue
        owner[u] = u
        for v in sorted(same.get(u, ()), key=rank_of):
            if v not in owner:
                owner[v] = u
    units_of: dict[int, list[int]] = {}
    for v in order:
        units_of.setdefault(owner[v], []).append(v)
    duplicates = []
    for group_units in units_of.values():
        members = [m for v in group_units for m in members_of[v]]
        if len(members) < 2:
            continue
        keep = suggest_keep(members, preferred_folder)
        if keep.link:
            continue  # every name is a link: nothing to keep as a file of its own, nothing to free
        hashes = {m.hash for m in members}
        exact = len(hashes) == 1 and is_whole(next(iter(hashes)))
        duplicates.append(Group(members, keep, exact))
    duplicates.sort(key=lambda g: (-len(g.members), g.keep.path))
    similar = _similar_shots(verdicts, owner, members_of, preferred_folder)
    log.info(
        "duplicates in %s: %d groups, %d sets of similar shots (%d pixel checks)",
        library.name,
        len(duplicates),
        len(similar),
        len(pairs),
    )
    return Findings(duplicates, similar)


def _similar_shots(
    verdicts: dict[tuple[int, int], Verdict],
    owner: dict[int, int],
    members_of: dict[int, list[Member]],
    preferred_folder: str | None,
) -> list[Group]:
    """Look-alikes that are not the same picture (bursts, brackets), one photo per duplicate group; chains
    are fine here: a burst is one set to pick from, and nothing in it is pre-selected."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (a, b), v in verdicts.items():
        ka, kb = owner.get(a, a), owner.get(b, b)
        if ka != kb and not v.same and v.looks_alike:
            ra, rb = find(ka), find(kb)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    sets: dict[int, list[int]] = {}
    for x in list(parent):
        sets.setdefault(find(x), []).append(x)
    out = []
    for units in sets.values():
        if len(units) < 2:
            continue
        members = [suggest_keep(members_of[u], preferred_folder) for u in sorted(units)]
        out.append(Group(members, suggest_keep(members, preferred_folder), False, similar=True))
    out.sort(key=lambda g: (-len(g.members), g.keep.path))
    return out


# -- the parts ----------------------------------------------------------------------------------------------
def _same_hash(catalog: Catalog) -> list[list[int]]:
    rows = catalog._all(  # one indexed pass (photos_hash); schema 1's partial fingerprints are not identities
        "SELECT hash, group_concat(id) FROM photos WHERE status = 'indexed' AND hash IS NOT NULL "
        f"AND length(hash) = {WHOLE_HASH} GROUP BY hash HAVING count(*) > 1"
    )
    return [sorted(int(i) for i in r[1].split(",")) for r in rows]


def _neighbour_pairs(
    library: Library, catalog: Catalog, notify: Callable[[str, int, int], None]
) -> list[tuple[int, int]]:
    """(a, b) with a < b whose vectors are within CANDIDATE_SCORE, from a batched k-NN search.

    The library's index answers (the indexer trained and filled it): building one for the purpose meant 4.6 GB
    and 3 minutes at 1M photos (every vector in memory twice, and a k-means of 200k vectors).
    """
    n = catalog.count()
    if n < 2:
        return []
    index = library.load_vectors(catalog, save=False)
    k = min(NEIGHBOURS + 1, len(index))
    if k < 2:
        return []
    pairs: set[tuple[int, int]] = set()
    done = 0
    for ids, vectors in catalog.iter_embeddings():
        scores, found = index.neighbours(vectors, k, SCAN_LISTS)
        close = (scores >= CANDIDATE_SCORE) & (found >= 0) & (found != ids[:, None])
        for row, col in zip(*np.nonzero(close)):
            a, b = int(ids[row]), int(found[row, col])
            pairs.add((min(a, b), max(a, b)))
        done += len(ids)
        notify("comparing", min(n, done), n)
    return sorted(pairs)


def _raw_and_jpeg(catalog: Catalog) -> list[tuple[int, int]]:
    """A RAW file and a JPEG or HEIC of the same name in the same folder: worth a look at the pixels (a shared
    name alone proves nothing: two cameras number their files alike)."""
    by_shot: dict[tuple[str, str], list[tuple[int, bool]]] = {}
    for pid, raw_path in catalog._all("SELECT id, path FROM photos WHERE status = 'indexed'"):
        key, raw = shot_key(from_db(raw_path))
        by_shot.setdefault(key, []).append((pid, raw))
    pairs = []
    for files in by_shot.values():
        raws = [i for i, r in files if r]
        others = [i for i, r in files if not r]
        pairs += [(min(r, o), max(r, o)) for r in raws for o in others]
    return pairs


class _Perceptual:
    """The pixel rule on two photos of the findings, by id."""

    def __init__(self, library: Library, info: dict[int, Member]):
        self.info = info
        self._signatures = Signatures(library)

    def compare(self, a: int, b: int) -> Verdict | None:
        ma, mb = self.info[a], self.info[b]
        sa = self._signatures.get(ma.path, ma.hash, ma.pixels)
        sb = self._signatures.get(mb.path, mb.hash, mb.pixels)
        if sa is None or sb is None:
            return None
        v = compare(sa, sb)
        if v.same and ma.taken and mb.taken and ma.taken != mb.taken:
            # Two exposures: a burst, a time-lapse, a focus stack, a star field. A copy keeps its photo's
            # EXIF date taken (or has none: a messenger strips it), so two dates mean two pictures.
            return replace(v, same=False, why=f"taken at another moment ({ma.taken} and {mb.taken})")
        return v


def _look_closer(
    verdicts: dict[tuple[int, int], Verdict],
    info: dict[int, Member],
    notify: Callable[[str, int, int], None],
) -> None:
    """Every pair the thumbnails call the same picture, looked at on the files (closeup.py), in place: a few at
    a time (decoding and numpy let go of the interpreter lock; each look holds two decoded photos)."""
    same = [pair for pair, v in verdicts.items() if v.same]
    if not same:
        return

    def look(pair: tuple[int, int]) -> Verdict:
        return close_look(info[pair[0]].path, info[pair[1]].path, verdicts[pair])

    with ThreadPoolExecutor(max_workers=min(CLOSE_LOOKS, os.cpu_count() or 1)) as pool:
        for n, (pair, v) in enumerate(zip(same, pool.map(look, same))):
            verdicts[pair] = v
            if n % 10 == 0:
                notify("looking closer", n, len(same))


__all__ = [
    "Findings",
    "Group",
    "Member",
    "Signatures",
    "TrashReport",
    "find_duplicates",
    "find_groups",
    "suggest_keep",
    "trash",
]
