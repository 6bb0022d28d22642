"""The photos of a duplicate group as the finder, the trash and hidden results see them, and which one to keep."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from photofinder.core.paths import from_db
from photofinder.core.photos.decode import RAW_EXTENSIONS
from photofinder.core.store.catalog import Catalog

WHOLE_HASH = 64  # hex digits of a whole-file SHA-256; schema 1's partial fingerprints have 32


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


def keep_rank(m: Member, preferred_folder: str | None) -> tuple:
    """Sorts the best one to keep first (suggest_keep)."""
    preferred = bool(preferred_folder) and m.path.startswith(preferred_folder.rstrip(os.sep) + os.sep)  # type: ignore[union-attr]
    raw = os.path.splitext(m.path)[1].lower() in RAW_EXTENSIONS
    return (m.link, -m.pixels, not raw, not preferred, m.taken or "9999", m.mtime_ns, -m.bytes, m.path)


def suggest_keep(members: list[Member], preferred_folder: str | None = None) -> Member:
    """The one to keep: never a link when a file itself is there; the most pixels, then a RAW over its JPEG,
    then one in the preferred folder, then the oldest."""
    return min(members, key=lambda m: keep_rank(m, preferred_folder))


def is_whole(h: str | None) -> bool:
    return h is not None and len(h) == WHOLE_HASH


def shot_key(path: str) -> tuple[tuple[str, str], bool]:
    """((folder, name without extension, lower case), is it RAW): a RAW and a JPEG of one shot share the key."""
    stem, ext = os.path.splitext(path)
    return (os.path.dirname(stem), os.path.basename(stem).lower()), ext.lower() in RAW_EXTENSIONS


def read_members(catalog: Catalog, ids: list[int]) -> dict[int, Member]:
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
