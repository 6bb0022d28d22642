"""Explore: the whole library as tens of named groups of alike photos, each with a few sub-groups.

How groups are made (`regroup`, in the background; minutes at a million photos on two cores):
1. Fine clusters. A library with an approximate vector index (IVF, from 50,000 photos) already has them: the
   index's inverted lists are a k-means clustering of every photo (2,048 lists at a million), so their centroids
   and member ids are read from the index, and no embedding is read at all. A smaller library is clustered
   with FAISS k-means (up to 256 clusters) over its vectors.
2. Fine clusters are merged, most alike first (average linkage: the mean similarity of the photos of one to
   those of the other, from the clusters' mean vectors), into a number a person can scan: at most MAX_GROUPS
   top-level groups (fewer for a small library or one of few subjects), each with at most MAX_SUBGROUPS
   sub-groups. Clusters of alike photos (average similarity above a level derived from the library's
   calibrated image cut-off) are always merged; tiny leftovers join their nearest group.
3. Names (naming.py) from the library's own text encoder and calibrated cut-off; "mixed" where nothing fits.

Stored in the catalog (explore_groups, explore_members; migration 8). A photo deleted leaves its group at once
(a trigger); new and changed photos join the group whose centre is nearest (`update`, cheap: what changed since
the last grouping, no model); the library is grouped again from scratch when it has changed by a third.

Steps 1 and 2 are clusters.py; this module runs them, describes and stores the groups, and keeps them current.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from photofinder.core.explore.clusters import Fine, fine_from_index, fine_kmeans, merge
from photofinder.core.explore.naming import MIXED, Vocabulary, name_groups
from photofinder.core.find.calibration import Calibration
from photofinder.core.store.catalog import Catalog
from photofinder.core.store.library import Library

log = logging.getLogger(__name__)

SAMPLE_PER_GROUP = 128  # photos read per group to name it and pick its cover
COVER = 4  # photos in a group's cover mosaic
REGROUP_CHANGE = 0.3  # group again from scratch once this share of the library came, changed or went

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Group:
    """A group as the Explore view and `photofinder explore` show it."""

    id: int
    name: str  # "mixed" when no phrase of the vocabulary fits
    count: int
    newest: str | None  # the day its newest photo was taken (YYYY-MM-DD)
    cover: tuple[int, ...]  # photo ids for its mosaic, the most typical first
    fit: float = 0.0  # the name's median score over the group
    parent: int | None = None
    children: tuple[Group, ...] = field(default=())

    @property
    def mixed(self) -> bool:
        return self.name == MIXED


@dataclass(frozen=True)
class Grouping:
    groups: list[Group]  # top level, largest first, each with its sub-groups
    photos: int  # photos in the library when read
    grouped_at: float | None  # when the library was last grouped from scratch (epoch seconds)

    def find(self, group_id: int) -> Group | None:
        for g in self.groups:
            if g.id == group_id:
                return g
            for c in g.children:
                if c.id == group_id:
                    return c
        return None


def read(catalog: Catalog) -> Grouping:
    """The stored groups (a few small rows: milliseconds at any library size)."""
    rows = catalog.groups()
    made = {
        r[0]: Group(r[0], r[2], int(r[4]), r[5], _ids(r[6]), float(r[3]), r[1])
        for r in rows
        if r[4] > 0 or r[1] is None
    }
    kids: dict[int, list[Group]] = {}
    for g in made.values():
        if g.parent is not None:
            kids.setdefault(g.parent, []).append(g)
    top = [
        Group(g.id, g.name, g.count, g.newest, g.cover, g.fit, None, tuple(_by_size(kids.get(g.id, []))))
        for g in made.values()
        if g.parent is None and g.count > 0
    ]
    at = catalog.get_meta("explore_at")
    return Grouping(_by_size(top), catalog.count(), float(at) if at else None)


def _by_size(groups: list[Group]) -> list[Group]:
    return sorted(groups, key=lambda g: (g.mixed, -g.count, g.name))


def _ids(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)


# -- keeping groups current --------------------------------------------------------------------------------------
def needs_regroup(catalog: Catalog) -> bool:
    """No groups yet, another model, or the library changed by REGROUP_CHANGE since it was grouped."""
    n = catalog.count()
    if n == 0:
        return catalog.get_meta("explore_photos") not in (None, "0")
    at = catalog.get_meta("explore_photos")
    if at is None or catalog.get_meta("explore_model") != (catalog.model_fingerprint or catalog.model_id):
        return True
    grouped = int(at)
    changed = int(catalog.get_meta("explore_changed") or 0)
    return abs(n - grouped) + changed > REGROUP_CHANGE * grouped + 5


def update(catalog: Catalog) -> int:
    """Put photos added or changed since the last grouping into the group whose centre is nearest; how many.

    No model is needed and the cost follows what changed. Deleted photos left their groups already (a trigger).
    Returns -1 when the changes can't be followed (the change log was cut, a rebuild switched in): regroup.
    """
    at = catalog.get_meta("explore_generation")
    if at is None:
        return -1
    changes = catalog.changes_since(int(at))
    if changes is None:
        return -1
    if changes.generation == int(at):
        return 0
    rows = catalog.groups()
    parents = {r[1] for r in rows}
    leaves = [r for r in rows if r[0] not in parents]
    members: list[tuple[int, int, int, str | None]] = []
    if len(changes.ids) and leaves:
        centres = np.stack([np.frombuffer(r[7], np.float32) for r in leaves])
        nearest = np.argmax(changes.vectors @ centres.T, axis=1)
        days = dict(zip(*_days_of(catalog, changes.ids)))
        for pid, k in zip(changes.ids.tolist(), nearest.tolist()):
            leaf = leaves[k]
            top = leaf[1] if leaf[1] is not None else leaf[0]
            members.append((pid, leaf[0], top, days.get(pid)))
    changed = int(catalog.get_meta("explore_changed") or 0) + len(members)
    catalog.assign_groups(members, {"explore_generation": changes.generation, "explore_changed": changed})
    return len(members)


def _days_of(catalog: Catalog, ids: np.ndarray) -> tuple[list[int], list[str | None]]:
    info = catalog.details(ids.tolist())
    return list(info), [None if v[0] is None else v[0][:10] for v in info.values()]


# -- grouping from scratch -----------------------------------------------------------------------------------------
def regroup(
    library: Library,
    catalog: Catalog,
    vocab: Vocabulary,
    calibration: Calibration,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    strategy: str = "auto",
) -> Grouping:
    """Group the library from scratch, name the groups and store them; returns what `read` would.

    `strategy`: "ivf" reads the fine clusters from the vector index (approximate indexes only), "kmeans"
    clusters the vectors itself, "auto" picks the first where it can.
    """
    say = progress or (lambda _text: None)
    started = time.perf_counter()
    generation = catalog.generation
    n = catalog.count()
    meta = {
        "explore_generation": generation,
        "explore_photos": n,
        "explore_changed": 0,
        "explore_model": catalog.model_fingerprint or catalog.model_id or "",
        "explore_at": time.time(),
    }
    if n == 0 or catalog.dim is None:
        catalog.replace_groups([], [], meta)
        return read(catalog)
    say("Sorting the photos into groups…")
    fine = None
    if strategy in ("auto", "ivf"):
        fine = fine_from_index(library, catalog)
    if fine is None:
        fine = fine_kmeans(catalog, cancelled)
    if cancelled():
        return read(catalog)
    top_of, sub_of = merge(fine.means, fine.sizes, n)
    say("Naming the groups…")
    groups, members = _describe(catalog, fine, top_of, sub_of, vocab, calibration, _next_id(catalog))
    if cancelled():
        return read(catalog)
    catalog.replace_groups(groups, members, meta)
    log.info(
        "grouped %d photos into %d groups (%d fine clusters) in %.1f s",
        n,
        len({t for t in top_of}),
        len(fine.sizes),
        time.perf_counter() - started,
    )
    return read(catalog)


def _next_id(catalog: Catalog) -> int:
    """Group ids are never reused: a group id from before a regrouping matches no group, not another one."""
    return int(catalog.get_meta("explore_next_id") or 1)


def _describe(
    catalog: Catalog,
    fine: Fine,
    top_of: np.ndarray,
    sub_of: np.ndarray,
    vocab: Vocabulary,
    calibration: Calibration,
    first_id: int,
) -> tuple[list[tuple], Iterator[tuple[int, int, int]]]:
    """The group rows (named, with covers and newest days) and the member rows [photo, group, top]."""
    photo_top, photo_sub = top_of[fine.labels], sub_of[fine.labels]
    rng = np.random.default_rng(0)
    day_ids, days = catalog.days()
    order = np.argsort(day_ids)
    day_ids, days = day_ids[order], days[order]

    def newest(mask: np.ndarray) -> str | None:
        ids = fine.ids[mask]
        pos = np.clip(np.searchsorted(day_ids, ids), 0, max(0, len(day_ids) - 1))
        found = days[pos[day_ids[pos] == ids]] if len(day_ids) else days
        return str(np.sort(found)[-1]) if len(found) else None

    def sample(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = fine.ids[mask]
        if len(ids) > SAMPLE_PER_GROUP:
            ids = rng.choice(ids, SAMPLE_PER_GROUP, replace=False)
        return catalog.vectors_for(ids.tolist())

    def by_size(labels: np.ndarray, mask: np.ndarray) -> list[int]:
        values, counts = np.unique(labels[mask], return_counts=True)
        return [int(v) for v in values[np.argsort(-counts, kind="stable")]]

    everything = np.ones(len(fine.ids), bool)
    tops = by_size(photo_top, everything)
    masks = [photo_top == t for t in tops]
    samples = [sample(m) for m in masks]
    names = name_groups([v for _, v in samples], [int(m.sum()) for m in masks], vocab, calibration.threshold)
    rows: list[tuple] = []
    group = np.zeros(len(fine.ids), np.int64)
    top = np.zeros(len(fine.ids), np.int64)
    next_id = first_id
    for mask, named, (ids, vectors) in zip(masks, names, samples):
        gid, next_id = next_id, next_id + 1
        rows.append(_row(gid, None, named.name, named.fit, int(mask.sum()), newest(mask), ids, vectors))
        top[mask] = gid
        group[mask] = gid
        subs = by_size(photo_sub, mask)
        if len(subs) < 2:
            continue
        sub_masks = [mask & (photo_sub == s) for s in subs]
        sub_samples = [sample(m) for m in sub_masks]
        sizes = [int(m.sum()) for m in sub_masks]
        sub_names = name_groups([v for _, v in sub_samples], sizes, vocab, calibration.threshold)
        for smask, sn, (sids, svectors), size in zip(sub_masks, sub_names, sub_samples, sizes):
            sid, next_id = next_id, next_id + 1
            rows.append(_row(sid, gid, sn.name, sn.fit, size, newest(smask), sids, svectors))
            group[smask] = sid
    catalog.set_meta("explore_next_id", str(next_id))
    return rows, _rows_of(np.stack([fine.ids, group, top], axis=1))


def _rows_of(members: np.ndarray, chunk: int = 50_000) -> Iterator[tuple[int, int, int]]:
    """The member rows as SQLite takes them, a chunk at a time (a million as Python tuples is 150 MB)."""
    for start in range(0, len(members), chunk):
        yield from map(tuple, members[start : start + chunk].tolist())


def _row(
    gid: int, parent: int | None, name: str, fit: float, size: int, newest: str | None, ids, vectors
) -> tuple:
    """A group row: its centre (the normalised mean of its sample) and the photos most like it as its cover."""
    centre = vectors.mean(axis=0) if len(vectors) else np.zeros(0, np.float32)
    norm = float(np.linalg.norm(centre)) if len(centre) else 0.0
    centre = (centre / norm if norm > 0 else centre).astype(np.float32)
    cover = ids[np.argsort(-(vectors @ centre))[:COVER]] if len(vectors) else []
    return (gid, parent, name, fit, size, newest, ",".join(str(int(i)) for i in cover), centre.tobytes())


# -- what the app and the CLI call -----------------------------------------------------------------------------
def current(
    library: Library,
    catalog: Catalog,
    embedder_for: Callable[[], object],
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Grouping:
    """The library's groups, brought up to date: new photos placed (cheap), or everything grouped again when
    the library changed a lot or has no groups yet (that loads the model, for the names)."""
    if catalog.count() == 0 or catalog.dim is None:  # nothing to group: no model needed
        return regroup(library, catalog, None, None, progress, cancelled)  # type: ignore[arg-type]
    if not needs_regroup(catalog) and update(catalog) >= 0:
        return read(catalog)
    from photofinder.core.find.search import Searcher

    embedder = embedder_for()
    with Searcher(library, embedder) as searcher:
        calibration = searcher.calibration()
    return regroup(library, catalog, Vocabulary.for_embedder(embedder), calibration, progress, cancelled)
