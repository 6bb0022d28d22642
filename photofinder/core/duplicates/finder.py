"""Duplicate photos, and similar shots. Found without comparing every pair:

1. identical bytes: the same whole-file hash (one SQL query; an old partial fingerprint from schema 1 is never
   trusted, see Catalog.rehash_legacy);
2. candidates from the vector index's nearest neighbours (cosine >= CANDIDATE_SCORE): a batched search of the
   library's own index, the photos' vectors streamed from the catalog as queries (exact up to 50k photos;
   above, the IVF the indexer trained, SCAN_LISTS lists a query), and a RAW file and a JPEG of one name;
3. each candidate pair judged by the pixel rule (likeness.py): the same picture (a copy: re-saved, resized,
   re-compressed, re-tagged, cropped a little) or only a similar shot (a burst or pan frame, a bracket);
4. groups formed around their keeper, never through a chain: the best-ranked photo keeps every photo that is the
   same picture *as itself* (a pan whose neighbouring frames each look alike is not one group).

**Duplicates** are safe to trash: every member is the keeper's picture. **Similar shots** are for the user to
pick from; nothing in them is ever pre-selected.

Nothing is ever deleted here: `trash` checks each file on disk right before sending it to the system trash
(send2trash), leaves anything that fails a check where it is, and forgets what it moved.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from photofinder.core.duplicates.file_check import check_file
from photofinder.core.duplicates.likeness import Signature, Verdict, compare, signature
from photofinder.core.paths import from_db
from photofinder.core.photos.decode import RAW_EXTENSIONS, UnreadableImage
from photofinder.core.store.catalog import Catalog
from photofinder.core.store.library import Library

log = logging.getLogger(__name__)

CANDIDATE_SCORE = 0.90  # cosine of two photo vectors worth a look at the pixels
NEIGHBOURS = 8  # per photo
SCAN_LISTS = 8  # inverted lists an approximate neighbour search scans (a near-copy shares its photo's list)
SIGNATURES = 512  # pixel signatures kept while comparing (147 KB each)
WHOLE_HASH = 64  # hex digits of a whole-file SHA-256; schema 1's partial fingerprints have 32
# Formats that can carry transparency: their signature is read from the file (the cached thumbnail is a JPEG,
# flattened), so a transparent picture is never compared as if it were on white.
ALPHA_EXTENSIONS = frozenset(".png .webp .gif .tif .tiff .avif .heic .heif .jxl".split())


@dataclass
class Member:
    id: int
    path: str
    bytes: int
    width: int | None
    height: int | None
    taken: str | None
    mtime_ns: int
    hash: str | None = None  # the whole-file hash the group was judged on
    link: bool = False  # reached through a symbolic link (the file itself or a folder on its way)
    inode: tuple[int, int] | None = None  # (device, inode) of the file it names
    names: int = 1  # hard links to that file

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)

    def as_json(self) -> dict[str, Any]:
        from photofinder.core.paths import display_path

        return {
            "path": display_path(self.path),
            "bytes": self.bytes,
            "width": self.width,
            "height": self.height,
            "taken": self.taken,
            **({"link": True} if self.link else {}),
        }


@dataclass
class Group:
    members: list[Member]
    keep: Member  # duplicates: the suggestion (never a link), every other member is its picture
    exact: bool  # every member has the same bytes
    why: list[str] = field(default_factory=list)
    similar: bool = False  # similar shots: distinct pictures for the user to choose from, none pre-selected

    @property
    def others(self) -> list[Member]:
        return [m for m in self.members if m is not self.keep]

    @property
    def reclaimable(self) -> int:
        """Bytes the trash would free by taking the others: a link, or a file with other names, frees nothing."""
        seen = {self.keep.inode}
        total = 0
        for m in self.others:
            if m.link or m.names > 1 or m.inode is None or m.inode in seen:
                continue
            seen.add(m.inode)
            total += m.bytes
        return total


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
    info = _members(catalog, ids)
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
    members_of: dict[int, list[Member]] = {}
    for i, m in info.items():
        members_of.setdefault(unit.get(i, i), []).append(m)

    def rank_of(u: int) -> tuple:
        return _rank(suggest_keep(members_of[u], preferred_folder), preferred_folder)

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
        exact = len(hashes) == 1 and _whole(next(iter(hashes)))
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


def _rank(m: Member, preferred_folder: str | None) -> tuple:
    preferred = bool(preferred_folder) and m.path.startswith(preferred_folder.rstrip(os.sep) + os.sep)  # type: ignore[union-attr]
    raw = os.path.splitext(m.path)[1].lower() in RAW_EXTENSIONS
    return (m.link, -m.pixels, not raw, not preferred, m.taken or "9999", m.mtime_ns, -m.bytes, m.path)


def suggest_keep(members: list[Member], preferred_folder: str | None = None) -> Member:
    """The one to keep: never a link when a file itself is there; the most pixels, then a RAW over its JPEG,
    then one in the preferred folder, then the oldest."""
    return min(members, key=lambda m: _rank(m, preferred_folder))


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


# -- the parts ----------------------------------------------------------------------------------------------
def _whole(h: str | None) -> bool:
    return h is not None and len(h) == WHOLE_HASH


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


def shot_key(path: str) -> tuple[tuple[str, str], bool]:
    """((folder, name without extension, lower case), is it RAW): a RAW and a JPEG of one shot share the key."""
    stem, ext = os.path.splitext(path)
    return (os.path.dirname(stem), os.path.basename(stem).lower()), ext.lower() in RAW_EXTENSIONS


def picture_signature(library: Library, path: str, content_hash: str | None) -> Signature | None:
    """What the pixel rule compares: the photo's cached thumbnail (decoded small if missing), or for a format
    that can be transparent, the file itself with its alpha; None when it can't be read."""
    from photofinder.core.photos.thumbnails import THUMB_SIZE, load_thumbnail

    try:
        if os.path.splitext(path)[1].lower() in ALPHA_EXTENSIONS:
            transparent = _transparent_image(path, THUMB_SIZE)
            if transparent is not None:
                return signature(transparent)
        # The thumbnail cache is keyed by content hash: an old partial fingerprint may key another photo's.
        key = content_hash if _whole(content_hash) else None
        return signature(load_thumbnail(path, key, library.thumbs_dir, THUMB_SIZE))
    except (UnreadableImage, OSError, ValueError) as e:
        log.debug("no signature for %s: %s", path, e)
        return None


def _transparent_image(path: str, side: int) -> Any:
    """The picture with its alpha, about `side` px, if the file has transparency; else None."""
    from PIL import Image

    from photofinder.core.photos.decode import MAX_PIXELS
    from photofinder.core.photos.scanner import open_photo

    with os.fdopen(open_photo(path), "rb") as f, Image.open(f) as im:
        if not (im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info):
            return None
        if im.size[0] * im.size[1] > MAX_PIXELS:
            raise UnreadableImage("too large")
        im.seek(0)
        out = im.convert("RGBA")
    factor = min(out.size) // side
    return out.reduce(factor) if factor >= 2 else out


def _members(catalog: Catalog, ids: list[int]) -> dict[int, Member]:
    """The photos as Members, with what the file system says of their names now (links)."""
    out: dict[int, Member] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        rows = catalog._all(
            f"SELECT id, path, size, width, height, taken, mtime_ns, hash FROM photos "
            f"WHERE id IN ({','.join('?' * len(part))}) AND status = 'indexed'",
            part,
        )
        for r in rows:
            m = Member(r[0], from_db(r[1]), r[2], r[3], r[4], r[5], r[6], r[7])
            m.link = os.path.realpath(m.path) != m.path  # library folders are stored resolved
            try:
                st = os.stat(m.path)
                m.inode, m.names = (st.st_dev, st.st_ino), st.st_nlink
            except OSError:
                pass
            out[r[0]] = m
    return out


class Signatures:
    """Pixel signatures of photos (picture_signature), the last `keep` used kept: by content hash, so identical
    files share one, or by path where the hash is an old partial fingerprint (no identity)."""

    def __init__(self, library: Library, keep: int = SIGNATURES):
        self.library, self.keep = library, keep
        self._cache: OrderedDict[str, Signature | None] = OrderedDict()

    def get(self, path: str, content_hash: str | None) -> Signature | None:
        key = content_hash if content_hash and _whole(content_hash) else "path:" + path
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        sig = picture_signature(self.library, path, content_hash)
        self._cache[key] = sig
        while len(self._cache) > self.keep:
            self._cache.popitem(last=False)
        return sig


class _Perceptual:
    """The pixel rule on two photos of the findings, by id."""

    def __init__(self, library: Library, info: dict[int, Member]):
        self.info = info
        self._signatures = Signatures(library)

    def compare(self, a: int, b: int) -> Verdict | None:
        ma, mb = self.info[a], self.info[b]
        sa, sb = self._signatures.get(ma.path, ma.hash), self._signatures.get(mb.path, mb.hash)
        return None if sa is None or sb is None else compare(sa, sb)


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
