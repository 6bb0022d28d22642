"""The catalog's folders: the library's roots, the device each lives on, and forgetting or merging one (its
photos go with it)."""

from __future__ import annotations

import time

from photofinder.core.paths import from_db, to_db
from photofinder.core.store.catalog.connection import CatalogConnection


class Folders(CatalogConnection):
    """The folders a library indexes: added, looked up, removed with their photos, merged into a parent."""

    def folders(self) -> list[str]:
        return sorted(from_db(r[0]) for r in self._all("SELECT path FROM folders"))

    def add_folder(self, path: str) -> None:
        self._exec("INSERT OR IGNORE INTO folders (path, added_at) VALUES (?, ?)", (to_db(path), time.time()))

    def folder_device(self, path: str) -> int | None:
        row = self._one("SELECT dev FROM folders WHERE path = ?", (to_db(path),))
        return row[0] if row else None

    def set_folder_device(self, path: str, dev: int) -> None:
        self._exec("UPDATE folders SET dev = ? WHERE path = ?", (dev, to_db(path)))

    def remove_folder(self, path: str) -> list[int]:
        """Forget a folder and every photo found under it; returns the ids of the photos forgotten."""
        with self._transaction():
            self._exec("DELETE FROM folders WHERE path = ?", (to_db(path),))
            ids = [r[0] for r in self._all(f"SELECT id FROM {self._t} WHERE folder = ?", (to_db(path),))]
            if ids:
                self._bump()  # first: the deletion log stamps rows with the new generation
                self._exec(f"DELETE FROM {self._t} WHERE folder = ?", (to_db(path),))
            if not self.staged:  # a rebuild in progress forgets the folder too
                self._bump("staged_")
                self._exec("DELETE FROM staged WHERE folder = ?", (to_db(path),))
        return ids

    def merge_folder(self, child: str, parent: str) -> None:
        """`child` lies inside `parent`: its photos now belong to `parent`, and it stops being a folder of its own."""
        with self._transaction():
            for table in ("photos", "staged"):
                self._exec(f"UPDATE {table} SET folder = ? WHERE folder = ?", (to_db(parent), to_db(child)))
            self._exec("DELETE FROM folders WHERE path = ?", (to_db(child),))
