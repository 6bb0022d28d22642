"""Duplicate photos: the same bytes, or the same picture resized, re-compressed, cropped a little, with other
metadata, or kept as RAW + JPEG. Found without comparing every pair:

1. identical content hashes (one SQL query);
2. candidates from the vector index's nearest neighbours (cosine >= CANDIDATE_SCORE): a batched search of the
   library's own index, the photos' vectors streamed from the catalog as queries (exact up to 50k photos;
   above, the IVF the indexer trained, SCAN_LISTS lists a query, so 1M photos take a minute or two and no
   second copy of the vectors is held);
3. each candidate pair confirmed by a pixel check on the cached thumbnail (contrast-normalised grayscale,
   `picture_distance`), so two different photos of the same scene are not called duplicates;
4. a RAW file and a JPEG of the same name side by side are the same shot.

Nothing is ever deleted here: `trash` sends the files the user confirmed to the system trash (send2trash) and
then forgets them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .catalog import Catalog
from .decode import RAW_EXTENSIONS, UnreadableImage
from .library import Library
from .paths import from_db

log = logging.getLogger(__name__)

CANDIDATE_SCORE = 0.90  # cosine of two photo vectors worth a perceptual look
NEIGHBOURS = 8  # per photo
PIXEL_DISTANCE = (
    0.35  # contrast-normalised 64x64 grayscale (in standard deviations): the same picture is below
)
# Measured on generated photos (tests/unit/core/test_duplicates.py): resized, re-compressed, re-tagged and
# RAW-preview copies 0.00-0.12, a copy cropped 4 % on each side 0.22-0.23 (with the crop search below); a
# different photo of the same subject on the same background 0.53 and up. Tried and dropped: a 64-bit difference
# hash (on plain backgrounds its bits follow the noise: 19 bits apart for a mere resize) and a mean difference
# (0.033 for a copy against 0.036 for another photo).
SCAN_LISTS = 8  # inverted lists an approximate neighbour search scans (a near-copy shares its photo's list)


@dataclass
class Member:
    id: int
    path: str
    bytes: int
    width: int | None
    height: int | None
    taken: str | None
    mtime_ns: int

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)

    def as_json(self) -> dict[str, Any]:
        from .paths import display_path

        return {
            "path": display_path(self.path),
            "bytes": self.bytes,
            "width": self.width,
            "height": self.height,
            "taken": self.taken,
        }


@dataclass
class Group:
    members: list[Member]
    keep: Member  # the suggestion: the largest, then the oldest, then in the preferred folder
    exact: bool  # every member has the same bytes
    why: list[str] = field(default_factory=list)

    @property
    def others(self) -> list[Member]:
        return [m for m in self.members if m is not self.keep]


def find_duplicates(
    library: Library,
    catalog: Catalog,
    *,
    preferred_folder: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Group]:
    """Every group of duplicate photos in the library, biggest groups first."""
    notify = progress or (lambda phase, done, total: None)
    parent = _UnionFind()
    exact_pairs = 0
    for ids in _same_hash(catalog):
        for other in ids[1:]:
            parent.union(ids[0], other)
            exact_pairs += 1
    hashes = _Perceptual(library, catalog)
    for a, b in _neighbour_pairs(library, catalog, notify):
        if parent.find(a) == parent.find(b):
            continue
        if hashes.same_picture(a, b):
            parent.union(a, b)
    for a, b in _raw_and_jpeg(catalog):
        parent.union(a, b)
    groups = [g for g in parent.groups() if len(g) > 1]
    info = _members(catalog, [i for g in groups for i in g])
    content = _hashes(catalog, [i for g in groups for i in g])
    out = []
    for g in groups:
        members = [info[i] for i in g if i in info]
        if len(members) < 2:
            continue
        out.append(
            Group(
                members,
                suggest_keep(members, preferred_folder),
                len({content.get(m.id) for m in members}) == 1,
            )
        )
    out.sort(key=lambda g: (-len(g.members), g.keep.path))
    log.info("duplicates in %s: %d groups (%d identical pairs)", library.name, len(out), exact_pairs)
    return out


def suggest_keep(members: list[Member], preferred_folder: str | None = None) -> Member:
    """The one to keep: the most pixels, then a RAW over its JPEG, then the oldest, then the preferred folder."""

    def rank(m: Member) -> tuple:
        preferred = bool(preferred_folder) and m.path.startswith(preferred_folder.rstrip(os.sep) + os.sep)
        raw = os.path.splitext(m.path)[1].lower() in RAW_EXTENSIONS
        return (-m.pixels, not raw, m.taken or "9999", m.mtime_ns, not preferred, m.bytes * -1, m.path)

    return min(members, key=rank)


def trash(library: Library, paths: Iterable[str], send: Callable[[str], None] | None = None) -> list[str]:
    """Send `paths` (photos of this library the user confirmed) to the system trash, then forget them.

    Never a permanent delete: without a trash (send2trash missing, a trash-less drive) a photo stays put and
    the error is returned. Returns the paths trashed.
    """
    if send is None:
        from send2trash import send2trash as send  # type: ignore[no-redef]
    done: list[str] = []
    with library.lock(), library.open_catalog() as catalog:
        index = library.load_vectors(catalog, save=False)
        ids = []
        for p in paths:
            row = catalog.embedding_for_path(p)
            if row is None:
                log.warning("not trashed (not a photo of this library): %s", p)
                continue
            try:
                send(p)
            except Exception as e:  # noqa: BLE001 - any trash failure leaves the photo where it was
                log.warning("could not move %s to the trash: %s", p, e)
                continue
            ids.append(row[0])
            done.append(p)
        hashes = catalog.delete(ids)
        index.remove(np.array(ids, np.int64))
        library.save_vectors(index, catalog)
        library.drop_thumbnails(catalog, hashes)
    return done


# -- the parts ----------------------------------------------------------------------------------------------
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

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for x in list(self.parent):
            out.setdefault(self.find(x), []).append(x)
        return [sorted(g) for g in out.values()]


def _same_hash(catalog: Catalog) -> list[list[int]]:
    rows = catalog._all(  # one indexed pass (photos_hash)
        "SELECT hash, group_concat(id) FROM photos WHERE status = 'indexed' AND hash IS NOT NULL "
        "GROUP BY hash HAVING count(*) > 1"
    )
    return [[int(i) for i in r[1].split(",")] for r in rows]


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
    """A RAW file and a JPEG or HEIC of the same name in the same folder: one shot, kept twice."""
    by_shot: dict[tuple[str, str], list[tuple[int, bool]]] = {}
    for pid, raw_path in catalog._all("SELECT id, path FROM photos WHERE status = 'indexed'"):
        key, raw = shot_key(from_db(raw_path))
        by_shot.setdefault(key, []).append((pid, raw))
    pairs = []
    for files in by_shot.values():
        raws = [i for i, r in files if r]
        others = [i for i, r in files if not r]
        pairs += [(r, o) for r in raws for o in others]
    return pairs


def shot_key(path: str) -> tuple[tuple[str, str], bool]:
    """((folder, name without extension, lower case), is it RAW): a RAW and a JPEG of one shot share the key."""
    stem, ext = os.path.splitext(path)
    return (os.path.dirname(stem), os.path.basename(stem).lower()), ext.lower() in RAW_EXTENSIONS


def thumbnail_signature(library: Library, path: str, content_hash: str | None) -> np.ndarray | None:
    """What the pixel check compares: the photo's cached thumbnail (decoded small if missing) as `gray` gives
    it; None when it can't be read."""
    from .thumbnails import load_thumbnail

    try:
        return gray(load_thumbnail(path, content_hash, library.thumbs_dir, 160))
    except (UnreadableImage, OSError) as e:
        log.debug("no signature for %s: %s", path, e)
        return None


def _members(catalog: Catalog, ids: list[int]) -> dict[int, Member]:
    out: dict[int, Member] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        rows = catalog._all(
            f"SELECT id, path, size, width, height, taken, mtime_ns FROM photos "
            f"WHERE id IN ({','.join('?' * len(part))})",
            part,
        )
        for r in rows:
            out[r[0]] = Member(r[0], from_db(r[1]), r[2], r[3], r[4], r[5], r[6])
    return out


def _hashes(catalog: Catalog, ids: list[int]) -> dict[int, str | None]:
    return {i: h for i, (_, h) in catalog.photos(ids).items()}


class _Perceptual:
    """Perceptual signatures of photos, from the thumbnails the indexer cached (decoded small only if missing)."""

    def __init__(self, library: Library, catalog: Catalog):
        self.library = library
        self.catalog = catalog
        self._cache: dict[int, np.ndarray | None] = {}

    def same_picture(self, a: int, b: int) -> bool:
        sa, sb = self._signature(a), self._signature(b)
        return sa is not None and sb is not None and picture_distance(sa, sb) <= PIXEL_DISTANCE

    def _signature(self, pid: int) -> np.ndarray | None:
        if pid not in self._cache:
            self._cache[pid] = self._compute(pid)
        return self._cache[pid]

    def _compute(self, pid: int) -> np.ndarray | None:
        info = self.catalog.photos([pid]).get(pid)
        return None if info is None else thumbnail_signature(self.library, info[0], info[1])


def gray(image: Any, side: int = 128) -> np.ndarray:
    """The perceptual signature: the picture as side x side grayscale."""
    from PIL import Image

    return np.asarray(image.convert("L").resize((side, side), Image.Resampling.BOX), np.float32)


def picture_distance(a: np.ndarray, b: np.ndarray) -> float:
    """How different two pictures look, 0 = the same: contrast-normalised 64x64 grayscale, the best over
    slight crops (0, 4 and 8 % a side, of either picture) and one-pixel shifts."""
    best = float("inf")
    for f in (0.0, 0.04, 0.08):
        for x, y in ((a, b), (b, a)) if f else ((a, b),):
            best = min(best, pixel_distance(_z(_crop32(x, f)), _z(_crop32(y, 0.0))))
    return best


def _crop32(g: np.ndarray, f: float) -> np.ndarray:
    from PIL import Image

    n = g.shape[0]
    c = int(round(n * f))
    part = g[c : n - c, c : n - c] if c else g
    return np.asarray(Image.fromarray(part).resize((64, 64), Image.Resampling.BILINEAR), np.float32)


def _z(g: np.ndarray) -> np.ndarray:
    return (g - g.mean()) / max(float(g.std()), 1.0)


def pixel_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The 98th percentile of the absolute difference of two signatures, the best over one-pixel shifts.

    A high percentile, not the mean: a subject that moved is a small area of large differences, which a mean
    over a plain background dilutes into nothing.
    """
    best = float("inf")
    n = a.shape[0]
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            x = a[max(0, dy) : n + min(0, dy), max(0, dx) : n + min(0, dx)]
            y = b[max(0, -dy) : n + min(0, -dy), max(0, -dx) : n + min(0, -dx)]
            best = min(best, float(np.percentile(np.abs(x - y), 98)))
    return best


__all__ = ["Group", "Member", "find_duplicates", "picture_distance", "suggest_keep", "trash"]
