"""Explore's named groups as stored: explore/groups.py decides them, these read and write them."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from photofinder.core.store.catalog.connection import CatalogConnection, chunks


class ExploreGroups(CatalogConnection):
    """Groups, each photo's group, and the days photos were taken (what a group's newest day comes from)."""

    def groups(self) -> list[tuple]:
        """(id, parent, name, fit, count, newest day, cover ids 'a,b,c', centroid bytes) of every group."""
        return self._all(
            "SELECT id, parent, name, fit, n, newest, cover, centroid FROM explore_groups ORDER BY id"
        )

    def group_of(self, photo_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
        """(group, top-level group) by photo id, for those of `photo_ids` that have one."""
        out: dict[int, tuple[int, int]] = {}
        for chunk in chunks([int(i) for i in photo_ids], 500):
            marks = ",".join("?" * len(chunk))
            for r in self._all(
                f"SELECT photo, grp, top FROM explore_members WHERE photo IN ({marks})", chunk
            ):
                out[r[0]] = (r[1], r[2])
        return out

    def group_photo_ids(self, group: int) -> np.ndarray:
        """Ids of the photos in a group (top-level or sub-group), in no particular order; read from an index."""
        row = self._one(
            "SELECT (SELECT group_concat(photo) FROM explore_members WHERE top = ?1), "
            "(SELECT group_concat(photo) FROM explore_members WHERE grp = ?1 AND top != ?1)",
            (int(group),),
        )
        text = ",".join(x for x in (row or ()) if x)
        return np.fromstring(text, dtype=np.int64, sep=",") if text else np.empty(0, np.int64)

    def days(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, day taken as 'YYYY-MM-DD') of every indexed photo, from the day index (no rows read)."""
        row = self._one(
            f"SELECT group_concat(id), group_concat(day, ',') FROM {self._t} INDEXED BY {self._t}_by_day "
            "WHERE status = 'indexed'"
        )
        if not row or not row[0]:
            return np.empty(0, np.int64), np.empty(0, "U10")
        return np.fromstring(row[0], dtype=np.int64, sep=","), np.array(row[1].split(","), "U10")

    def replace_groups(
        self, groups: Iterable[tuple], members: Iterable[tuple[int, int, int]], meta: dict
    ) -> None:
        """Swap in a new grouping in one transaction: groups as in `groups()`, members (photo, group, top)."""
        with self._transaction():
            self._exec("DELETE FROM explore_groups")
            self._exec("DELETE FROM explore_members")
            self._db.executemany("INSERT INTO explore_groups VALUES (?, ?, ?, ?, ?, ?, ?, ?)", groups)
            self._db.executemany("INSERT INTO explore_members VALUES (?, ?, ?)", members)
            for key, value in meta.items():
                self.set_meta(key, str(value))

    def assign_groups(self, members: list[tuple[int, int, int, str | None]], meta: dict) -> None:
        """Put photos into groups (photo, group, top, day), moving those that had one; counts follow."""
        with self._transaction():
            old = self.group_of(m[0] for m in members)
            for photo, grp, top, day in members:
                if photo in old:
                    self._exec(
                        "UPDATE explore_groups SET n = n - 1 WHERE id IN (?, ?)",
                        (old[photo][0], old[photo][1]),
                    )
                self._exec("INSERT OR REPLACE INTO explore_members VALUES (?, ?, ?)", (photo, grp, top))
                self._exec(
                    "UPDATE explore_groups SET n = n + 1, newest = max(coalesce(newest, ''), coalesce(?, '')) "
                    "WHERE id IN (?, ?)",
                    (day, grp, top),
                )
            for key, value in meta.items():
                self.set_meta(key, str(value))
